"""The deadline sweep: reminders to staff, each exactly once.

- D-3 and D-1: a reminder to the case's assignee (`dsar.assignment`: the assignee, else the desk, else the officer);
- the due day: a reminder to the assignee AND to the 개인정보 보호책임자 (once if they are the same person);
- every day after the due date: an overdue escalation to the 책임자;
- once a day per organisation (from `digest_hour`, Seoul time): a digest of its open cases to its staff.

Cases waiting for the requester (a stage that pauses the clock) get none: their due date is not running.

Each reminder is a notice with a unique key (kind, day, case, audience). `plan` finds the keys due today that
do not exist yet, reading only cases due on the days that matter (a partial index on due_date of open cases),
so its cost follows the number due, not the number open. `send_all` creates the notices one transaction each;
two beat processes, or a plan handed to two workers, collide on the key and nothing is sent twice. Delivery
then goes through the outbox claim (`dsar.notices.deliver_many`); a worker that dies mid-send leaves the
notice claimed until its lease lapses, then it goes out again with the same Message-ID.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import String, any_, bindparam, or_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from dsar import audit, notices
from dsar.assignment import HANDLER, Directory, contacts, staff
from dsar.calendar_kr import KST, kst_date
from dsar.clock import Clock
from dsar.letters import NoticeContext, render_notice
from dsar.models import Notice, Organisation, Request
from dsar.settings import get_settings
from dsar.workflow.definitions import right_workflow
from dsar.workflow.registry import latest_version

__all__ = ["Reminder", "digest", "due_for", "existing_keys", "plan", "send", "send_all", "sweep"]

REMIND_DAYS: dict[int, tuple[str, ...]] = {3: ("assignee",), 1: ("assignee",), 0: ("assignee", "officer")}
KEY_BATCH = 500  # keys per IN (...) lookup


@dataclass(frozen=True)
class Reminder:
    """One reminder to create: kind `reminder` or `escalation_overdue`, to the assignee or the officer."""

    case_id: int
    kind: str
    audience: str
    day: date

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.day.isoformat()}:{self.case_id}:{self.audience}"

    def as_list(self) -> list[Any]:
        """JSON-ready, for a Celery task argument."""
        return [self.case_id, self.kind, self.audience, self.day.isoformat()]

    @classmethod
    def from_list(cls, data: Sequence[Any]) -> Reminder:
        return cls(int(data[0]), str(data[1]), str(data[2]), date.fromisoformat(str(data[3])))


def due_for(due_date: date | None, today: date) -> list[tuple[str, str]]:
    """(kind, audience) pairs a case due on `due_date` has on `today`."""
    if due_date is None:
        return []
    days = (due_date - today).days
    if days < 0:
        return [("escalation_overdue", "officer")]
    return [("reminder", audience) for audience in REMIND_DAYS.get(days, ())]


def plan(session: Session, *, clock: Clock) -> list[Reminder]:
    """The reminders due today that have not been created yet."""
    today = kst_date(clock.now())
    days = [today + timedelta(days=d) for d in REMIND_DAYS]
    rows = session.exec(
        select(Request.id, Request.due_date, Request.stage, Request.workflow_version_id, Request.right)
        .where(Request.closed == False,  # noqa: E712  (`= false` is what the partial index's predicate matches)
               or_(col(Request.due_date).in_(days), col(Request.due_date) < today),
               col(Request.org_id).is_not(None), col(Request.workflow_version_id).is_not(None))
    ).all()
    directory = Directory(session)
    paused: dict[tuple[int | None, str | None, str], bool] = {}
    wanted: dict[str, Reminder] = {}
    for case_id, due, stage, version_id, right in rows:
        where = (version_id, right, stage)
        if where not in paused:
            paused[where] = _paused(directory, version_id, right, stage)
        if not paused[where]:
            for kind, audience in due_for(due, today):
                item = Reminder(case_id, kind, audience, today)
                wanted[item.key] = item
    done = existing_keys(session, wanted)
    return [item for key, item in wanted.items() if key not in done]


def _paused(directory: Directory, version_id: int | None, right: str | None, stage: str) -> bool:
    definition = directory.definition(version_id or 0)
    if not definition or right not in definition.get("workflows", {}):
        return False
    return right_workflow(definition, right).pauses_clock(stage)


def existing_keys(session: Session, keys: Iterable[str]) -> set[str]:
    """Which of `keys` are already on a notice (PostgreSQL: one `= ANY(array)` probe; others: IN batches)."""
    keys = list(keys)
    found: set[str] = set()
    if keys and session.get_bind().dialect.name == "postgresql":
        probe = col(Notice.dedupe_key) == any_(bindparam("keys", keys, type_=ARRAY(String)))
        return {k for k in session.exec(select(Notice.dedupe_key).where(probe)) if k is not None}
    for i in range(0, len(keys), KEY_BATCH):
        batch = keys[i:i + KEY_BATCH]
        found.update(k for k in session.exec(select(Notice.dedupe_key).where(col(Notice.dedupe_key).in_(batch)))
                     if k is not None)
    return found


def send(session: Session, item: Reminder, *, clock: Clock, directory: Directory | None = None) -> Notice | None:
    """Create one planned reminder, in the caller's transaction, if it still applies today and nobody made it
    yet; None otherwise. Raises IntegrityError when another sweep made it meanwhile (roll back and move on)."""
    today = kst_date(clock.now())
    if item.day != today:  # planned on another (simulated or real) day: today's sweep plans afresh
        return None
    if existing_keys(session, [item.key]):
        return None
    case = session.get(Request, item.case_id, populate_existing=True)
    if case is None or case.closed or (item.kind, item.audience) not in due_for(case.due_date, today):
        return None
    directory = directory or Directory(session)
    if _paused(directory, case.workflow_version_id, case.right, case.stage):
        return None
    recipient = _recipient(directory, case, item)
    if recipient is None:
        return None
    return notices.create(session, case, item.kind, actor="scheduler", clock=clock, staff=recipient,
                          dedupe_key=item.key)


def _recipient(directory: Directory, case: Request, item: Reminder) -> dict[str, Any] | None:
    if item.kind == "escalation_overdue":
        officer = directory.officer(case)
        # The escalation names the case's 담당자 (`staff.name`) and greets the officer (`org.officer`), while the
        # outbox writes to `staff.email`: so it carries the assignee's name and the officer's address.
        if officer is None:
            return None
        return {"name": directory.assignee_name(case) or "배정되지 않음", "role": "담당자", "email": officer["email"]}
    if item.audience == "officer":
        officer, assignee = directory.officer(case), directory.assignee(case)
        if officer is None or (assignee is not None and assignee["email"] == officer["email"]):
            return None  # the officer is the assignee: the assignee's reminder already reached them
        return officer
    return directory.assignee(case)


def send_all(session: Session, items: Iterable[Reminder], *, clock: Clock) -> list[int]:
    """Create the planned reminders, one transaction each; returns the ids queued for delivery.

    One transaction per reminder, begun by its first write (no savepoint that reads first): two sweeps then
    queue on the key instead of deadlocking on PostgreSQL or failing a stale snapshot on SQLite.
    """
    directory = Directory(session)
    created: list[int] = []
    for item in items:
        try:
            notice = send(session, item, clock=clock, directory=directory)
            session.commit()
        except IntegrityError:  # another sweep made it first
            session.rollback()
            continue
        if notice is not None and notice.status == "queued":
            created.append(notice.id or 0)
    return created


def sweep(session: Session, *, clock: Clock) -> list[int]:
    """Plan and create today's reminders and digests in this process (the Celery task fans the reminders out to
    the workers instead). Commits; returns the notice ids to deliver."""
    return send_all(session, plan(session, clock=clock), clock=clock) + digest(session, clock=clock)


# ---------------------------------------------------------------------------------------- daily digest


def digest(session: Session, *, clock: Clock) -> list[int]:
    """Once a day per organisation: the list of its open cases to each of its staff with an e-mail address.

    Before `digest_hour` (Seoul time) nothing is sent. A sweep that finds today's digests made costs one key
    lookup per organisation; making them reads the organisation's open cases once.
    """
    now = clock.now()
    if now.astimezone(KST).hour < get_settings().digest_hour:
        return []
    today = kst_date(now)
    created: list[int] = []
    directory = Directory(session)
    for org in session.exec(select(Organisation).order_by(col(Organisation.id))).all():
        version = latest_version(session, org.id or 0)
        if version is None:
            continue
        people = _digest_people(session, directory, org, version.id)
        todo = {f"daily_digest:{today.isoformat()}:{org.id}:{who}": person for who, person in people.items()}
        done = existing_keys(session, todo)
        todo = {k: v for k, v in todo.items() if k not in done}
        cases = _open_cases(session, directory, org.id or 0, today) if todo else []
        if not cases:
            continue
        for key, person in todo.items():
            try:
                notice = _digest_notice(session, version.definition, org, person, cases, today, key)
                session.commit()
                created.append(notice.id or 0)
            except IntegrityError:  # another sweep made it first
                session.rollback()
    return created


def _digest_people(
    session: Session, directory: Directory, org: Organisation, version_id: int | None
) -> dict[str, dict[str, Any]]:
    """The officer and the active 담당자 with an address, one mail per address."""
    people: dict[str, dict[str, Any]] = {}
    officer = directory.org_officer(org.id or 0, version_id)
    if officer is not None:
        people["officer"] = officer
    for c in contacts(session, org.id or 0):
        person = staff(c) if c.active and c.role == HANDLER else None
        if person is not None and all(p["email"] != person["email"] for p in people.values()):
            people[f"contact{c.id}"] = person
    return people


def _open_cases(session: Session, directory: Directory, org_id: int, today: date) -> list[dict[str, Any]]:
    rows = session.exec(
        select(Request.number, Request.right, Request.stage, Request.due_date, Request.workflow_version_id)
        .where(Request.org_id == org_id, Request.closed == False,  # noqa: E712
               col(Request.workflow_version_id).is_not(None), col(Request.due_date).is_not(None))
        .order_by(col(Request.due_date), col(Request.id))
    ).all()
    out = []
    for number, right, stage, due, version_id in rows:
        definition = directory.definition(version_id or 0)
        label = right_workflow(definition, right).stage_label(stage) if right in definition.get("workflows", {}) \
            else stage
        out.append({"number": number, "right": right, "stage": label, "due_date": due.isoformat(),
                    "days_left": (due - today).days})
    return out


def _digest_notice(
    session: Session, definition: dict[str, Any], org: Organisation, person: dict[str, Any],
    cases: list[dict[str, Any]], today: date, key: str,
) -> Notice:
    context = NoticeContext.from_dict({"org": notices.org_context(definition), "notice_date": today.isoformat(),
                                       "staff": person, "cases": cases})
    rendered = render_notice("daily_digest", context, override_dir=notices.override_dir(org.slug))
    domain = get_settings().mail_from.rsplit("@", 1)[-1]
    notice = Notice(
        request_id=None, kind="daily_digest", recipient=person["email"], subject=rendered.subject, dedupe_key=key,
        html=rendered.html, text=rendered.text, sha256=rendered.sha256, template_version=rendered.template_version,
        context={"json": rendered.context_json}, status="queued",
        message_id=f"<digest.{org.slug}.{today.isoformat()}.{key.rsplit(':', 1)[-1]}@{domain}>",
    )
    session.add(notice)
    session.flush()
    audit.record(session, "notice.rendered", actor="scheduler", org_id=org.id,
                 details={"notice_id": notice.id, "kind": "daily_digest", "sha256": rendered.sha256,
                          "status": "queued", "cases": len(cases)})
    return notice

