"""One-time codes of the identity check, and how they travel.

A code is six random digits kept only as HMAC-SHA256(secret_key, salt ‖ code) with a per-code salt; it is
valid for `verification_code_ttl_minutes` and `verification_max_attempts` entries, and compared in constant
time. Sending:

- by e-mail: a `verification_request` notice in the outbox, stored with the code masked (`CODE_MASK`) and
  `held` (the ordinary outbox never picks it up); `send_held` claims it with one atomic UPDATE, fills the code
  into the message it sends and nowhere else. A held notice whose code died unsent becomes `void`;
- by SMS: through an `SmsTransport` (a gateway in production; `LoggingSmsTransport` writes to a file).

The orchestration (which case, which method, what happens on success) is `dsar.verification`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol

from sqlalchemy import update
from sqlmodel import Session, col, select

from dsar import audit
from dsar.errors import InvalidInput, ServiceUnavailable
from dsar.mail import DeliveryFailed, Transport, build_message
from dsar.models import Notice, utcnow
from dsar.settings import get_settings
from dsar.verification_models import VerificationChallenge

CODE_MASK = "●●●●●●"  # where the code goes in the stored e-mail; replaced only in the message actually sent
HELD = "held"  # notice status: kept out of the ordinary outbox until send_held fills in the code
VOID = "void"  # notice status: will never be sent (its code died before it went out)


class SmsFailed(ServiceUnavailable):
    code = "sms_failed"


class SmsTransport(Protocol):
    """Sends one text message. The production gateway plugs in here; tests and development log to a file."""

    def send(self, to: str, text: str) -> None: ...


class LoggingSmsTransport:
    """Appends each message as one JSON line to a file instead of sending it (development and tests)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def send(self, to: str, text: str) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as f:
                f.write(json.dumps({"at": utcnow().isoformat(), "to": to, "text": text}, ensure_ascii=False) + "\n")
        except OSError as exc:
            raise SmsFailed(f"SMS 기록 파일 {self.path}에 쓸 수 없습니다: {exc.strerror}") from exc


def default_sms_transport() -> SmsTransport:
    s = get_settings()
    if s.sms_transport != "log":
        raise InvalidInput(f"DSAR_SMS_TRANSPORT={s.sms_transport!r} is not supported; use 'log'", field="sms_transport")
    path = s.sms_log_file if str(s.sms_log_file) not in ("", ".") else s.data_dir / "sms.log"
    return LoggingSmsTransport(path)


def code_hash(code: str, salt: str) -> str:
    """HMAC-SHA256 keyed with the installation's secret over the per-code salt and the code."""
    key = get_settings().secret_key.encode()
    return hmac.new(key, f"{salt}:{code}".encode(), hashlib.sha256).hexdigest()


def new_code() -> tuple[str, str]:
    """(code, salt): six random digits and the salt their hash is made with."""
    return f"{secrets.randbelow(1_000_000):06d}", secrets.token_hex(16)


def retire_pending(session: Session, request_id: int, *, status: str) -> None:
    """Stop the case's pending codes (a newer one was sent, or the check is over); void their held e-mails."""
    pending = list(session.exec(select(VerificationChallenge).where(
        VerificationChallenge.request_id == request_id, VerificationChallenge.status == "pending")))
    for c in pending:
        c.status = status
        session.add(c)
    void_held(session, [c.notice_id for c in pending if c.notice_id])


def void_held(session: Session, notice_ids: list[int]) -> None:
    if notice_ids:
        session.exec(update(Notice).where(col(Notice.id).in_(notice_ids), col(Notice.status) == HELD)  # type: ignore[call-overload]
                     .values(status=VOID, last_error="확인 코드가 발송 전에 만료되어 보내지 않음"))


def expire(session: Session, now: datetime) -> None:
    """Expire codes past their time, and void held e-mails whose code is no longer pending (a crash between
    making a code and sending it leaves one behind)."""
    session.exec(update(VerificationChallenge)  # type: ignore[call-overload]
                 .where(col(VerificationChallenge.status) == "pending", col(VerificationChallenge.expires_at) <= now)
                 .values(status="expired"))
    orphans = select(Notice.id).join(VerificationChallenge, col(VerificationChallenge.notice_id) == col(Notice.id)) \
        .where(col(Notice.status) == HELD, col(VerificationChallenge.status) != "pending")
    void_held(session, [i for i in session.exec(orphans) if i is not None])


