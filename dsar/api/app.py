"""The HTTP application served by `dsar serve`."""

from __future__ import annotations

import hmac

from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse

from dsar.clock import SystemClock
from dsar.db import session_scope, upgrade
from dsar.errors import DsarError
from dsar.intake import service
from dsar.settings import get_settings

MAX_BODY = 40 * 1024 * 1024
STATUS = {"not_found": 404, "invalid_input": 400, "intake_invalid": 400, "conflict": 409,
          "transition_not_allowed": 409, "guard_failed": 422, "unauthorised": 401, "too_large": 413}


def create_app() -> FastAPI:
    upgrade()
    app = FastAPI(title="dsar", description="개인정보 열람·정정·삭제·처리정지 요구 처리 API", version="0.1.0")

    @app.exception_handler(DsarError)
    async def _dsar_error(_: Request, exc: DsarError) -> JSONResponse:
        status = STATUS.get(exc.code, 500 if exc.code == "error" else 400)
        return JSONResponse({"error": exc.to_dict()}, status_code=status)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/intake/email", status_code=202)
    async def intake_email(request: Request, x_dsar_token: str = Header("")) -> JSONResponse:
        """Raw RFC 5322 message in the body; stored before anything else, then processed by the intake queue."""
        token = get_settings().webhook_token
        if not token or not hmac.compare_digest(x_dsar_token, token):
            return _error(401, "unauthorised", "X-DSAR-Token이 없거나 맞지 않습니다 (set DSAR_WEBHOOK_TOKEN)")
        raw = await request.body()
        if not raw:
            return _error(400, "empty_message", "본문이 비어 있습니다: 원본 메시지(RFC 5322)를 보내세요")
        if len(raw) > MAX_BODY:
            return _error(413, "too_large", f"메시지가 {MAX_BODY // 1024 // 1024} MB를 넘습니다")
        with session_scope() as session:
            inbound, created = service.store(session, raw, source="webhook", clock=SystemClock())
        if created:
            from tasks.intake import process_inbound

            process_inbound.delay(inbound.id)
        return JSONResponse({"inbound_id": inbound.id, "created": created}, status_code=202)

    return app


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)
