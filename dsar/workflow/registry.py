"""Registering an organisation's resolved definition in the database, as a new version when it changed.

Cases pin the version they started on; registering never touches a running case.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

import yaml
from sqlmodel import Session, col, select

from dsar import audit
from dsar.memo import memo
from dsar.models import ContactPerson, Organisation, RouteAddress, WorkflowVersion
from dsar.workflow.definitions import digest


@dataclass
class Registered:
    org: Organisation
    version: WorkflowVersion
    created: bool
    diff: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _as_text(resolved: dict[str, Any]) -> list[str]:
    return yaml.safe_dump(resolved, allow_unicode=True, sort_keys=True, width=120).splitlines()


def register(session: Session, resolved: dict[str, Any], *, actor: str = "system") -> Registered:
    meta = resolved["organisation"]
    org = session.exec(select(Organisation).where(Organisation.slug == meta["slug"])).first()
    if org is None:
        org = Organisation(slug=meta["slug"], name=meta["name"])
        session.add(org)
        session.flush()
    org.name = meta["name"]
    _sync_contacts(session, org, resolved.get("contacts", []))
    warnings = _sync_routes(session, org, resolved.get("routing", {}))

    latest = session.exec(
        select(WorkflowVersion).where(WorkflowVersion.org_id == org.id).order_by(col(WorkflowVersion.version).desc())
    ).first()
    new_digest = digest(resolved)
    if latest is not None and latest.digest == new_digest:
        return Registered(org, latest, created=False, warnings=warnings)
    diff = []
    if latest is not None:
        diff = list(difflib.unified_diff(
            _as_text(latest.definition), _as_text(resolved),
            f"{org.slug} v{latest.version}", f"{org.slug} v{latest.version + 1}", lineterm="", n=1,
        ))
    version = WorkflowVersion(
        org_id=org.id, version=(latest.version + 1) if latest else 1, digest=new_digest,
        source=meta.get("source", ""), definition=resolved,
    )
    session.add(version)
    session.flush()
    audit.record(
        session, "workflow.registered", actor=actor, org_id=org.id,
        details={"version": version.version, "digest": new_digest, "changed_lines": len(diff)},
    )
    return Registered(org, version, created=True, diff=diff, warnings=warnings)


def _sync_contacts(session: Session, org: Organisation, contacts: list[dict[str, Any]]) -> None:
    """Keep rows (cases may point at them), add new people, deactivate people the policy no longer names."""
    keys = ("role", "name", "title", "department", "phone", "email")
    existing = list(session.exec(select(ContactPerson).where(ContactPerson.org_id == org.id)))
    wanted = [{k: c.get(k) for k in keys} for c in contacts]
    for row in existing:
        row.active = {k: getattr(row, k) for k in keys} in wanted
        session.add(row)
    have = [{k: getattr(r, k) for k in keys} for r in existing]
    for c in wanted:
        if c not in have:
            session.add(ContactPerson(org_id=org.id, active=True, **c))
    session.flush()


def _sync_routes(session: Session, org: Organisation, routing: dict[str, Any]) -> list[str]:
    warnings = []
    wanted = [a.lower() for a in routing.get("addresses", [])] + ["@" + d.lower() for d in routing.get("domains", [])]
    for address in wanted:
        row = session.exec(select(RouteAddress).where(RouteAddress.address == address)).first()
        if row is None:
            session.add(RouteAddress(address=address, org_id=org.id))
        elif row.org_id != org.id:
            warnings.append(f"주소 {address}는 이미 다른 조직으로 라우팅됩니다: 기존 설정을 유지합니다")
    session.flush()
    return warnings


def latest_version(session: Session, org_id: int) -> WorkflowVersion | None:
    return memo(session, ("latest_version", org_id), lambda: session.exec(
        select(WorkflowVersion).where(WorkflowVersion.org_id == org_id).order_by(col(WorkflowVersion.version).desc())
    ).first())
