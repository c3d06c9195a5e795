"""Which organisation a message is for: an exact recipient address, then its domain, then the configured default."""

from __future__ import annotations

from sqlmodel import Session, select

from dsar.memo import memo
from dsar.models import Organisation, RouteAddress
from dsar.settings import get_settings


def route(session: Session, recipients: list[str]) -> Organisation | None:
    addresses = [r.lower() for r in recipients]
    keys = addresses + ["@" + a.rsplit("@", 1)[1] for a in addresses if "@" in a]
    table = memo(session, "routes", lambda: {r.address: r.org_id for r in session.exec(select(RouteAddress))})
    for key in keys:  # exact addresses first, in header order; then domains
        if key in table:
            return _organisation(session, table[key])
    default = get_settings().default_org
    if default:
        return memo(session, ("org_slug", default), lambda: session.exec(
            select(Organisation).where(Organisation.slug == default)).first())
    return None


def _organisation(session: Session, org_id: int) -> Organisation | None:
    """Memoised: the session's identity map alone keeps no object alive from one message to the next."""
    return memo(session, ("org", org_id), lambda: session.get(Organisation, org_id))
