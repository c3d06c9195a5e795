"""Who works a case, and who hears about it.

A new case goes to the least-loaded active 담당자 of its organisation (fewest open cases; the lower id on a tie,
so a quiet queue is dealt round-robin); an organisation whose policy names no 담당자 gives its cases to the
개인정보 보호책임자. Staff move a case to someone else with `engine.reassign`. Escalations (overdue cases, the
due day) always go to the 책임자.

People are the organisation's `ContactPerson` rows as its newest policy names them: someone a re-imported
policy no longer names is inactive, gets no new cases, and their open cases' reminders go to the desk instead.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from dsar.memo import memo
from dsar.models import ContactPerson, Request, WorkflowVersion

HANDLER, OFFICER = "담당자", "책임자"
ROLE_LABELS = {HANDLER: "담당자", OFFICER: "개인정보 보호책임자"}


def contacts(session: Session, org_id: int) -> list[ContactPerson]:
    query = select(ContactPerson).where(ContactPerson.org_id == org_id).order_by(col(ContactPerson.id))
    return memo(session, ("contacts", org_id), lambda: list(session.exec(query)))


def open_load(session: Session, contact_ids: list[int]) -> dict[int, int]:
    """Open cases per person (reads the partial index on assignee_id of open cases)."""
    if not contact_ids:
        return {}
    rows = session.exec(
        select(Request.assignee_id, func.count()).where(col(Request.assignee_id).in_(contact_ids),
                                                        Request.closed == False)  # noqa: E712  (partial index)
        .group_by(col(Request.assignee_id))
    ).all()
    return {int(a): int(n) for a, n in rows if a is not None}


def pick(session: Session, org_id: int) -> ContactPerson | None:
    """The person a new case of the organisation goes to: least-loaded active 담당자, else the 책임자.

    The case is counted into the load at once, so a batch of cases opened in one transaction is dealt in turn.
    With one 담당자 there is nothing to weigh, and the open cases are not counted (a count that grows with them)."""
    people = contacts(session, org_id)
    handlers = [c for c in people if c.active and c.role == HANDLER]
    if len(handlers) == 1:
        return handlers[0]
    if handlers:
        load = memo(session, ("load", org_id), lambda: open_load(session, [c.id for c in handlers if c.id is not None]))
        person = min(handlers, key=lambda c: (load.get(c.id or 0, 0), c.id or 0))
        load[person.id or 0] = load.get(person.id or 0, 0) + 1
        return person
    return next((c for c in people if c.active and c.role == OFFICER), None)


def staff(contact: ContactPerson | None) -> dict[str, Any] | None:
    """A person as a notice's `staff` (name, role, e-mail); None when there is no address to write to."""
    if contact is None or not contact.email:
        return None
    return {"name": contact.name or ROLE_LABELS.get(contact.role, contact.role), "role": ROLE_LABELS.get(contact.role),
            "email": contact.email}


class Directory:
    """Who to write to about a case, read once per sweep: contacts by organisation, officer e-mail by version.

    The 책임자's address comes from their contact row, or else from the workflow's `settings.officer_email`
    (policies often publish only a phone number for the officer).
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self._contacts: dict[int, list[ContactPerson]] = {}
        self._definitions: dict[int, dict[str, Any]] = {}

    def contacts(self, org_id: int) -> list[ContactPerson]:
        if org_id not in self._contacts:
            self._contacts[org_id] = contacts(self.session, org_id)
        return self._contacts[org_id]

    def definition(self, version_id: int) -> dict[str, Any]:
        if version_id not in self._definitions:
            version = self.session.get(WorkflowVersion, version_id)
            self._definitions[version_id] = version.definition if version else {}
        return self._definitions[version_id]

    def assignee(self, case: Request) -> dict[str, Any] | None:
        """The case's assignee; if they left or have no e-mail, the first 담당자 who has one; else the officer."""
        people = [c for c in self.contacts(case.org_id or 0) if c.active and c.email]
        chosen = next((c for c in people if c.id == case.assignee_id), None)
        chosen = chosen or next((c for c in people if c.role == HANDLER), None)
        return staff(chosen) if chosen else self.officer(case)

    def assignee_name(self, case: Request) -> str | None:
        person = next((c for c in self.contacts(case.org_id or 0) if c.id == case.assignee_id), None)
        return (person.name or ROLE_LABELS.get(person.role)) if person else None

    def officer(self, case: Request) -> dict[str, Any] | None:
        return self.org_officer(case.org_id or 0, case.workflow_version_id)

    def org_officer(self, org_id: int, version_id: int | None) -> dict[str, Any] | None:
        person = next((c for c in self.contacts(org_id) if c.active and c.role == OFFICER), None)
        email = person.email if person and person.email else None
        if email is None and version_id is not None:
            email = self.definition(version_id).get("settings", {}).get("officer_email")
        if not email:
            return None
        return {"name": (person.name if person else None) or ROLE_LABELS[OFFICER], "role": ROLE_LABELS[OFFICER],
                "email": email}
