"""The case queue: which cases a principal sees, filtered and sorted by due date, a page at a time.

Shared by the HTTP API and the console so both show the same cases. A list row carries no personal data (no
requester name or address), so listing is not an access to personal data; opening a case is, and is audited.
The queries follow the indexes of migration 0002: (org_id, closed, due_date, id) for one organisation's queue,
(closed, due_date, id) for an admin's, (assignee_id, closed, due_date, id) for a handler's own cases, and
(org_id, closed, right, stage) for the totals and the counts per stage (index-only scans).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, func
from sqlmodel import Session, col, select

from dsar.auth.roles import Principal, require_visible
from dsar.crypto import unread_secrets
from dsar.deadlines import days_left
from dsar.engine import UNROUTED
from dsar.errors import NotFound
from dsar.models import ContactPerson, Organisation, Request, WorkflowVersion

UNROUTED_LABEL = "미배정"


@dataclass(frozen=True)
class CaseFilter:
    org: str | None = None  # organisation slug
    right: str | None = None
    stage: str | None = None
    assignee: str | None = None  # a ContactPerson id, "me" or "none"
    due_before: date | None = None  # due strictly before this date
    overdue: bool = False  # open and past the due date
    unrouted: bool = False  # no organisation could be found
    closed: bool | None = None  # None: open and closed alike
    limit: int = 50
    offset: int = 0


def scoped(principal: Principal, query: Select[Any]) -> Select[Any]:
    return query if principal.is_admin else query.where(col(Request.org_id) == principal.org_id)


def org_by_slug(session: Session, principal: Principal, slug: str) -> Organisation:
    """An organisation the principal may see; another organisation's is "not found" like an unknown one."""
    org = session.exec(select(Organisation).where(Organisation.slug == slug)).first()
    require_visible(principal, org.id if org else None, f"조직 '{slug}'")
    if org is None:
        raise NotFound(f"조직 '{slug}'을(를) 찾을 수 없습니다 (not found)")
    return org


def _filtered(session: Session, principal: Principal, f: CaseFilter, today: date, query: Select[Any]) -> Select[Any]:
    query = scoped(principal, query)
    if f.org:
        query = query.where(col(Request.org_id) == org_by_slug(session, principal, f.org).id)
    if f.unrouted:
        query = query.where(col(Request.org_id).is_(None))
    if f.right:
        query = query.where(col(Request.right) == f.right)
    if f.stage:
        query = query.where(col(Request.stage) == f.stage)
    if f.assignee == "none":
        query = query.where(col(Request.assignee_id).is_(None))
    elif f.assignee == "me":
        query = query.where(col(Request.assignee_id) == (principal.contact_id or -1))
    elif f.assignee:
        query = query.where(col(Request.assignee_id) == int(f.assignee))
    if f.due_before:
        query = query.where(col(Request.due_date) < f.due_before)
    if f.overdue:
        query = query.where(col(Request.closed).is_(False), col(Request.due_date) < today)
    if f.closed is not None:
        query = query.where(col(Request.closed).is_(f.closed))
    return query


def list_cases(
    session: Session, principal: Principal, f: CaseFilter, today: date
) -> tuple[list[dict[str, Any]], int]:
    """One page of cases (most urgent first) and the number of cases matching the filter."""
    rows = session.exec(
        _filtered(session, principal, f, today, select(Request).options(*unread_secrets(Request)))
        .order_by(col(Request.due_date).asc().nulls_last(), col(Request.id))
        .limit(f.limit).offset(f.offset)
    ).all()
    total = session.exec(_filtered(session, principal, f, today, select(func.count()).select_from(Request))).one()
    return case_rows(session, list(rows), today), int(total)


def count_by_stage(session: Session, principal: Principal, f: CaseFilter, today: date) -> dict[str, int]:
    """How many cases of the filter (any stage) are at each stage."""
    query = _filtered(session, principal, replace(f, stage=None), today,
                      select(col(Request.stage), func.count()).select_from(Request))
    return {stage: int(n) for stage, n in session.exec(query.group_by(col(Request.stage))).all()}


def case_rows(session: Session, cases: list[Request], today: date) -> list[dict[str, Any]]:
    org_ids = {c.org_id for c in cases if c.org_id}
    orgs = {o.id: o for o in session.exec(select(Organisation).where(col(Organisation.id).in_(org_ids)))} \
        if org_ids else {}
    contact_ids = {c.assignee_id for c in cases if c.assignee_id}
    contacts = {p.id: p for p in session.exec(select(ContactPerson).where(col(ContactPerson.id).in_(contact_ids)))} \
        if contact_ids else {}
    labels = stage_labels(session, {c.workflow_version_id for c in cases if c.workflow_version_id})
    out = []
    for c in cases:
        org = orgs.get(c.org_id) if c.org_id else None
        person = contacts.get(c.assignee_id) if c.assignee_id else None
        left = days_left(c.due_date, today) if c.due_date else None
        out.append({
            "number": c.number, "org": org.slug if org else None, "org_name": org.name if org else None,
            "right": c.right, "stage": c.stage, "stage_label": stage_label(labels, c), "closed": c.closed,
            "channel": c.channel, "agent": c.agent_kind is not None, "received_at": c.received_at,
            "due_date": c.due_date, "days_left": left, "overdue": bool(left is not None and left < 0 and not c.closed),
            "assignee": {"id": person.id, "name": person.name, "role": person.role} if person else None,
            "internal_target": c.due_basis.get("internal_target"),  # ISO date, or None: no internal target
        })
    return out


def stage_labels(session: Session, version_ids: set[int]) -> dict[int, dict[str, dict[str, str]]]:
    """{version id: {right: {stage: label}}}, from definitions cached by digest (a version never changes)."""
    if not version_ids:
        return {}
    pairs = session.exec(
        select(WorkflowVersion.id, WorkflowVersion.digest).where(col(WorkflowVersion.id).in_(version_ids))
    ).all()
    out = {}
    for vid, digest in pairs:
        labels = _labels_cache.get(digest)
        if labels is None:
            version = session.get(WorkflowVersion, vid)
            labels = _labels_of(version.definition if version else {})
            _labels_cache[digest] = labels
        out[vid] = labels
    return out


_labels_cache: dict[str, dict[str, dict[str, str]]] = {}


def _labels_of(definition: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {right: {k: v.get("label", k) for k, v in wf.get("stages", {}).items()}
            for right, wf in definition.get("workflows", {}).items()}


def stage_label(labels: dict[int, dict[str, dict[str, str]]], c: Request) -> str:
    if c.stage == UNROUTED:
        return UNROUTED_LABEL
    return labels.get(c.workflow_version_id or 0, {}).get(c.right or "", {}).get(c.stage, c.stage)


@lru_cache(maxsize=1)
def all_stage_labels() -> dict[str, str]:
    """stage key → label over every base workflow (for filter menus)."""
    from dsar.workflow.definitions import load_bases

    out = {UNROUTED: UNROUTED_LABEL}
    for base in load_bases().values():
        for key, stage in base["stages"].items():
            out.setdefault(key, stage.get("label", key))
    return out
