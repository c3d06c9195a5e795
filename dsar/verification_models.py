"""Tables of the identity check (본인확인): one `Verification` per case, the codes sent, and what staff checked.

Nothing here holds the requester's identity documents or a code in clear: a code is kept as an HMAC-SHA256
with a per-code salt, and a document check records only who looked at which kind of document, and when.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from dsar.models import utcnow


class Verification(SQLModel, table=True):
    """The identity check of one case: what it needs, and when the requester is reminded or the case closed.

    status: open → verified | unverified (closed as 본인확인 불가, waiting for its notice) → finished, or
    superseded when staff moved the case on by hand.
    """

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="request.id", unique=True)
    status: str = Field(default="open", max_length=20, index=True)
    requirement: str = Field(max_length=20)  # identity | 법정대리인 | 위임
    methods: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    started_at: datetime = Field(default_factory=utcnow)
    remind_at: datetime = Field(index=True)
    close_at: datetime = Field(index=True)
    reminded_at: datetime | None = None
    completed_at: datetime | None = None


class VerificationChallenge(SQLModel, table=True):
    """One code sent by e-mail or SMS. `code_hash` = HMAC-SHA256(secret_key, salt ‖ code); the code itself is
    never stored."""

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="request.id", index=True)
    method: str = Field(max_length=20)  # email_code | phone_code
    salt: str = Field(max_length=64)
    code_hash: str = Field(max_length=64)
    status: str = Field(default="pending", max_length=20, index=True)  # pending|verified|expired|locked|superseded|void
    attempts: int = 0
    max_attempts: int = 5
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)
    used_at: datetime | None = None
    notice_id: int | None = Field(default=None, foreign_key="notice.id")


class VerificationCheck(SQLModel, table=True):
    """One thing confirmed about the requester: a code entered, a login, a document seen, a checklist item ticked.

    `item` is a code from the data in dsar/verification.py (a document type, a checklist item), never a
    document number or any other personal data.
    """

    __table_args__ = (UniqueConstraint("request_id", "method", "item"),)
    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="request.id", index=True)
    method: str = Field(max_length=20)  # email_code | phone_code | login | document | checklist
    item: str = Field(default="", max_length=40)
    actor: str = Field(max_length=100)
    at: datetime = Field(default_factory=utcnow)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
