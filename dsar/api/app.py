"""The HTTP application served by `dsar serve`: the staff API (/api), the web console, and intake (/intake)."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from dsar import logs
from dsar.api import errors
from dsar.api.intake import router as intake_router
from dsar.clock import Clock
from dsar.db import upgrade


def create_app(*, clock: Clock | None = None) -> FastAPI:
    """`clock`: tests pass a fixed clock; otherwise the real one (or DSAR_CLOCK_FILE's simulated one)."""
    from dsar.api import admin, attachments, audit_routes, cases, corrections, notices, orgs, verification_routes
    from dsar.web import router as console_router

    logs.configure()
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):  # when uvicorn set up handlers of its own
        logs.guard_logger(logging.getLogger(name))
    upgrade()
    app = FastAPI(title="dsar", description="개인정보 열람·정정·삭제·처리정지 요구 처리 API", version="0.1.0")
    app.state.clock = clock
    errors.install(app)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(intake_router)
    for module in (cases, notices, attachments, corrections, audit_routes, orgs, admin, verification_routes):
        app.include_router(module.router)
    app.include_router(console_router)

    return app
