"""The intake channels over HTTP: the inbound-mail webhook, the web form (JSON and HTML) and staff entry.

    POST /intake/email   raw RFC 5322, or an inbound-mail service's JSON; X-DSAR-Token or X-DSAR-Signature
    POST /intake/web     the web form as JSON (public)
    GET  /intake/form    the web form page (?org=<slug>); POST /intake/form is its handler
    POST /intake/staff   a request taken by phone, letter, visit or fax (X-DSAR-Token for now)

Whatever arrives is stored raw (web requests as a real MIME message) and committed before anything else.
Every refusal is a 4xx with {"error": {"code", "message"}}, the message in Korean with English in brackets;
a database that cannot be reached is a 503 (try again), never a 500.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import date
from email import policy
from email.parser import BytesParser
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select
from starlette.requests import ClientDisconnect

from dsar import engine
from dsar.clock import SystemClock
from dsar.db import reserve_ids, session_scope
from dsar.errors import DsarError, IntakeError, ServiceUnavailable
from dsar.intake import service, staff, webform
from dsar.intake.group_commit import GroupCommit
from dsar.models import Organisation, RouteAddress
from dsar.models import Request as Case
from dsar.rights import Right
from dsar.settings import get_settings
from dsar.workflow.registry import latest_version

log = logging.getLogger(__name__)
router = APIRouter(prefix="/intake", tags=["intake"])

MAX_MAIL_BYTES = 40 * 1024 * 1024  # a 25 MB message with attachments, base64-encoded inside JSON
MAX_FORM_BYTES = 15 * 1024 * 1024  # the form and its one 10 MB attachment
MAX_STAFF_BYTES = 1024 * 1024
RAW_TYPES = {"message/rfc822", "text/plain", "application/octet-stream"}


class Refusal(Exception):
    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra

    def response(self) -> JSONResponse:
        headers = {"Retry-After": "30"} if self.status == 503 else None
        return JSONResponse({"error": {"code": self.code, "message": self.message, **self.extra}},
                            status_code=self.status, headers=headers)


def _refusal_of(exc: DsarError, status: int) -> Refusal:
    extra = {k: v for k, v in exc.context.items() if k != "reason"}
    return Refusal(status, str(exc.context.get("reason") or exc.code), exc.message, **extra)


async def _body(request: Request, limit: int) -> bytes:
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise Refusal(413, "too_large", f"본문이 {limit // 1024 // 1024} MB를 넘습니다. 첨부를 줄여 다시 보내세요 "
                      f"(body larger than {limit // 1024 // 1024} MB)")
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise Refusal(413, "too_large", f"본문이 {limit // 1024 // 1024} MB를 넘습니다. 첨부를 줄여 다시 "
                              f"보내세요 (body larger than {limit // 1024 // 1024} MB)")
            chunks.append(chunk)
    except ClientDisconnect:
        raise Refusal(400, "incomplete_body", "본문을 받는 중에 연결이 끊겼습니다 (client disconnected)") from None
    return b"".join(chunks)


def _authorise(request: Request, body: bytes | None) -> None:
    """X-DSAR-Token equal to the webhook token, or X-DSAR-Signature: sha256=<HMAC-SHA256 of the body>.

    With `body` None only the token is checked (before the body is read); a signature waits for the body."""
    token = get_settings().webhook_token
    if not token:
        raise Refusal(403, "webhook_disabled", "수신 웹훅이 꺼져 있습니다: DSAR_WEBHOOK_TOKEN을 설정하세요 "
                      "(webhook disabled: set DSAR_WEBHOOK_TOKEN)")
    given = request.headers.get("x-dsar-token", "")
    signature = request.headers.get("x-dsar-signature", "")
    if given and hmac.compare_digest(given.encode(), token.encode()):
        return
    if signature and not given:
        if body is None:
            return  # checked once the body is read
        algo, _, digest = signature.strip().partition("=")
        expected = hmac.new(token.encode(), body, hashlib.sha256).hexdigest()
        if algo.lower() == "sha256" and hmac.compare_digest(digest.strip().lower().encode(), expected.encode()):
            return
    raise Refusal(401, "unauthorised", "인증에 실패했습니다: X-DSAR-Token 또는 X-DSAR-Signature(sha256=<HMAC>)가 "
                  "없거나 맞지 않습니다 (missing or wrong token/signature)")


def _json(body: bytes) -> Any:
    if not body.strip():
        raise Refusal(400, "empty_body", "본문이 비어 있습니다 (empty body)")
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise Refusal(400, "bad_json", f"JSON을 읽을 수 없습니다: {str(exc)[:120]} (invalid JSON)") from None


def _db_down(exc: Exception) -> Refusal:
    log.error("intake: database unavailable: %s", exc)
    return Refusal(503, "service_unavailable", "데이터베이스에 연결할 수 없어 지금은 받을 수 없습니다. 잠시 후 다시 "
                   "보내 주세요 (database unavailable, retry later)")


# -- the mail webhook -----------------------------------------------------------------------------------------


def _store_and_queue(messages: list[tuple[bytes, str]]) -> list[tuple[int, bool, str]]:
    """Store a group of messages in one transaction, then queue the ones waiting for processing as one batch
    (new ones, and earlier copies the broker never got)."""
    from tasks.intake import enqueue

    with session_scope() as session:
        stored = service.store_many(session, messages, clock=SystemClock())
    waiting = list(dict.fromkeys(row.id or 0 for row, _ in stored if row.status == "stored"))
    try:
        enqueue(waiting)
    except Exception:  # inline (eager) processing failed: the messages are stored, requeue_stored retries
        log.exception("intake: processing of %d inbound messages failed; they stay stored", len(waiting))
    return [(row.id or 0, created, row.status) for row, created in stored]


@functools.cache
def _mail_group() -> GroupCommit[tuple[bytes, str], tuple[int, bool, str]]:
    return GroupCommit(_store_and_queue, max_group=get_settings().intake_batch_size)


@router.post("/email", status_code=202)
async def intake_email(request: Request) -> JSONResponse:
    """Take one message from the mail system: stored, committed, then queued for processing (202)."""
    try:
        _authorise(request, None)
        body = await _body(request, MAX_MAIL_BYTES)
        _authorise(request, body)
        if not body.strip():
            raise Refusal(400, "empty_body", "본문이 비어 있습니다: 원본 메시지(RFC 5322)나 JSON을 보내세요 "
                          "(empty body: send the raw message or the JSON shape)")
        ctype = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if ctype == "application/json" or ctype.endswith("+json"):
            now = SystemClock().now()
            try:
                raw = webform.message_from_json(_json(body), received_at=now,
                                                body_sha256=hashlib.sha256(body).hexdigest())
            except IntakeError as exc:
                raise _refusal_of(exc, 400) from None
        elif ctype in RAW_TYPES or not ctype:
            raw = body
        else:
            raise Refusal(415, "unsupported_media_type", f"Content-Type '{ctype}'은(는) 받을 수 없습니다: "
                          "message/rfc822, text/plain, application/octet-stream 또는 application/json으로 보내세요 "
                          "(unsupported Content-Type)")
        try:
            inbound_id, created, status = await _mail_group().submit((raw, "webhook"))
        except (SQLAlchemyError, ServiceUnavailable) as exc:
            raise _db_down(exc) from None
    except Refusal as refusal:
        return refusal.response()
    return JSONResponse({"inbound_id": inbound_id, "created": created, "status": status}, status_code=202)


# -- the web form ---------------------------------------------------------------------------------------------


@dataclass
class WebOutcome:
    inbound_id: int
    created: bool
    status: str
    cases: list[str]
    due: str | None
    org_name: str

    def as_dict(self) -> dict[str, Any]:
        return {"inbound_id": self.inbound_id, "created": self.created, "status": self.status,
                "request_id": self.cases[0] if self.cases else None, "cases": self.cases, "due": self.due}


def _intake_address(session: Session, org_slug: str) -> tuple[Organisation, str]:
    org = session.exec(select(Organisation).where(Organisation.slug == org_slug)).first()
    if org is None:
        raise IntakeError(f"기관 '{org_slug}'을(를) 찾을 수 없습니다. 주소의 org 값을 확인하세요 (unknown org)",
                          reason="unknown_org", field="org")
    routes = [r.address for r in session.exec(
        select(RouteAddress).where(RouteAddress.org_id == org.id).order_by(col(RouteAddress.id)))]
    exact = [r for r in routes if not r.startswith("@")]
    address = exact[0] if exact else (f"privacy{routes[0]}" if routes else None)
    if address is None:
        raise IntakeError(f"기관 '{org_slug}'에 접수 주소가 설정되어 있지 않아 신청을 받을 수 없습니다. 기관의 "
                          "처리방침을 다시 등록하세요 (organisation has no intake address)",
                          reason="unknown_org", field="org")
    return org, address


WebItem = tuple[webform.WebRequest, str | None, str | None]  # the request, the client address, its Idempotency-Key


def _take_web(items: list[WebItem]) -> list[WebOutcome | IntakeError]:
    """Store a group of web requests as messages in one transaction and answer each with its case numbers and
    due date. A request for an unknown organisation fails alone.

    On PostgreSQL the cases' ids are drawn from the sequence before the messages are stored, so the numbers are
    known at once: each message carries its reserved ids (`webform.form_rights`), is queued like mail, and
    the workers open its cases with those numbers in their own batches. Without a sequence (SQLite, the small
    set-up) the group is processed here before the answer."""
    clock = SystemClock()
    orgs: dict[str, tuple[Organisation, str]] = {}
    out: list[WebOutcome | IntakeError] = []
    taken: list[tuple[webform.WebRequest, str | None, str | None, WebOutcome]] = []
    with session_scope() as session:
        for req, client, key in items:
            try:
                if req.org not in orgs:
                    orgs[req.org] = _intake_address(session, req.org)
            except IntakeError as exc:  # this request alone is refused (422)
                out.append(exc)
                continue
            outcome = WebOutcome(0, False, "stored", [], None, orgs[req.org][0].name)
            out.append(outcome)
            taken.append((req, client, key, outcome))
        if not taken:
            return out
        for item in list(taken):
            refused = _not_offered(session, orgs[item[0].org][0], item[0].rights)
            if refused is not None:  # this request alone is refused (422)
                out[next(i for i, o in enumerate(out) if o is item[3])] = refused
                taken.remove(item)
        if not taken:
            return out
        ids = reserve_ids(session, Case, sum(len(req.rights) for req, *_ in taken))
        fresh = iter(ids or [])
        messages = []
        for req, client, key, _outcome in taken:
            raw = webform.message_from_web(req, to=orgs[req.org][1], received_at=clock.now(),
                                           message_id=webform.web_message_id(key), client=client,
                                           case_ids=[next(fresh) for _ in req.rights] if ids else None)
            messages.append((raw, "web"))
        stored = service.store_many(session, messages, clock=clock)
        for (req, _client, _key, outcome), (inbound, created) in zip(taken, stored, strict=True):
            outcome.inbound_id, outcome.created, outcome.status = inbound.id or 0, created, inbound.status
            reserved = {r: i for r, i in webform.form_rights(inbound.raw).items() if i is not None} if ids else {}
            if reserved:  # (for a repeat, the first submission's numbers)
                received_at = service.stamped_arrival(inbound)
                outcome.cases = [engine.case_number(received_at, i) for i in reserved.values()]
                due = engine.expected_due(session, orgs[req.org][0], next(iter(reserved)), received_at, clock)
                outcome.due = due.isoformat() if due else None
        done = [o.inbound_id for *_, o in taken if not o.cases and o.status != "stored"]
        if ids and done:  # repeats of requests stored without reserved ids, opened since: as they were opened
            opened = service.opened(session, done)
            for *_, o in taken:
                if o.inbound_id in opened:
                    o.status, o.cases, o.due = opened[o.inbound_id]
    waiting = list(dict.fromkeys(o.inbound_id for *_, o in taken if o.status == "stored"))
    if ids:
        _queue(waiting)
    else:
        _process_here(waiting, [o for *_, o in taken])
    return out


def _not_offered(session: Session, org: Organisation, rights: list[str]) -> IntakeError | None:
    """A right the organisation's workflow does not have (the form page offers only those it has; the JSON
    endpoint is told so here, before anything is stored)."""
    version = latest_version(session, org.id) if org.id is not None else None
    missing = [r for r in rights if version is None or r not in version.definition.get("workflows", {})]
    if not missing:
        return None
    return IntakeError(f"{org.name}은(는) {', '.join(missing)} 요구를 이 신청서로 받지 않습니다. 처리방침에 있는 요구 "
                       "종류를 고르세요 (right not offered by this organisation)", reason="bad_value", field="right")


def _queue(inbound_ids: list[int]) -> None:
    from tasks.intake import enqueue

    try:
        enqueue(inbound_ids)
    except Exception:  # inline (eager) processing failed: the messages are stored, requeue_stored retries
        log.exception("intake: processing of %d web requests failed; they stay stored", len(inbound_ids))


def _process_here(inbound_ids: list[int], outcomes: list[WebOutcome]) -> None:
    """Open the group's cases before answering (no ids could be reserved) and hand their acknowledgements to the
    outbox; if processing fails the messages stay stored and are queued, and the answer has no numbers."""
    from tasks.intake import BROKER_DOWN, process_locked
    from tasks.notices import queue_delivery

    try:
        with session_scope() as session:
            notice_ids = process_locked(session, inbound_ids)
            opened = service.opened(session, [o.inbound_id for o in outcomes])
            for outcome in outcomes:
                outcome.status, outcome.cases, outcome.due = opened[outcome.inbound_id]
    except Exception:
        log.exception("intake: %d web requests stored but not processed; queued", len(inbound_ids))
        _queue(inbound_ids)
        for outcome in outcomes:
            outcome.status, outcome.cases, outcome.due = "stored", [], None
        return
    try:
        queue_delivery(notice_ids)
    except BROKER_DOWN:  # the notices stay queued; sweep_outbox sends them
        log.warning("intake: broker down, %d notices left for sweep_outbox", len(notice_ids))


@functools.cache
def _web_group() -> GroupCommit[WebItem, WebOutcome | IntakeError]:
    return GroupCommit(_take_web, max_group=get_settings().intake_batch_size)


@router.post("/web", status_code=201)
async def intake_web(request: Request) -> JSONResponse:
    """The web form as JSON. 201 with the case numbers and due date; 200 when the same Idempotency-Key
    was already taken."""
    try:
        body = await _body(request, MAX_FORM_BYTES)
        try:
            req = webform.parse_web_request(_json(body))
        except IntakeError as exc:
            raise _refusal_of(exc, 400 if exc.context.get("reason") == "bad_json" else 422) from None
        outcome = await _run_web(req, request)
    except Refusal as refusal:
        return refusal.response()
    return JSONResponse(outcome.as_dict(), status_code=201 if outcome.created else 200)


async def _run_web(req: webform.WebRequest, request: Request) -> WebOutcome:
    client = request.client.host if request.client else None
    try:
        outcome = await _web_group().submit((req, client, request.headers.get("idempotency-key")))
    except (SQLAlchemyError, ServiceUnavailable) as exc:
        raise _db_down(exc) from None
    if isinstance(outcome, IntakeError):
        raise _refusal_of(outcome, 422) from None
    return outcome


def _page(name: str, http_status: int = 200, **values: Any) -> HTMLResponse:
    """Render a page through the one template helper (StrictUndefined, autoescape)."""
    from dsar.letters.render import environment

    env = environment(templates_dir=get_settings().templates_dir)
    return HTMLResponse(env.get_template(f"web/{name}.html.j2").render(**values), status_code=http_status)


def _org_rights(slug: str) -> tuple[Organisation, list[str]] | None:
    with session_scope() as session:
        org = session.exec(select(Organisation).where(Organisation.slug == slug)).first()
        if org is None or org.id is None:
            return None
        version = latest_version(session, org.id)
    offered = set((version.definition.get("workflows") or {}) if version else ())
    return org, [r.value for r in Right if not offered or r.value in offered]


def _form_page(slug: str, *, status: int = 200, values: dict[str, Any] | None = None,
               problems: dict[str, str] | None = None) -> HTMLResponse:
    found = _org_rights(slug) if slug else None
    if found is None:
        return _page("intake_notfound", 404, slug=slug)
    org, rights = found
    return _page("intake_form", status, org={"slug": org.slug, "name": org.name}, rights=rights,
                 values=values or {}, problems=problems or {}, labels=_RIGHT_LABELS)


_RIGHT_LABELS = {
    "열람": "열람 (내 개인정보를 보여 주세요)", "정정": "정정 (잘못된 정보를 고쳐 주세요)",
    "삭제": "삭제 (내 개인정보를 지워 주세요)", "처리정지": "처리정지 (내 개인정보를 더 이상 쓰지 말아 주세요)",
    "동의철회": "동의철회 (동의를 거두겠습니다, 회원 탈퇴 포함)",
    "전송요구": "전송요구 (내 정보를 나 또는 다른 곳으로 보내 주세요)",
    "자동화결정": "자동화된 결정에 대한 거부·설명 요구",
}


@router.get("/form", response_class=HTMLResponse)
def intake_form(org: str = Query("")) -> HTMLResponse:
    """The plain Korean request form of one organisation."""
    try:
        return _form_page(org.strip()[:64])
    except (SQLAlchemyError, ServiceUnavailable) as exc:
        log.error("intake form: database unavailable: %s", exc)
        return _page("intake_notfound", 503, slug="", unavailable=True)


def _form_fields(ctype: str, body: bytes) -> tuple[dict[str, list[str]], webform.FileIn | None, str | None]:
    """Fields of a multipart/form-data or urlencoded body (the stdlib MIME parser reads multipart), the uploaded
    file, and what is wrong with the upload (the other fields are kept either way)."""
    if ctype.split(";", 1)[0].strip().lower() == "application/x-www-form-urlencoded":
        return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True), None, None
    if not ctype.lower().startswith("multipart/form-data"):
        raise Refusal(415, "unsupported_media_type", "신청서는 multipart/form-data로 보내야 합니다 "
                      "(send the form as multipart/form-data)")
    message = BytesParser(policy=policy.HTTP).parsebytes(
        b"Content-Type: " + ctype.encode("latin-1", "replace") + b"\r\n\r\n" + body)
    if not message.is_multipart():
        raise Refusal(400, "bad_form", "신청서 본문을 읽을 수 없습니다 (malformed multipart body)")
    fields: dict[str, list[str]] = {}
    upload, problem = None, None
    for part in message.iter_parts():  # type: ignore[attr-defined]
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if not name:
            continue
        if filename is not None:
            if payload and name == "attachment":
                shown = filename.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                try:
                    upload = webform.make_file(shown, part.get_content_type(), payload, "attachment")
                except IntakeError as exc:
                    problem = exc.message
            continue
        fields.setdefault(str(name), []).append(payload.decode("utf-8", "replace"))
    return fields, upload, problem


def _form_data(fields: dict[str, list[str]]) -> dict[str, Any]:
    def one(key: str) -> str:
        return (fields.get(key) or [""])[0].strip()

    return {"org": one("org"), "name": one("name"), "email": one("email"), "phone": one("phone"),
            "right": [r for r in fields.get("right", []) if r.strip()], "details": one("details"),
            "agent": {"kind": one("agent_kind"), "name": one("agent_name"), "relation": one("agent_relation")}}


@router.post("/form", response_class=HTMLResponse)
async def intake_form_submit(request: Request) -> HTMLResponse:
    """The form's handler: the same checks and path as POST /intake/web; a page with the case number."""
    data: dict[str, Any] = {}
    try:
        body = await _body(request, MAX_FORM_BYTES)
        fields, upload, upload_problem = _form_fields(request.headers.get("content-type", ""), body)
        data = _form_data(fields)
        try:
            req = webform.parse_web_request(data, attachment=upload)
        except webform.FormInvalid as exc:
            problems = {**exc.problems, **({"attachment": upload_problem} if upload_problem else {})}
            raise webform.FormInvalid(problems) from None
        if upload_problem:
            raise webform.FormInvalid({"attachment": upload_problem})
        outcome = await _run_web(req, request)
    except webform.FormInvalid as exc:
        return _form_page(str(data.get("org", "")), status=422, values=data, problems=exc.problems)
    except Refusal as refusal:
        if refusal.code == "unknown_org":
            return _page("intake_notfound", 404, slug=str(data.get("org", "")))
        return _page("intake_notfound", refusal.status, slug="", message=refusal.message)
    due = date.fromisoformat(outcome.due) if outcome.due else None
    return _page("intake_done", 201 if outcome.created else 200, org_name=outcome.org_name, cases=outcome.cases,
                 due=due, rights=req.rights, email=req.email)


