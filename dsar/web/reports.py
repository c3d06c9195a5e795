"""Console pages for overview: the dashboard (server-drawn SVG charts) and the organisations' compiled policies."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlmodel import col, func, select

from dsar.api import queries
from dsar.api.cases import OrgQuery, Slug
from dsar.api.deps import ClockDep, SessionDep
from dsar.api.orgs import org_detail
from dsar.api.stats import dashboard
from dsar.models import Organisation, WorkflowVersion
from dsar.web.charts import Series, grouped_bars, rate_bars
from dsar.web.pages import page
from dsar.web.security import ConsolePrincipal

router = APIRouter(include_in_schema=False)


@router.get("/dashboard")
def dashboard_page(
    request: Request, session: SessionDep, clock: ClockDep, principal: ConsolePrincipal,
    org: OrgQuery = None,
    weeks: Annotated[int, Query(ge=4, le=52)] = 12,
) -> Response:
    org_id = queries.org_by_slug(session, principal, org).id if org else None
    figures = dashboard(session, principal, now=clock.now(), weeks=weeks, org_id=org_id)
    labels = [w["label"] for w in figures["weeks"]]
    weekly = grouped_bars("주별 접수·종결·기한 초과", labels, [
        Series("접수", "#3b6fb6", [w["received"] for w in figures["weeks"]]),
        Series("종결", "#2f7d4f", [w["closed"] for w in figures["weeks"]]),
        Series("기한 초과", "#c0392b", [w["overdue"] for w in figures["weeks"]]),
    ])
    rights = figures["rights"]
    per_right = grouped_bars("권리별 접수·종결·기한 초과", [r["right"] for r in rights], [
        Series("접수", "#3b6fb6", [r["received"] for r in rights]),
        Series("종결", "#2f7d4f", [r["closed"] for r in rights]),
        Series("기한 초과", "#c0392b", [r["overdue"] for r in rights]),
    ], height=240)
    on_time = rate_bars("권리별 기한 내 처리율", [(r["right"], r["on_time_rate"]) for r in rights])
    orgs = list(session.exec(select(Organisation).order_by(col(Organisation.slug)))) if principal.is_admin else []
    return page(request, "dashboard.html.j2", figures=figures, weekly=weekly, per_right=per_right, on_time=on_time,
                orgs=orgs, org=org or "", weeks=weeks)


@router.get("/organisations")
def organisations_page(request: Request, session: SessionDep, principal: ConsolePrincipal) -> Response:
    query = select(Organisation).order_by(col(Organisation.slug))
    if not principal.is_admin:
        query = query.where(col(Organisation.id) == principal.org_id)
    orgs = list(session.exec(query))
    latest = dict(session.exec(select(WorkflowVersion.org_id, func.max(WorkflowVersion.version))
                               .group_by(col(WorkflowVersion.org_id))).all())
    return page(request, "organisations.html.j2", orgs=orgs, latest=latest)


@router.get("/organisations/{slug}")
def organisation_page(slug: Slug, request: Request, session: SessionDep, principal: ConsolePrincipal) -> Response:
    """The compiled policy: contacts, channels, verification, retention, each with its policy line numbers."""
    detail = org_detail(session, principal, slug)
    versions = list(session.exec(select(WorkflowVersion).where(WorkflowVersion.org_id == detail["id"])
                                 .order_by(col(WorkflowVersion.version).desc()).limit(20)))
    return page(request, "organisation.html.j2", org=detail, versions=versions)
