"""Rendering console pages: one Jinja environment (autoescape on, StrictUndefined), security headers, the
CSRF cookie every form repeats, and the error page."""

from __future__ import annotations

import functools
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from dsar.auth import sessions
from dsar.auth.roles import ROLE_LABELS
from dsar.letters.filters import FILTERS
from dsar.settings import get_settings

# No inline scripts; styles inline; notice previews come from our own origin in a sandboxed frame.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "frame-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")


def d_day_badge(days_left: int | None, closed: bool = False) -> Markup:
    """D-3 / D-day / "기한 초과" (red) for an open case; nothing for a closed one."""
    if days_left is None or closed:
        return Markup("")
    if days_left < 0:
        return Markup(f'<span class="badge overdue" title="{-days_left}일 지남">기한 초과 D+{-days_left}</span>')
    level = "today" if days_left == 0 else "soon" if days_left <= 3 else "later"
    text = "D-day" if days_left == 0 else f"D-{days_left}"
    return Markup(f'<span class="badge {level}">{text}</span>')


def line_ranges(lines: list[int]) -> str:
    """[144, 145, 146, 150] → "144–146, 150": the policy lines a fact was read from."""
    out: list[str] = []
    for n in sorted(set(lines)):
        if out and n == int(out[-1].split("–")[-1]) + 1:
            out[-1] = f"{out[-1].split('–')[0]}–{n}"
        else:
            out.append(str(n))
    return ", ".join(out)


def kdate(value: date | datetime | str | None, weekday: bool = False) -> str:
    """A date, a datetime (in Seoul) or an ISO date kept in JSON (e.g. the internal target) as 2026년 12월 3일."""
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return "-" if value is None else FILTERS["korean_date"](value, weekday)


def kdatetime(value: datetime | None) -> str:
    if value is None:
        return "-"
    from dsar.calendar_kr import KST

    return value.astimezone(KST).strftime("%Y-%m-%d %H:%M")


@functools.lru_cache(maxsize=4)
def _environment(folder: Path) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(folder)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update({"nl2br": FILTERS["nl2br"], "phone": FILTERS["phone"],
                        "channel_label": FILTERS["channel_label"], "kdate": kdate, "kdatetime": kdatetime,
                        "badge": d_day_badge, "line_ranges": line_ranges})
    env.globals["ROLE_LABELS"] = ROLE_LABELS
    return env


def environment() -> jinja2.Environment:
    return _environment(get_settings().templates_dir / "web")


def csrf_token(request: Request) -> tuple[str, bool]:
    """The visitor's CSRF token, and whether it is new (then the cookie must be set)."""
    token = sessions.csrf_from_cookie(request.cookies.get(sessions.CSRF_COOKIE))
    return (token, False) if token else (sessions.new_csrf_token(), True)


def set_cookie(response: Response, name: str, value: str, *, max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="lax", path="/",
                        secure=get_settings().secure_cookies)


FLASH_COOKIE = "dsar_flash"  # a one-time message for the next page (security.flash sets it)


def page(request: Request, template: str, *, status: int = 200, csrf: str | None = None, **values: Any) -> Response:
    """Render templates/web/<template> with the common values (`me`, `csrf_token`, `path`, and the one-time
    `flash` message the previous action left, which is shown here once and cleared)."""
    token, new = (csrf, True) if csrf else csrf_token(request)
    values.setdefault("me", getattr(request.state, "principal", None))
    values.setdefault("flash", _flash(request))
    html = environment().get_template(template).render(csrf_token=token, path=request.url.path, **values)
    response = HTMLResponse(html, status_code=status, headers=security_headers())
    if new:
        set_cookie(response, sessions.CSRF_COOKIE, sessions.sign_csrf(token))
    if request.cookies.get(FLASH_COOKIE):
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def _flash(request: Request) -> dict[str, str] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    kind, _, message = unquote(raw).partition(":")
    return {"kind": kind if kind in ("error", "ok") else "error", "message": message}


def security_headers() -> dict[str, str]:
    return {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
            "Cache-Control": "no-store", "X-Frame-Options": "DENY"}


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


def error_page(request: Request, status: int, code: str, message: str) -> Response:
    if status == 401:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect(f"/login?next={quote(target, safe='')}")
    titles = {403: "권한이 없습니다", 404: "찾을 수 없습니다", 409: "처리할 수 없습니다", 422: "입력을 확인하세요"}
    return page(request, "error.html.j2", status=status, title=titles.get(status, "오류"), code=code,
                message=message)
