"""/api/organisations and /api/workflows: organisations, their compiled policy and definition versions."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, UploadFile
from sqlmodel import Session, col, func, select

from dsar.api import queries
from dsar.api.cases import Id, Limit, Offset, OrgQuery, Slug
from dsar.api.deps import ClockDep, PrincipalDep, SessionDep
from dsar.api.schemas import ERRORS, ImportOut, OrgDetail, OrgItem, Page, Stats, VersionDetail, VersionItem
from dsar.api.stats import dashboard
from dsar.auth.roles import Principal, require_admin
from dsar.errors import InvalidInput, NotFound
from dsar.models import ContactPerson, Organisation, WorkflowVersion
from dsar.settings import get_settings
from dsar.workflow.importer import import_policy
from dsar.workflow.registry import latest_version

router = APIRouter(tags=["organisations"], responses=ERRORS)
MAX_POLICY_BYTES = 2 * 1024 * 1024


@router.get("/api/organisations", response_model=Page[OrgItem])
def list_orgs(session: SessionDep, principal: PrincipalDep, limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
    query = select(Organisation)
    count = select(func.count()).select_from(Organisation)
    if not principal.is_admin:
        query = query.where(col(Organisation.id) == principal.org_id)
        count = count.where(col(Organisation.id) == principal.org_id)
    orgs = session.exec(query.order_by(col(Organisation.slug)).limit(limit).offset(offset)).all()
    latest = dict(session.exec(select(WorkflowVersion.org_id, func.max(WorkflowVersion.version))
                               .group_by(col(WorkflowVersion.org_id))).all())
    items = [{"id": o.id, "slug": o.slug, "name": o.name, "created_at": o.created_at,
              "latest_version": latest.get(o.id)} for o in orgs]
    return {"items": items, "total": int(session.exec(count).one()), "limit": limit, "offset": offset}


def org_detail(session: Session, principal: Principal, slug: str) -> dict[str, Any]:
    """The organisation as its newest definition compiled it: contacts, channels, verification, retention,
    complaint bodies, each with the policy line numbers it came from (`lines`)."""
    org = queries.org_by_slug(session, principal, slug)
    version = latest_version(session, org.id or 0)
    d = version.definition if version else {}
    people = list(session.exec(select(ContactPerson).where(ContactPerson.org_id == org.id)
                               .order_by(col(ContactPerson.id))))
    contacts = []
    for c in d.get("contacts", []):
        match = next((p for p in people if p.role == c.get("role") and p.name == c.get("name")
                      and p.email == c.get("email")), None)
        contacts.append({**c, "id": match.id if match else None, "active": match.active if match else True})
    named = {(c.get("role"), c.get("name"), c.get("email")) for c in d.get("contacts", [])}
    contacts += [{"id": p.id, "role": p.role, "name": p.name, "title": p.title, "department": p.department,
                  "phone": p.phone, "email": p.email, "lines": [], "active": p.active, "added_by_staff": True}
                 for p in people if (p.role, p.name, p.email) not in named]
    return {
        "id": org.id, "slug": org.slug, "name": org.name, "version": version.version if version else None,
        "source": d.get("organisation", {}).get("source"), "contacts": contacts,
        "channels": d.get("channels", []), "verification": d.get("verification", []),
        "retention": d.get("retention", []), "complaint_bodies": d.get("complaint_bodies", []),
        "settings": d.get("settings", {}), "rights": list(d.get("workflows", {})),
    }


@router.get("/api/organisations/{slug}", response_model=OrgDetail)
def get_org(slug: Slug, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    return org_detail(session, principal, slug)


def _version_row(v: WorkflowVersion) -> dict[str, Any]:
    return {"version": v.version, "digest": v.digest, "source": v.source, "created_at": v.created_at}


@router.get("/api/organisations/{slug}/workflow", response_model=VersionDetail)
def current_definition(slug: Slug, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    """The newest resolved definition (what new cases start on)."""
    org = queries.org_by_slug(session, principal, slug)
    version = latest_version(session, org.id or 0)
    if version is None:
        raise NotFound(f"조직 '{slug}'에 등록된 워크플로가 없습니다: dsar policy import로 등록하세요")
    return {**_version_row(version), "definition": version.definition}


@router.get("/api/organisations/{slug}/workflow/versions", response_model=Page[VersionItem])
def list_versions(
    slug: Slug, session: SessionDep, principal: PrincipalDep, limit: Limit = 50, offset: Offset = 0
) -> dict[str, Any]:
    org = queries.org_by_slug(session, principal, slug)
    where = col(WorkflowVersion.org_id) == org.id
    rows = session.exec(select(WorkflowVersion).where(where).order_by(col(WorkflowVersion.version).desc())
                        .limit(limit).offset(offset)).all()
    total = session.exec(select(func.count()).select_from(WorkflowVersion).where(where)).one()
    return {"items": [_version_row(v) for v in rows], "total": int(total), "limit": limit, "offset": offset}


@router.get("/api/organisations/{slug}/workflow/versions/{version}", response_model=VersionDetail)
def get_version(slug: Slug, version: Id, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    """One version as cases pinned to it run it."""
    org = queries.org_by_slug(session, principal, slug)
    row = session.exec(select(WorkflowVersion).where(WorkflowVersion.org_id == org.id,
                                                     WorkflowVersion.version == version)).first()
    if row is None:
        raise NotFound(f"조직 '{slug}'에 워크플로 버전 {version}이(가) 없습니다")
    return {**_version_row(row), "definition": row.definition}


@router.get("/api/stats", response_model=Stats)
def stats(
    session: SessionDep, principal: PrincipalDep, clock: ClockDep,
    org: OrgQuery = None,
    weeks: Annotated[int, Query(ge=1, le=104)] = 12,
) -> dict[str, Any]:
    """Cases received, closed and overdue per week and per right, and the on-time rate."""
    org_id = queries.org_by_slug(session, principal, org).id if org else None
    return dashboard(session, principal, now=clock.now(), weeks=weeks, org_id=org_id)


@router.post("/api/workflows/import", response_model=ImportOut, status_code=201)
def import_uploaded_policy(
    session: SessionDep, principal: PrincipalDep,
    file: Annotated[UploadFile, File(description="The privacy policy (text or HTML)")],
) -> dict[str, Any]:
    """Compile an uploaded privacy policy into the organisation's workflow and register it (admin)."""
    require_admin(principal)
    data = file.file.read(MAX_POLICY_BYTES + 1)
    if len(data) > MAX_POLICY_BYTES:
        raise InvalidInput(f"처리방침 파일이 {MAX_POLICY_BYTES // 1024 // 1024} MB를 넘습니다", field="file")
    name = _safe_name(file.filename or "policy.txt")
    with tempfile.TemporaryDirectory(prefix="dsar-policy-") as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        imported = import_policy(session, path, get_settings().workflows_dir, actor=principal.actor)
    reg = imported.registered
    return {"slug": reg.org.slug, "version": reg.version.version, "created": reg.created,
            "summary": imported.summary, "diff": reg.diff}


def _safe_name(name: str) -> str:
    stem = re.sub(r"[^\w.-]", "_", Path(name).name)[:100].lstrip(".")
    return stem or "policy.txt"
