"""Tables the staff console adds: accounts, API tokens and case notes (created by migration 0002)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from dsar.crypto import EncryptedText
from dsar.models import utcnow


class StaffUser(SQLModel, table=True):
    """A person who signs in to the console. `org_id` is null only for admins (who see every organisation).

    `contact_id` links a 담당자/책임자 account to the ContactPerson cases are assigned to (`Request.assignee_id`).
    """

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True, index=True)  # stored lower-case
    name: str = Field(max_length=100)
    password_hash: str = Field(max_length=200)
    role: str = Field(max_length=10)  # 담당자 | 책임자 | 감사 | admin
    org_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    contact_id: int | None = Field(default=None, foreign_key="contactperson.id")
    active: bool = True
    failed_logins: int = 0
    locked_until: datetime | None = None
    last_login_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class ApiToken(SQLModel, table=True):
    """A bearer token for machine clients. Only its SHA-256 is stored; the token is shown once when created.

    A token either acts for a staff account (`user_id`: that account's role, organisation and assignments) or
    carries its own `role` and `org_id`.
    """

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    prefix: str = Field(max_length=16)  # the first characters, so staff can tell tokens apart
    role: str = Field(max_length=10)
    org_id: int | None = Field(default=None, foreign_key="organisation.id")
    user_id: int | None = Field(default=None, foreign_key="staffuser.id")
    created_by: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class Note(SQLModel, table=True):
    """A staff note on a case (internal: never sent to the requester)."""

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="request.id", index=True)
    author: str = Field(max_length=100)
    author_id: int | None = Field(default=None, foreign_key="staffuser.id")
    body: str = Field(sa_column=Column(EncryptedText, nullable=False))  # about the requester: stored encrypted
    created_at: datetime = Field(default_factory=utcnow)
