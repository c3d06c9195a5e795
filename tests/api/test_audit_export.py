"""The audit trail through the API: a case's events, and the export a verifier can check on its own."""

from __future__ import annotations

import csv
import hashlib
import io
import json

import httpx

from tests.api.conftest import World

GENESIS = "0" * 64


def rehash(e: dict) -> str:
    """The chain hash recomputed from an exported line (the same fields `dsar.audit.event_hash` covers)."""
    body = {"chain": e["chain"], "seq": e["seq"], "at": e["at"], "actor": e["actor"], "action": e["action"],
            "org_id": e["org_id"], "request_id": e["request_id"], "details": e["details"], "prev": e["prev_hash"]}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def test_case_audit_lists_the_cases_events_in_order(client: httpx.Client, world: World) -> None:
    number = world.cases["mine"]
    client.get(f"/api/cases/{number}", headers=world.auth("handler"))
    page = client.get(f"/api/cases/{number}/audit?limit=2", headers=world.auth("handler")).json()
    assert [e["action"] for e in page["items"]] == ["request.opened", "notice.rendered"]
    assert page["total"] == 3 and page["items"][1]["prev_hash"] == page["items"][0]["hash"]


def test_officers_export_holds_only_their_organisations_chain_and_verifies(client: httpx.Client, world: World) -> None:
    client.get(f"/api/cases/{world.cases['other']}", headers=world.auth("other_officer"))  # an event elsewhere
    response = client.get("/api/audit/export?format=jsonl", headers=world.auth("officer"))
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/x-ndjson")
    events = [json.loads(line) for line in response.text.splitlines()]
    assert {e["chain"] for e in events} == {f"org:{world.org_id}"}
    prev = GENESIS
    for expected_seq, e in enumerate(events, start=1):
        assert (e["seq"], e["prev_hash"]) == (expected_seq, prev)
        assert rehash(e) == e["hash"], e
        prev = e["hash"]
    assert events[-1]["action"] == "audit.exported"  # the export itself is on record, first


def test_csv_export_for_an_admin_covers_every_chain(client: httpx.Client, world: World) -> None:
    response = client.get("/api/audit/export?format=csv", headers=world.auth("admin"))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    chains = {r["chain"] for r in rows}
    assert {f"org:{world.org_id}", f"org:{world.other_org_id}", "system"} <= chains
    assert all(len(r["hash"]) == 64 for r in rows)
    staff = [r for r in rows if r["action"] == "staff.created"]
    assert len(staff) == 7 and json.loads(staff[0]["details"])["role"]


def test_export_by_date_keeps_only_those_days(client: httpx.Client, world: World) -> None:
    response = client.get("/api/audit/export?since=2030-01-01", headers=world.auth("auditor"))
    assert response.status_code == 200 and response.text == ""
    bad = client.get("/api/audit/export?format=xml", headers=world.auth("auditor"))
    assert bad.status_code == 422
