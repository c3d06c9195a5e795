"""Database tables. Every change of a case's stage goes through `dsar.engine`, never by editing these rows."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Integer, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from dsar.crypto import EncryptedBytes, EncryptedJSON, EncryptedText, keep_lookup_hash


def utcnow() -> datetime:
    return datetime.now(UTC)


def _json(**kw: Any) -> Any:
    return Field(default_factory=kw.pop("default_factory", dict), sa_column=Column(JSON, nullable=False))


def _secret(default: Any = None, *, json: bool = False) -> Any:
    """A column holding personal data, stored encrypted (dsar/crypto.py); callers read and write plain values."""
    if json:
        return Field(default_factory=dict, sa_column=Column(EncryptedJSON, nullable=False))
    return Field(default=default, sa_column=Column(EncryptedText, nullable=default is None))


class Organisation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(index=True, unique=True, max_length=64)
    name: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow)


class ContactPerson(SQLModel, table=True):
    """책임자 or 담당자 named by the organisation's policy (any field may be unknown)."""

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    role: str = Field(max_length=10)  # 책임자 | 담당자
    name: str | None = None
    title: str | None = None
    department: str | None = None
    phone: str | None = None
    email: str | None = None
    active: bool = True  # False once a re-imported policy no longer names the person


class RouteAddress(SQLModel, table=True):
    """A recipient address (`a@b.com`) or domain (`@b.com`) that routes mail to an organisation."""

    id: int | None = Field(default=None, primary_key=True)
    address: str = Field(index=True, unique=True, max_length=320)
    org_id: int = Field(foreign_key="organisation.id", index=True)


class WorkflowVersion(SQLModel, table=True):
    """One resolved definition (organisation specifics merged onto the statutory base) of one organisation."""

    __table_args__ = (UniqueConstraint("org_id", "version"),)
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    version: int
    digest: str = Field(max_length=64)
    source: str = Field(default="", max_length=500)
    definition: dict[str, Any] = _json()
    created_at: datetime = Field(default_factory=utcnow)


class InboundMessage(SQLModel, table=True):
    """A message exactly as it arrived: stored before anything parses it, so nothing is ever lost."""

    # the messages still waiting to be processed, oldest first (migration 0005)
    __table_args__ = (Index("ix_inboundmessage_waiting", "id", postgresql_where=text("status = 'stored'"),
                            sqlite_where=text("status = 'stored'")),)

    id: int | None = Field(default=None, primary_key=True)
    received_at: datetime = Field(default_factory=utcnow, index=True)
    source: str = Field(max_length=20)  # email | webhook | imap | maildir | cli | web | staff
    sha256: str = Field(max_length=64, index=True)
    message_id: str | None = Field(default=None, unique=True, max_length=998)
    raw: bytes = Field(sa_column=Column(EncryptedBytes, nullable=False))
    status: str = Field(default="stored", max_length=20, index=True)  # stored | processed | quarantined
    problem_code: str | None = Field(default=None, max_length=40)
    problem_message: str | None = _secret()  # may quote a header or an attachment's name
    summary: dict[str, Any] = _secret(json=True)  # parsed, masked: subject, sender, recipients, classification
    purged_at: datetime | None = None  # retention: raw and summary wiped (dsar/retention.py)


_ROW_VERSION = Column("row_version", Integer, nullable=False)


