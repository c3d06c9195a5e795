"""Request and response bodies of the HTTP API (what /openapi.json publishes)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

T = TypeVar("T")
MAX_ID = 2_147_483_647  # a database integer key
DbId = Annotated[int, Field(ge=1, le=MAX_ID)]
Version = Annotated[int, Field(ge=0, le=MAX_ID)]
NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL characters
Text = Annotated[str, StringConstraints(pattern=NO_NUL)]


class ErrorBody(BaseModel):
    code: str = Field(description="Stable machine-readable code (not_found, forbidden, conflict, guard_failed ...)")
    message: str = Field(description="What was wrong and what to do, in Korean")


class ErrorOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    error: ErrorBody


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": text}
    for status, text in ((401, "Not signed in / no valid token"), (403, "The role may not do this"),
                         (404, "No such record, or it belongs to another organisation"),
                         (409, "Conflicts with the current state"), (422, "Invalid input"))
}


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(description="How many records match, over all pages")
    limit: int
    offset: int


class Person(BaseModel):
    id: int
    name: str | None
    role: str


class CaseItem(BaseModel):
    number: str
    org: str | None = Field(description="Organisation slug; null while unrouted")
    org_name: str | None
    right: str | None
    stage: str
    stage_label: str
    closed: bool
    channel: str
    agent: bool
    received_at: datetime
    due_date: date | None
    days_left: int | None = Field(description="Days until the due date: 0 on the due day, negative when overdue")
    overdue: bool
    assignee: Person | None
    internal_target: date | None = Field(
        description="The organisation's internal target (내부 목표일), as the case's due_basis.internal_target; "
                    "null when it sets none")


class QuarantinedItem(BaseModel):
    inbound_id: int
    received_at: datetime
    code: str | None
    reason: str | None
    subject: str | None


class Requester(BaseModel):
    name: str | None
    email: str | None
    phone: str | None


class Agent(BaseModel):
    kind: str
    label: str | None


class AttachmentRef(BaseModel):
    index: int = Field(description="Position in the message, from 0")
    filename: str | None
    content_type: str | None = Field(description="As the message declared it")
    size: int | None = Field(description="Bytes")
    sha256: str | None
    url: str = Field(description="GET downloads it (an audited access to personal data)")


class Message(BaseModel):
    subject: str
    text: str = Field(description="The request text, with 주민등록번호, card and account numbers masked")
    inbound_id: int | None
    sender: str | None
    recipients: list[str]
    attachments: list[AttachmentRef]


class Classification(BaseModel):
    rights: list[str]
    agent_kind: str | None
    language: str | None
    evidence: dict[str, list[str]] = Field(description="right → the words that decided it")


class Contact(BaseModel):
    id: int | None
    name: str | None
    role: str
    department: str | None
    email: str | None
    active: bool


class Allowed(BaseModel):
    name: str
    label: str
    to: str
    to_label: str
    requires: list[str]
    notice: str | None
    officer_only: bool = Field(description="Only the 개인정보 보호책임자 may perform it")
    permitted: bool = Field(description="Whether the signed-in principal may perform it")


class Ground(BaseModel):
    code: str
    article: str
    text: str
    public_bodies_only: bool


class TimelineEntry(BaseModel):
    at: datetime
    kind: Literal["stage", "audit"]
    actor: str
    action: str
    title: str
    details: dict[str, Any]


class CaseDetail(BaseModel):
    number: str
    org: dict[str, str] | None
    right: str | None
    rights: list[str]
    stage: str
    stage_label: str
    closed: bool
    channel: str
    received_at: datetime
    due_date: date | None
    days_left: int | None
    overdue: bool
    due_basis: dict[str, Any] = Field(description="The due-date arithmetic (민법 157/159/161, holidays, pauses)")
    pauses: list[dict[str, Any]]
    extensions: list[dict[str, Any]]
    row_version: int = Field(description="Send back as expected_version so a stale change fails with 409")
    requester: Requester
    agent: Agent | None
    message: Message
    classification: Classification
    right_choices: list[str] = Field(description="Rights the case may be corrected to now (PUT …/right); empty "
                                                 "once it has left its first stage")
    assignee: Contact | None
    duplicate_of: str | None
    thread_of: str | None
    allowed: list[Allowed]
    refusal_grounds: list[Ground]
    timeline: list[TimelineEntry]


class TransitionIn(BaseModel):
    name: Text = Field(min_length=1, max_length=40, description="Transition name, e.g. start_verification")
    reason: Text | None = Field(None, max_length=4000)
    ground: Text | None = Field(None, max_length=40, description="Legal ground code for refusals")
    extension_days: int | None = Field(None, ge=1, le=90)
    expected_version: Version | None = Field(None, description="The row_version the change is based on")
    deliver: bool = Field(True, description="Hand the notices the transition makes to the outbox at once")
    items: list[Text] | None = Field(None, max_length=50, description="Items disclosed / acted on, for the notice")
    withheld_items: list[Text] | None = Field(None, max_length=50, description="Items withheld (partial access)")
    note: Text | None = Field(None, max_length=2000, description="One more paragraph for the notice")


class NoticeItem(BaseModel):
    id: int
    kind: str
    title: str
    seq: int
    audience: str
    subject: str
    status: str
    status_label: str
    requires_approval: bool
    approved_by: str | None
    attempts: int
    last_error: str | None
    sha256: str
    template_version: str
    created_at: datetime
    sent_at: datetime | None


class CaseState(BaseModel):
    number: str
    stage: str
    stage_label: str
    closed: bool
    due_date: date | None
    row_version: int
    assignee_id: int | None


class TransitionOut(BaseModel):
    case: CaseState
    notices: list[NoticeItem] = Field(description="Notices the transition made (their status after delivery)")


class AssigneeIn(BaseModel):
    assignee_id: DbId = Field(description="An active ContactPerson id of the case's organisation")
    expected_version: Version | None = None


class NoteIn(BaseModel):
    body: Text = Field(min_length=1, max_length=5000)


class NoteOut(BaseModel):
    id: int
    author: str
    body: str
    created_at: datetime


class AuditItem(BaseModel):
    id: int
    chain: str
    seq: int
    at: datetime
    actor: str
    action: str
    org_id: int | None
    request_id: int | None
    details: dict[str, Any]
    prev_hash: str
    hash: str


class OrgItem(BaseModel):
    id: int
    slug: str
    name: str
    created_at: datetime
    latest_version: int | None


class OrgDetail(BaseModel):
    id: int
    slug: str
    name: str
    version: int | None
    source: str | None
    contacts: list[dict[str, Any]] = Field(description="책임자/담당자 with their ContactPerson id and policy lines")
    channels: list[dict[str, Any]]
    verification: list[str]
    retention: list[dict[str, Any]]
    complaint_bodies: list[dict[str, Any]]
    settings: dict[str, Any]
    rights: list[str]


class VersionItem(BaseModel):
    version: int
    digest: str
    source: str
    created_at: datetime


class VersionDetail(VersionItem):
    definition: dict[str, Any]


class ImportOut(BaseModel):
    slug: str
    version: int
    created: bool = Field(description="False when the policy compiled to the version already registered")
    summary: dict[str, Any] = Field(description="The `dsar policy import --json` object")
    diff: list[str]


class UserIn(BaseModel):
    email: Text = Field(min_length=3, max_length=320)
    name: Text = Field(min_length=1, max_length=100)
    role: Text = Field(description="담당자, 책임자, 감사 or admin")
    org: Text | None = Field(None, description="Organisation slug (none for admin)")
    password: Text = Field(min_length=10, max_length=200)
    contact_id: DbId | None = None


class UserPatch(BaseModel):
    active: bool | None = None
    password: Text | None = Field(None, min_length=10, max_length=200)
    unlock: bool = False


class UserOut(BaseModel):
    id: int
    email: str
    name: str
    role: str
    org_id: int | None
    contact_id: int | None
    active: bool
    locked_until: datetime | None
    last_login_at: datetime | None
    created_at: datetime


class TokenIn(BaseModel):
    name: Text = Field(min_length=1, max_length=100)
    role: Text | None = Field(None, description="For a machine token: 담당자, 책임자, 감사 or admin")
    org: Text | None = Field(None, description="For a machine token: organisation slug (none for admin)")
    user_id: DbId | None = Field(None, description="Act as this staff account instead")


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    role: str
    org_id: int | None
    user_id: int | None
    created_by: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="Shown once; only its hash is stored")


class Me(BaseModel):
    kind: str
    name: str
    email: str | None
    role: str
    role_label: str
    org: str | None
    contact_id: int | None


class WeekFigures(BaseModel):
    week_start: date
    label: str
    received: int
    closed: int
    overdue: int


class RightFigures(BaseModel):
    right: str
    received: int
    closed: int
    overdue: int
    on_time: int
    open: int
    on_time_rate: float | None


class Stats(BaseModel):
    today: date
    first_week: date
    weeks: list[WeekFigures]
    rights: list[RightFigures]
    open: int
    overdue_open: int
    closed: int
    on_time_rate: float | None = Field(description="Share of cases closed by their due date (null: none closed)")
