"""Organisations, their compiled policy with line numbers, definition versions, policy import, statistics."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import ROOT, World


@pytest.fixture
def workflows_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workflows folder of the test's own (base definitions and schema copied), so imports write there."""
    folder = tmp_path / "workflows"
    for part in ("base", "schema"):
        shutil.copytree(ROOT / "workflows" / part, folder / part)
    monkeypatch.setenv("DSAR_WORKFLOWS_DIR", str(folder))
    from dsar.settings import get_settings

    get_settings.cache_clear()
    return folder


def test_org_detail_lists_contacts_with_their_ids(client: httpx.Client, world: World) -> None:
    org = client.get("/api/organisations/testorg", headers=world.auth("handler")).json()
    assert (org["slug"], org["name"], org["version"]) == ("testorg", "테스트주식회사", 1)
    officer = next(c for c in org["contacts"] if c["role"] == "책임자")
    assert officer["name"] == "김보호" and isinstance(officer["id"], int)
    assert any(c.get("added_by_staff") and c["name"] == "박보조" for c in org["contacts"])  # made for the account
    assert org["retention"][0]["period"] == "5년" and "열람" in org["rights"]


def test_import_registers_a_new_organisation_with_policy_lines(
    client: httpx.Client, world: World, workflows_dir: Path
) -> None:
    policy = ROOT / "samples" / "policies" / "rsupport_privacy_policy.txt"
    refused = client.post("/api/workflows/import", headers=world.auth("officer"),
                          files={"file": (policy.name, policy.read_bytes(), "text/plain")})
    assert refused.status_code == 403
    made = client.post("/api/workflows/import", headers=world.auth("admin"),
                       files={"file": (policy.name, policy.read_bytes(), "text/plain")})
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["slug"], body["version"], body["created"]) == ("rsupport", 1, True)
    assert (workflows_dir / "rsupport.yaml").is_file()
    again = client.post("/api/workflows/import", headers=world.auth("admin"),
                        files={"file": (policy.name, policy.read_bytes(), "text/plain")})
    assert again.status_code == 201 and again.json()["created"] is False and again.json()["version"] == 1
    org = client.get("/api/organisations/rsupport", headers=world.auth("admin")).json()
    officer = next(c for c in org["contacts"] if c["role"] == "책임자")
    assert officer["lines"] and all(isinstance(n, int) for n in officer["lines"])
    assert any(ch["kind"] == "email" and ch["lines"] for ch in org["channels"])
    assert all(r["lines"] for r in org["retention"])
    versions = client.get("/api/organisations/rsupport/workflow/versions", headers=world.auth("admin")).json()
    assert [v["version"] for v in versions["items"]] == [1] and versions["total"] == 1
    definition = client.get("/api/organisations/rsupport/workflow/versions/1", headers=world.auth("admin")).json()
    assert definition["definition"]["organisation"]["slug"] == "rsupport"
    assert client.get("/api/organisations/rsupport/workflow/versions/2",
                      headers=world.auth("admin")).status_code == 404


def test_import_of_a_file_that_is_not_a_policy_says_why(client: httpx.Client, world: World,
                                                        workflows_dir: Path) -> None:
    response = client.post("/api/workflows/import", headers=world.auth("admin"),
                           files={"file": ("empty.txt", b"", "text/plain")})
    assert response.status_code == 422 and response.json()["error"]["code"] == "policy_invalid"
    assert list(workflows_dir.glob("*.yaml")) == []


def test_current_definition_is_the_newest_version(client: httpx.Client, world: World) -> None:
    current = client.get("/api/organisations/testorg/workflow", headers=world.auth("auditor")).json()
    assert current["version"] == 1 and "열람" in current["definition"]["workflows"]
    assert current["definition"]["workflows"]["열람"]["clock"]["days"] == 10


def test_stats_count_received_overdue_and_on_time(client: httpx.Client, world: World) -> None:
    stats = client.get("/api/stats?weeks=4", headers=world.auth("officer")).json()
    assert [w["week_start"] for w in stats["weeks"]] == ["2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23"]
    assert [w["received"] for w in stats["weeks"]] == [1, 0, 1, 1]
    assert [w["overdue"] for w in stats["weeks"]] == [0, 0, 1, 0]  # 삭제 case due 11-16, still open
    assert stats["open"] == 3 and stats["overdue_open"] == 1 and stats["on_time_rate"] is None
    rights = {r["right"]: r for r in stats["rights"]}
    assert rights["삭제"]["overdue"] == 1 and rights["열람"]["received"] == 1
    other = client.get("/api/stats", headers=world.auth("other_officer")).json()
    assert other["open"] == 1


def test_on_time_rate_counts_cases_closed_by_their_due_date(client: httpx.Client, world: World) -> None:
    from datetime import UTC, datetime

    from tests.api.conftest import advance, open_case

    number = open_case(world.org_id, received=datetime(2026, 11, 24, 1, 0, tzinfo=UTC), email=None,
                       assignee_email="desk@testorg.example")
    advance(number, "start_verification", "verify", "approve")
    for n in client.get(f"/api/cases/{number}/notices", headers=world.auth("handler")).json()["items"]:
        assert client.post(f"/api/cases/{number}/notices/{n['id']}/send", headers=world.auth("handler")).is_success
    advance(number, "close")  # at NOW (11-25), due 12-04: on time
    stats = client.get("/api/stats?weeks=4", headers=world.auth("officer")).json()
    assert stats["closed"] == 1 and stats["on_time_rate"] == 1.0
    assert stats["weeks"][-1]["closed"] == 1
    assert {r["right"]: r["on_time_rate"] for r in stats["rights"]}["열람"] == 1.0
