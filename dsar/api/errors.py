"""Every error leaves the application in one shape: `{"error": {"code", "message", ...context}}`.

Domain code raises `DsarError` subclasses with a stable code and never an HTTP error; this module maps codes to
statuses. Console pages (HTML) get the same message on an error page instead, and a sign-in page when the
visitor is not signed in.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from dsar.errors import DsarError

log = logging.getLogger(__name__)

STATUS = {
    "not_found": 404, "invalid_input": 422, "policy_invalid": 422, "workflow_invalid": 422, "intake_invalid": 400,
    "conflict": 409, "transition_not_allowed": 409, "guard_failed": 422, "unauthorised": 401,
    "unauthenticated": 401, "forbidden": 403, "too_large": 413, "service_unavailable": 503,
    "delivery_failed": 503,
}
HTTP_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 406: "not_acceptable", 409: "conflict", 413: "too_large",
              415: "unsupported_media_type", 422: "invalid_input", 429: "too_many_requests"}
HTTP_MESSAGES = {404: "그런 주소가 없습니다 (not found)",
                 405: "이 주소에서 쓸 수 없는 메서드입니다 (method not allowed)"}
_API_PREFIXES = ("/api/", "/intake/", "/openapi.json", "/healthz", "/docs", "/redoc")


def error_response(http_status: int, code: str, message: str, context: dict[str, Any] | None = None) -> JSONResponse:
    body = {**(context or {}), "code": code, "message": message}
    return JSONResponse(jsonable_encoder({"error": body}), status_code=http_status)


def is_console(request: Request) -> bool:
    return not request.url.path.startswith(_API_PREFIXES)


def _respond(request: Request, http_status: int, code: str, message: str, context: dict[str, Any] | None = None
             ) -> Response:
    if is_console(request):
        from dsar.web.pages import error_page

        return error_page(request, http_status, code, message)
    return error_response(http_status, code, message, context)


def install(app: FastAPI) -> None:
    @app.exception_handler(DsarError)
    async def _dsar_error(request: Request, exc: DsarError) -> Response:
        status = STATUS.get(exc.code, 500 if exc.code == "error" else 400)
        context = {k: v for k, v in exc.to_dict().items() if k not in ("code", "message")}
        return _respond(request, status, exc.code, exc.message, context)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = HTTP_CODES.get(exc.status_code, "error")
        message = HTTP_MESSAGES.get(exc.status_code) or str(exc.detail)
        response = _respond(request, exc.status_code, code, message)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        fields = [{"loc": [str(p) for p in e.get("loc", ())], "message": str(e.get("msg", ""))}
                  for e in exc.errors()]
        where = ", ".join(".".join(f["loc"][1:] or f["loc"]) for f in fields[:5])
        message = f"요청 값이 올바르지 않습니다: {where} (invalid input)"
        return _respond(request, 422, "invalid_input", message, {"fields": fields})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        message = "서버 오류가 났습니다: 잠시 뒤 다시 시도하고, 계속되면 관리자에게 알리세요 (internal error)"
        return _respond(request, 500, "internal", message)
