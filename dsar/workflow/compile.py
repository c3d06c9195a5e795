"""From an extracted policy to the organisation's workflow file (`workflows/<slug>.yaml`).

Every right of the Act gets a workflow, because the law grants it whatever the policy says; a right the policy
does not name is marked `named_in_policy: false` and the compiler says so in a warning. What the policy does
not say is left empty and warned about, never guessed.
"""

from __future__ import annotations

from typing import Any

import yaml

from dsar.rights import Right

BASE_KEYS = {right.value: right.key for right in Right}


def _lines(evidence: Any) -> list[int]:
    if isinstance(evidence, list):
        return sorted({n for n in evidence if isinstance(n, int)})
    if isinstance(evidence, dict):
        return sorted({n for v in evidence.values() for n in _lines(v)})
    return []


def organisation_document(extract: dict[str, Any], *, source: str) -> dict[str, Any]:
    """The organisation document for one extracted policy (see `dsar.policy` for the extract's keys)."""
    ev = extract.get("evidence") or {}
    contact_ev = ev.get("contacts") or []
    contacts = [
        {k: c.get(k) for k in ("role", "name", "title", "department", "phone", "email")}
        | {"lines": _lines(contact_ev[i]) if i < len(contact_ev) else []}
        for i, c in enumerate(extract["contacts"])
    ]
    channel_ev = ev.get("channels") or []
    channels = []
    for kind in extract["channels"]:
        found = [c for c in channel_ev if c.get("kind") == kind]
        values = sorted({c.get("value") for c in found if c.get("value")})
        for value in values or [None]:
            lines = _lines([n for c in found if c.get("value") == value for n in c.get("lines", [])])
            channels.append({"kind": kind, "value": value, "lines": lines})
    retention_ev = ev.get("retention") or []
    retention = [
        {"item": r["item"], "period": r["period"], "basis": r.get("basis"),
         "lines": _lines(retention_ev[i]) if i < len(retention_ev) else []}
        for i, r in enumerate(extract["retention"])
    ]
    emails = [c["email"] for c in extract["contacts"] if c.get("email")]
    officer = next((c for c in extract["contacts"] if c["role"] == "책임자"), None)
    named = set(extract["rights"])
    right_ev = ev.get("rights") or {}
    rights = {
        r.value: {"base": r.key, "named_in_policy": r.value in named, "lines": _lines(right_ev.get(r.value, []))}
        for r in Right
    }
    return {
        "schema": "dsar.workflow/v1",
        "kind": "organisation",
        "organisation": {
            "name": extract["org"], "slug": extract["slug"], "source": source,
            "dates": dict(extract.get("dates") or {}),
        },
        "routing": {
            "addresses": sorted(set(emails)),
            "domains": sorted({e.split("@", 1)[1] for e in emails}),
        },
        "contacts": contacts,
        "channels": channels,
        "verification": list(extract["verification"]),
        "retention": retention,
        "complaint_bodies": [dict(b) for b in extract["complaint_bodies"]],
        "settings": {
            "counting": "civil",
            "internal_target_days": 7,
            "officer_email": officer.get("email") if officer else None,
            "objection_procedure": None,
        },
        "rights": rights,
        "warnings": list(extract.get("warnings") or []),
    }


HEADER = """\
# Workflow of {name}, compiled by `dsar policy import` from {source}.
# Each right runs on its statutory base workflow (workflows/base/); `lines` point at the policy text.
# Operators may edit `settings` and fill what the policy left empty; re-importing the policy rewrites this file.
"""


def dump(doc: dict[str, Any]) -> str:
    """Deterministic YAML: same policy, same bytes (no timestamps), so re-imports diff cleanly."""
    org = doc["organisation"]
    body = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=120, default_flow_style=None)
    return HEADER.format(name=org["name"], source=org.get("source", "?")) + body
