"""Reference data read once per transaction: the routing table, the newest workflow version, an organisation's
contacts and their open-case load.

A worker processes a batch of messages in one transaction; without this, each message would read the same rows
again. The memo lives in the session and is dropped when the transaction ends, or as soon as the transaction
itself writes reference data (a policy import, a contact change), so nothing stale is ever served.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session

from dsar.models import ContactPerson, Organisation, RouteAddress, WorkflowVersion

T = TypeVar("T")
_KEY = "dsar.memo"
_REFERENCE = (ContactPerson, Organisation, RouteAddress, WorkflowVersion)


def memo(session: Session, key: Hashable, compute: Callable[[], T]) -> T:
    cache: dict[Hashable, Any] = session.info.setdefault(_KEY, {})
    if key not in cache:
        cache[key] = compute()
    return cache[key]  # type: ignore[no-any-return]


@event.listens_for(Session, "before_flush")
def _forget_on_reference_write(session: Session, _context: Any, _instances: Any) -> None:
    if _KEY in session.info and any(
        isinstance(obj, _REFERENCE) for obj in (*session.new, *session.dirty, *session.deleted)
    ):
        session.info.pop(_KEY)


@event.listens_for(Session, "after_transaction_end")
def _forget_at_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_KEY, None)