# -- staff entry ----------------------------------------------------------------------------------------------


def _enter_staff(entry: staff.StaffEntry, actor: str) -> staff.StaffResult:
    from tasks.intake import BROKER_DOWN
    from tasks.notices import queue_delivery

    with session_scope() as session:
        result = staff.enter(session, entry, clock=SystemClock(), actor=actor)
    try:
        queue_delivery(result.notices)
    except BROKER_DOWN:
        log.warning("intake: broker down, %d notices left for sweep_outbox", len(result.notices))
    return result


@router.post("/staff", status_code=201)
async def intake_staff(request: Request) -> JSONResponse:
    """A request staff took by phone, letter, visit or fax; the clock runs from `received_at`."""
    try:
        _authorise(request, None)
        body = await _body(request, MAX_STAFF_BYTES)
        _authorise(request, body)
        data = _json(body)
        if not isinstance(data, dict):
            raise Refusal(400, "bad_json", "JSON 본문은 객체여야 합니다 (the JSON body must be an object)")
        actor = " ".join(str(data.get("actor") or "staff:api").split())[:100]
        try:
            entry = staff.entry_from_dict(data)
            result = await run_in_threadpool(_enter_staff, entry, actor)
        except ServiceUnavailable as exc:
            raise _db_down(exc) from None
        except DsarError as exc:
            raise _refusal_of(exc, 422) from None
        except SQLAlchemyError as exc:
            raise _db_down(exc) from None
    except Refusal as refusal:
        return refusal.response()
    return JSONResponse(result.as_dict(), status_code=201)

