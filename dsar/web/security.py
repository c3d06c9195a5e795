"""Who is signed in to the console, and the CSRF check every console form post passes."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from dsar.api.deps import ClockDep, SessionDep, cookie_principal
from dsar.auth import sessions
from dsar.auth.roles import Forbidden, Principal, Unauthenticated
from dsar.web.pages import FLASH_COOKIE, set_cookie


def console_principal(request: Request, session: SessionDep, clock: ClockDep) -> Principal:
    """The console signs in by cookie only (API tokens are for machine clients)."""
    principal = cookie_principal(request, session, clock)
    if principal is None:
        raise Unauthenticated("로그인이 필요합니다 (sign in)")
    request.state.principal = principal
    return principal


async def checked_form(request: Request) -> FormData:
    """The posted form, once its hidden `csrf_token` matches the signed CSRF cookie (double submit)."""
    form = await request.form()
    submitted = form.get("csrf_token")
    token = submitted if isinstance(submitted, str) else None
    if not sessions.csrf_ok(request.cookies.get(sessions.CSRF_COOKIE), token):
        raise Forbidden("보안 토큰(CSRF)이 맞지 않습니다: 페이지를 새로 고친 뒤 다시 시도하세요 (CSRF check failed)")
    return form


ConsolePrincipal = Annotated[Principal, Depends(console_principal)]
CheckedForm = Annotated[FormData, Depends(checked_form)]


def flash(response: Response, message: str, kind: str = "error") -> Response:
    """A one-time message shown on the next page (after a redirect; `pages.page` shows it and clears it)."""
    set_cookie(response, FLASH_COOKIE, quote(f"{kind}:{message}"[:600]), max_age=60)
    return response


def text(form: FormData, name: str) -> str | None:
    """A form field as trimmed text (None when empty); NUL characters, which no database text holds, dropped."""
    value = form.get(name)
    return value.replace("\x00", "").strip() or None if isinstance(value, str) else None
