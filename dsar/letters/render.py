"""The one helper every notice and staff e-mail goes through.

Two template files per kind, `<base>.txt.j2` and `<base>.html.j2`. The text template sets `subject` at its
top level; the HTML template receives it. Templates are found in an organisation's override folder first
(same file names), then in the repository's templates/. Rendering is deterministic: same context, same
templates → same bytes, hence the same `sha256`; `template_version` fingerprints the template sources used
(layouts and macro files included), so a stored notice says which wording produced it.
"""

from __future__ import annotations

import functools
import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import meta

import dsar
from dsar.errors import InvalidInput, NotFound
from dsar.letters.catalog import NOTICE_KINDS, NoticeKind
from dsar.letters.context import DEFAULT_COMPLAINT_BODIES, NoticeContext
from dsar.letters.filters import FILTERS

DEFAULT_TEMPLATES_DIR = Path(dsar.__file__).resolve().parent.parent / "templates"


@dataclass(frozen=True)
class Rendered:
    """A rendered notice, ready to store, send and hash."""

    kind: str
    subject: str
    html: str
    text: str
    sha256: str  # of html, a NUL byte, and text, UTF-8
    template_version: str  # first 12 hex of the sha256 over the template sources used
    context_json: str  # NoticeContext.to_json() of the context it was rendered from


class _RecordingLoader(jinja2.FileSystemLoader):
    """A FileSystemLoader that remembers, for each template it loads, its source hash and the templates it
    names ({% extends/import/include %}), so the version of a rendered notice can be computed."""

    def __init__(self, searchpath: list[Path]) -> None:
        super().__init__([str(p) for p in searchpath], encoding="utf-8")
        self.loaded: dict[str, tuple[str, tuple[str, ...]]] = {}

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Any]:
        source, filename, uptodate = super().get_source(environment, template)
        names = meta.find_referenced_templates(environment.parse(source))
        deps = tuple(sorted(n for n in names if n is not None))  # None: a computed name, not followed
        self.loaded[template] = (hashlib.sha256(source.encode()).hexdigest(), deps)
        return source, filename, _checked_every(RELOAD_CHECK_SECONDS, uptodate)


RELOAD_CHECK_SECONDS = 1.0  # an edited template is used within this time; no file is looked at more often


def _checked_every(seconds: float, uptodate: Callable[[], bool]) -> Callable[[], bool]:
    """Jinja asks whether a template file changed at every use; one stat per file per second is enough (a
    batch of notices would otherwise stat every template file for every notice)."""
    checked = time.monotonic()

    def throttled() -> bool:
        nonlocal checked
        now = time.monotonic()
        if now - checked < seconds:
            return True
        checked = now
        return uptodate()

    return throttled


def _refuse_none(value: object) -> object:
    """`{{ x }}` with x None would print "None" in a letter: fail loudly instead."""
    if value is None:
        raise jinja2.UndefinedError("a template printed None; guard the optional field with {% if %}")
    return value


def _autoescape(name: str | None) -> bool:
    return name is not None and name.endswith(".html.j2")


@functools.lru_cache(maxsize=32)
def _environment(override_dir: Path | None, templates_dir: Path) -> jinja2.Environment:
    search = [templates_dir] if override_dir is None else [override_dir, templates_dir]
    env = jinja2.Environment(
        loader=_RecordingLoader(search),
        undefined=jinja2.StrictUndefined,
        autoescape=_autoescape,
        finalize=_refuse_none,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=True,
    )
    env.filters.update(FILTERS)
    env.globals["default_complaint_bodies"] = DEFAULT_COMPLAINT_BODIES
    return env


def environment(*, override_dir: Path | None = None, templates_dir: Path | None = None) -> jinja2.Environment:
    """The cached Jinja environment for these folders (also used by the benchmark as the floor)."""
    return _environment(_resolved(override_dir), _resolved(templates_dir) or DEFAULT_TEMPLATES_DIR)


