"""Which organisation a message is for: an exact recipient address, then its domain, then the configured default."""

from __future__ import annotations

from sqlmodel import Session, col, select

from dsar.models import Organisation, RouteAddress
from dsar.settings import get_settings


def route(session: Session, recipients: list[str]) -> Organisation | None:
    addresses = [r.lower() for r in recipients]
    keys = addresses + ["@" + a.rsplit("@", 1)[1] for a in addresses if "@" in a]
    if keys:
        query = select(RouteAddress).where(col(RouteAddress.address).in_(keys))
        rows = {r.address: r.org_id for r in session.exec(query)}
        for key in keys:  # exact addresses first, in header order; then domains
            if key in rows:
                return session.get(Organisation, rows[key])
    default = get_settings().default_org
    if default:
        return session.exec(select(Organisation).where(Organisation.slug == default)).first()
    return None
