"""`GET /api/cases` carries each case's internal target (내부 목표일), the same date as the case's own
`due_basis.internal_target`, without a query per case."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import httpx

from tests.api.conftest import World, open_case
from tests.api.test_internal_target_shown import _unrouted


@contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL statements run on the app's database while the block runs (the served app shares this engine)."""
    from sqlalchemy import event

    from dsar.db import get_engine

    seen: list[str] = []

    def note(_conn, _cursor, statement, _parameters, _context, _many) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def test_each_list_item_has_the_target_its_case_detail_shows(client: httpx.Client, world: World) -> None:
    officer = world.auth("officer")
    items = client.get("/api/cases", headers=officer).json()["items"]
    targets = {c["number"]: c["internal_target"] for c in items}
    assert targets[world.cases["mine"]] == "2026-11-30"  # received Mon 23 Nov 2026: 7 days, legal due 3 Dec
    for number, target in targets.items():
        detail = client.get(f"/api/cases/{number}", headers=officer).json()
        assert target == detail["due_basis"]["internal_target"] is not None
        assert target <= detail["due_date"]


def test_a_case_without_a_target_lists_null(client: httpx.Client, world: World) -> None:
    number = _unrouted()
    [item] = client.get("/api/cases?unrouted=true", headers=world.auth("admin")).json()["items"]
    assert item["number"] == number and item["internal_target"] is None


def test_listing_more_cases_runs_no_more_queries(client: httpx.Client, world: World) -> None:
    admin = world.auth("admin")
    client.get("/api/cases", headers=admin)  # the token's last use is written once, stage labels cached
    with statements() as few:
        before = client.get("/api/cases", headers=admin).json()
    received = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)
    for i in range(12):
        open_case(world.org_id if i % 2 else world.other_org_id, right=("열람", "삭제", "정정")[i % 3],
                  received=received + timedelta(days=i % 5), assignee_email="desk@testorg.example" if i % 2 else None)
    with statements() as many:
        after = client.get("/api/cases", headers=admin).json()
    assert (before["total"], after["total"]) == (4, 16)
    assert all(c["internal_target"] is not None for c in after["items"])
    assert len(many) == len(few), many