def send_held(session: Session, challenge: VerificationChallenge, code: str, transport: Transport,
              *, org_id: int | None, sender_name: str) -> None:
    """Claim the held e-mail (one atomic UPDATE, like the outbox), fill in the code, send it, record the result.
    Commits. On failure the e-mail and its code are void and `DeliveryFailed` is raised."""
    claim = (update(Notice).where(col(Notice.id) == challenge.notice_id, col(Notice.status) == HELD)
             .values(status="sending", attempts=Notice.attempts + 1))
    claimed = session.exec(claim).rowcount == 1  # type: ignore[call-overload]
    session.commit()
    notice = session.get(Notice, challenge.notice_id, populate_existing=True)
    if not claimed or notice is None:
        return
    message = build_message(
        to=notice.recipient or "", subject=notice.subject, text=notice.text.replace(CODE_MASK, code),
        html=notice.html.replace(CODE_MASK, code), message_id=notice.message_id, sender_name=sender_name,
    )
    try:
        transport.send(message)
    except DeliveryFailed as exc:
        notice.status, notice.last_error = VOID, exc.message
        _void(session, challenge)
        audit.record(session, "notice.failed", actor="verification", org_id=org_id, request_id=notice.request_id,
                     details={"notice_id": notice.id, "attempt": notice.attempts})
        session.add(notice)
        session.commit()
        raise
    notice.status, notice.sent_at, notice.last_error = "sent", utcnow(), None
    audit.record(session, "notice.sent", actor="verification", org_id=org_id, request_id=notice.request_id,
                 details={"notice_id": notice.id, "kind": notice.kind})
    session.add(notice)
    session.commit()


def send_sms(session: Session, challenge: VerificationChallenge, text: str, phone: str, sms: SmsTransport,
             *, org_id: int | None) -> None:
    """Send the text carrying the code; commits. On failure the code is void and `SmsFailed` is raised."""
    try:
        sms.send(phone, text)
    except SmsFailed:
        _void(session, challenge)
        audit.record(session, "verification.sms_failed", actor="verification", org_id=org_id,
                     request_id=challenge.request_id, details={"challenge_id": challenge.id})
        session.commit()
        raise
    audit.record(session, "verification.sms_sent", actor="verification", org_id=org_id,
                 request_id=challenge.request_id, details={"challenge_id": challenge.id})
    session.commit()


def _void(session: Session, challenge: VerificationChallenge) -> None:
    fresh = session.get(VerificationChallenge, challenge.id, populate_existing=True) or challenge
    fresh.status = VOID
    session.add(fresh)


@dataclass(frozen=True)
class CodeCheck:
    outcome: Literal["verified", "wrong", "expired", "locked", "no_code"]
    attempts_left: int = 0

    @property
    def ok(self) -> bool:
        return self.outcome == "verified"


def compare(session: Session, request_id: int, entered: str, now: datetime
            ) -> tuple[CodeCheck, VerificationChallenge | None, bool]:
    """Check an entry against the case's newest code, in the caller's transaction: (result, the code's row,
    whether the entry counted as an attempt)."""
    challenge = session.exec(
        select(VerificationChallenge).where(VerificationChallenge.request_id == request_id)
        .order_by(col(VerificationChallenge.id).desc())
    ).first()
    if challenge is None or challenge.status in ("superseded", VOID, "verified"):
        return CodeCheck("no_code"), challenge, False
    if challenge.status in ("expired", "locked"):
        return CodeCheck(challenge.status), challenge, False  # type: ignore[arg-type]
    if now >= challenge.expires_at:
        challenge.status = "expired"
        session.add(challenge)
        void_held(session, [challenge.notice_id] if challenge.notice_id else [])
        return CodeCheck("expired"), challenge, False
    # Count the attempt first, atomically: two guesses at once cannot both slip under the limit.
    counted = session.exec(
        update(VerificationChallenge)
        .where(col(VerificationChallenge.id) == challenge.id, col(VerificationChallenge.status) == "pending",
               col(VerificationChallenge.attempts) < col(VerificationChallenge.max_attempts))
        .values(attempts=VerificationChallenge.attempts + 1)
    ).rowcount == 1  # type: ignore[call-overload]
    session.refresh(challenge)
    if not counted:
        return CodeCheck("locked"), challenge, False
    digits = "".join(ch for ch in entered if not ch.isspace() and ch != "-")
    if hmac.compare_digest(code_hash(digits, challenge.salt), challenge.code_hash):
        challenge.status, challenge.used_at = "verified", now
        session.add(challenge)
        return CodeCheck("verified"), challenge, True
    left = challenge.max_attempts - challenge.attempts
    if left <= 0:
        challenge.status = "locked"
        session.add(challenge)
    return CodeCheck("locked" if left <= 0 else "wrong", attempts_left=max(left, 0)), challenge, True
