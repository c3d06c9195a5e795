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


def acknowledged(events: list[dict]) -> set[str]:
    """Case numbers whose acknowledgement is in the export (stamped with the time each case arrived)."""
    from sqlmodel import select

    from dsar.db import session_scope
    from dsar.models import Request

    with session_scope() as s:
        numbers = {r.id: r.number for r in s.exec(select(Request))}
    return {numbers[e["request_id"]] for e in events if e["action"] == "notice.rendered"}


def test_export_by_korean_date_range_keeps_only_those_days(client: httpx.Client, world: World) -> None:
    response = client.get("/api/audit/export?from=2026-11-20&to=2026-11-23", headers=world.auth("auditor"))
    assert response.status_code == 200
    events = [json.loads(line) for line in response.text.splitlines()]
    assert acknowledged(events) == {world.cases["mine"], world.cases["theirs"]}  # not 11-05's, not otherorg's
    assert all(rehash(e) == e["hash"] for e in events)
    assert client.get("/api/audit/export?from=2030-01-01", headers=world.auth("auditor")).text == ""


def test_export_of_one_case_holds_its_events_and_records_the_access_to_it(client: httpx.Client,
                                                                          world: World) -> None:
    number = world.cases["overdue"]
    response = client.get(f"/api/audit/export?case={number}", headers=world.auth("auditor"))
    events = [json.loads(line) for line in response.text.splitlines()]
    assert acknowledged(events) == {number} and len({e["request_id"] for e in events}) == 1
    last = events[-1]
    assert last["action"] == "audit.exported" and last["actor"] == "staff:audit@testorg.example"
    assert last["details"]["case"] == number and last["details"]["chains"] == [f"org:{world.org_id}"]


def test_export_refuses_a_bad_range_and_hides_other_organisations_cases(client: httpx.Client,
                                                                        world: World) -> None:
    backwards = client.get("/api/audit/export?from=2026-11-30&to=2026-11-01", headers=world.auth("auditor"))
    assert backwards.status_code == 422 and "늦습니다" in backwards.json()["error"]["message"]
    assert client.get("/api/audit/export?from=2026-13-01", headers=world.auth("auditor")).status_code == 422
    assert client.get("/api/audit/export?format=xml", headers=world.auth("auditor")).status_code == 422
    other = world.cases["other"]
    assert client.get(f"/api/audit/export?case={other}", headers=world.auth("officer")).status_code == 404
    mixed = client.get(f"/api/audit/export?org=testorg&case={other}", headers=world.auth("admin"))
    assert mixed.status_code == 404
    assert client.get(f"/api/audit/export?case={other}", headers=world.auth("admin")).status_code == 200