def _resolved(path: Path | None) -> Path | None:
    return None if path is None else Path(path).resolve()


def template_vars(spec: NoticeKind, context: NoticeContext) -> dict[str, Any]:
    """What a template sees: the context's fields, plus the kind, its title, and a few derived values."""
    values: dict[str, Any] = {f.name: getattr(context, f.name) for f in fields(context)}
    outcome = context.decision.outcome if context.decision else None
    days_left = context.days_left
    if days_left is None and context.case is not None:
        days_left = (context.case.due_date - context.notice_date).days
    values.update(
        kind=spec, title=spec.title, adverse=spec.is_adverse(outcome), outcome=outcome, days_left=days_left
    )
    return values


def render_notice(
    kind: str, context: NoticeContext, *, override_dir: Path | None = None, templates_dir: Path | None = None
) -> Rendered:
    """Render one notice (subject, HTML, text) for `kind` from `context`.

    Raises InvalidInput when the kind is unknown, the context lacks what the kind needs, or a template uses a
    value the context does not have; NotFound when a template file is missing from both folders.
    """
    spec = NOTICE_KINDS.get(kind)
    if spec is None:
        raise InvalidInput(f"unknown notice kind {kind!r}; known kinds: {', '.join(NOTICE_KINDS)}", kind=kind)
    spec.check(context)
    env = environment(override_dir=override_dir, templates_dir=templates_dir)
    values = template_vars(spec, context)
    try:
        module = env.get_template(f"{spec.template}.txt.j2").make_module(values)
        subject = " ".join(str(getattr(module, "subject", "")).split())
        if not subject:
            raise InvalidInput(f"{spec.template}.txt.j2 must set `subject` at its top level", kind=kind)
        text = _tidy_text(str(module))
        spec.check_printed(context, text)
        html = env.get_template(f"{spec.template}.html.j2").render(values, subject=subject)
        version = _version(env, spec)
    except jinja2.TemplateNotFound as exc:
        raise NotFound(
            f"template {exc.name} not found in {_folders(env)}; restore it or add it to the "
            "organisation's override folder",
            kind=kind,
            template=exc.name,
        ) from None
    except jinja2.TemplateError as exc:
        where = f" ({exc.filename}:{exc.lineno})" if isinstance(exc, jinja2.TemplateSyntaxError) else ""
        raise InvalidInput(f"notice {kind!r} could not be rendered{where}: {exc}", kind=kind) from exc
    digest = hashlib.sha256(html.encode() + b"\0" + text.encode()).hexdigest()
    return Rendered(
        kind=kind,
        subject=subject,
        html=html,
        text=text,
        sha256=digest,
        template_version=version,
        context_json=context.to_json(),
    )


def _version(env: jinja2.Environment, spec: NoticeKind) -> str:
    loader = env.loader
    assert isinstance(loader, _RecordingLoader)
    todo = [f"{spec.template}.txt.j2", f"{spec.template}.html.j2"]
    seen: dict[str, str] = {}
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        if name not in loader.loaded:
            env.get_template(name)  # named but not reached in this render (e.g. an include behind an if)
        digest, deps = loader.loaded[name]
        seen[name] = digest
        todo.extend(deps)
    joined = "\n".join(f"{name} {digest}" for name, digest in sorted(seen.items()))
    return hashlib.sha256(joined.encode()).hexdigest()[:12]


def _folders(env: jinja2.Environment) -> str:
    loader = env.loader
    return ", ".join(loader.searchpath) if isinstance(loader, jinja2.FileSystemLoader) else "?"


_BLANK_RUNS = re.compile(r"\n{3,}")
_TRAILING = re.compile(r"[ \t]+$", re.MULTILINE)


def _tidy_text(text: str) -> str:
    """Plain text: no trailing spaces, at most one blank line in a row, one final newline."""
    return _BLANK_RUNS.sub("\n\n", _TRAILING.sub("", text)).strip("\n") + "\n"