class Request(SQLModel, table=True):
    """A case: one right asked for by one requester, run by one pinned workflow version.

    A message asking for several rights becomes one case per right (each right has its own clock, stages,
    notice and refusal grounds); the cases share `inbound_id`.
    """

    __mapper_args__ = {"version_id_col": _ROW_VERSION}  # optimistic locking: two staff cannot both win
    __table_args__ = (
        # the staff queue and case list, by organisation / assignee, sorted by due date (migration 0002)
        Index("ix_request_queue", "org_id", "closed", "due_date", "id"),
        Index("ix_request_all_queue", "closed", "due_date", "id"),
        Index("ix_request_assignee_queue", "assignee_id", "closed", "due_date", "id"),
        Index("ix_request_org_right_stage", "org_id", "closed", "right", "stage"),
        # the deadline sweep reads open cases by due date only (migration 0003)
        Index("ix_request_open_due", "due_date", postgresql_where=text("NOT closed"), sqlite_where=text("closed = 0")),
        # a requester's cases since a date: the duplicate check (migration 0005)
        Index("ix_request_requester_received", "requester_email_hmac", "received_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    number: str | None = Field(default=None, unique=True, max_length=20)  # DSAR-2026-000123
    org_id: int | None = Field(default=None, foreign_key="organisation.id")  # indexed by ix_request_queue
    workflow_version_id: int | None = Field(default=None, foreign_key="workflowversion.id")
    inbound_id: int | None = Field(default=None, foreign_key="inboundmessage.id", index=True)
    right: str | None = Field(default=None, max_length=10)
    rights: list[str] = _json(default_factory=list)
    stage: str = Field(default="received", max_length=40, index=True)
    closed: bool = False  # indexed by ix_request_all_queue
    not_a_request: bool = False
    channel: str = Field(default="email", max_length=20)
    received_at: datetime = Field(index=True)
    due_date: date | None = Field(default=None, index=True)
    due_basis: dict[str, Any] = _json()  # `Due.as_dict()`: the arithmetic behind due_date
    pauses: list[dict[str, Any]] = _json(default_factory=list)  # [{start, end, reason}] waiting for the requester
    extensions: list[dict[str, Any]] = _json(default_factory=list)  # [{days, reason}]
    requester_name: str | None = _secret()
    requester_email: str | None = _secret()
    requester_email_hmac: str | None = Field(default=None, max_length=64)  # set with requester_email
    requester_phone: str | None = _secret()
    agent_kind: str | None = Field(default=None, max_length=10)  # 법정대리인 | 위임
    subject: str = _secret("")
    details: str = _secret("")  # masked text of the request
    classification: dict[str, Any] = _json()
    duplicate_of_id: int | None = Field(default=None, foreign_key="request.id")
    thread_of_id: int | None = Field(default=None, foreign_key="request.id")
    assignee_id: int | None = Field(default=None, foreign_key="contactperson.id")
    row_version: int = Field(default=1, sa_column=_ROW_VERSION)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    purged_at: datetime | None = None  # retention: personal data wiped, the row kept as a tombstone

    @property
    def agent(self) -> bool:
        return self.agent_kind is not None


keep_lookup_hash(Request, "requester_email", "requester_email_hmac")  # deduplication without decrypting


class StageEvent(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="request.id", index=True)
    transition: str = Field(max_length=40)
    from_stage: str | None = Field(default=None, max_length=40)
    to_stage: str = Field(max_length=40)
    actor: str = Field(max_length=100)
    reason: str | None = _secret()  # staff's words; may name the requester
    ground: str | None = Field(default=None, max_length=40)
    at: datetime = Field(default_factory=utcnow)


class Notice(SQLModel, table=True):
    """A rendered letter or e-mail and its place in the outbox."""

    __table_args__ = (UniqueConstraint("request_id", "kind", "seq"),)
    id: int | None = Field(default=None, primary_key=True)
    request_id: int | None = Field(default=None, foreign_key="request.id", index=True)
    kind: str = Field(max_length=40)
    seq: int = 1
    recipient: str | None = _secret()
    message_id: str = Field(default="", max_length=300, index=True)  # threads replies back to the case
    dedupe_key: str | None = Field(default=None, unique=True, max_length=120)  # reminder:D-3:2026-11-30 ...
    subject: str = _secret("")
    html: str = _secret("")
    text: str = _secret("")
    sha256: str = Field(max_length=64)
    template_version: str = Field(max_length=20)
    context: dict[str, Any] = _secret(json=True)  # the data the notice was rendered from
    # draft|queued|sending|sent|failed|manual; held|void: a verification code e-mail (dsar/verification.py)
    status: str = Field(default="queued", max_length=20, index=True)
    requires_approval: bool = False
    approved_by: str | None = None
    attempts: int = 0
    last_error: str | None = _secret()  # a bounce or SMTP reply may quote the address
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None


class AuditHead(SQLModel, table=True):
    """The tip of one audit chain; updated first in a transaction so that writers queue instead of forking."""

    chain: str = Field(primary_key=True, max_length=64)
    seq: int = 0
    hash: str = Field(default="0" * 64, max_length=64)


class AuditEvent(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("chain", "seq"),)
    id: int | None = Field(default=None, primary_key=True)
    chain: str = Field(max_length=64)  # indexed by the unique (chain, seq)
    seq: int
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=100)
    action: str = Field(max_length=60, index=True)
    org_id: int | None = Field(default=None, index=True)
    request_id: int | None = Field(default=None, index=True)
    details: dict[str, Any] = _json()
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
