"""The internal target beside the legal due date where staff look: the case API, the console's case page and queue
(computed in tests/test_internal_target.py). Closed cases and cases without a target show nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from sqlmodel import select

from tests.api.conftest import World
from tests.api.test_auth import sign_in


def _close(number: str) -> None:
    """Mark a case closed (setting up a state; closing itself is tested with the engine)."""
    from dsar.db import session_scope
    from dsar.models import Request

    with session_scope() as s:
        case = s.exec(select(Request).where(Request.number == number)).one()
        case.closed = True
        s.add(case)


def _unrouted() -> str:
    from dsar import engine
    from dsar.clock import FixedClock
    from dsar.db import session_scope

    received = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
    with session_scope() as s:
        return engine.open_case(s, org=None, right=None, received_at=received, actor="test",
                                clock=FixedClock(received)).number or ""


def test_case_api_console_case_page_and_queue_show_the_target(client: httpx.Client, world: World) -> None:
    number = world.cases["mine"]  # received Mon 23 Nov 2026 10:00: target 30 Nov, legal 3 Dec
    detail = client.get(f"/api/cases/{number}", headers=world.auth("handler")).json()
    assert (detail["due_date"], detail["due_basis"]["internal_target"]) == ("2026-12-03", "2026-11-30")
    assert "7일째" in detail["due_basis"]["internal_note"]
    sign_in(client, "desk@testorg.example")
    page = client.get(f"/cases/{number}").text
    assert '<b>내부 목표일 2026년 11월 30일(월)</b>' in page
    queue = client.get("/queue").text
    assert queue.count("내부 목표일") == 3 and "내부 목표일 2026년 11월 30일(월)" in queue
    _close(world.cases["overdue"])
    assert client.get("/queue?status=all").text.count("내부 목표일") == 2


def test_a_case_without_a_target_shows_none(client: httpx.Client, world: World) -> None:
    number = _unrouted()
    assert client.get(f"/api/cases/{number}", headers=world.auth("admin")).json()["due_basis"]["internal_target"] \
        is None
    sign_in(client, "admin@dsar.test")
    assert 'id="internal-target"' not in client.get(f"/cases/{number}").text
    queue = client.get("/queue?unrouted=1").text
    assert number in queue and "내부 목표일" not in queue
