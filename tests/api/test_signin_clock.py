"""Sign-ins (both outcomes), sign-outs and new accounts and tokens are stamped with the configured clock, not the
machine's: a fixed clock given to the app, or the simulated time of DSAR_CLOCK_FILE, years away from today."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import col, select

from tests.api.conftest import World, serve
from tests.api.test_auth import csrf_of, sign_in

FAR = datetime(2031, 3, 14, 1, 30, tzinfo=UTC)  # years from any day these tests run on
FILE_TIME = datetime(2019, 7, 2, 5, 0, tzinfo=UTC)


def stamps(*actions: str) -> list[tuple[str, str, datetime]]:
    """(action, reason, at in UTC) of the sign-in events, in the order they were written."""
    from dsar.db import session_scope
    from dsar.models import AuditEvent

    with session_scope() as s:
        rows = s.exec(select(AuditEvent).where(col(AuditEvent.action).in_(actions)).order_by(col(AuditEvent.id)))
        return [(e.action, e.details.get("reason", ""), e.at.replace(tzinfo=e.at.tzinfo or UTC).astimezone(UTC))
                for e in rows]


def test_console_sign_ins_and_sign_out_carry_the_apps_clock(world: World) -> None:
    from dsar.api.app import create_app
    from dsar.clock import FixedClock

    with serve(create_app(clock=FixedClock(FAR))) as url, httpx.Client(base_url=url) as client:
        assert sign_in(client, "nobody@testorg.example").status_code == 401
        assert sign_in(client, "desk@testorg.example", "not the password").status_code == 401
        assert sign_in(client, "desk@testorg.example").status_code == 303
        assert client.post("/logout", data={"csrf_token": csrf_of(client.get("/queue"))}).status_code == 303
    assert stamps("auth.login", "auth.login_failed", "auth.logout") == [
        ("auth.login_failed", "unknown", FAR), ("auth.login_failed", "bad_password", FAR),
        ("auth.login", "", FAR), ("auth.logout", "", FAR),
    ]


def test_accounts_and_tokens_made_through_the_api_carry_the_apps_clock(world: World) -> None:
    from dsar.api.app import create_app
    from dsar.auth.models import ApiToken, StaffUser
    from dsar.clock import FixedClock
    from dsar.db import session_scope

    with serve(create_app(clock=FixedClock(FAR))) as url, httpx.Client(base_url=url) as client:
        made = client.post("/api/users", headers=world.auth("admin"), json={
            "email": "new@testorg.example", "name": "신입", "role": "handler", "org": "testorg",
            "password": "a long enough password"})
        token = client.post("/api/tokens", headers=world.auth("admin"),
                            json={"name": "ticket-sync", "role": "감사", "org": "testorg"})
    assert made.status_code == 201 and token.status_code == 201
    assert [(a, at) for a, _r, at in stamps("staff.created", "token.created")][-2:] == [
        ("staff.created", FAR), ("token.created", FAR)]
    with session_scope() as s:
        user = s.exec(select(StaffUser).where(StaffUser.email == "new@testorg.example")).one()
        row = s.exec(select(ApiToken).where(ApiToken.name == "ticket-sync")).one()
        assert {d.replace(tzinfo=d.tzinfo or UTC).astimezone(UTC) for d in (user.created_at, row.created_at)} == {FAR}


@pytest.fixture
def clock_file(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """DSAR_CLOCK_FILE set to FILE_TIME: the clock processes use when no clock is handed to them."""
    from dsar.clock import write_clock_file
    from dsar.settings import get_settings

    path = tmp_path / "clock"
    write_clock_file(path, FILE_TIME)
    monkeypatch.setenv("DSAR_CLOCK_FILE", str(path))
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def test_without_a_clock_of_its_own_the_app_stamps_the_clock_files_time(clock_file: Path) -> None:
    from dsar.api.app import create_app
    from dsar.clock import write_clock_file

    with serve(create_app()) as url, httpx.Client(base_url=url) as client:
        assert sign_in(client, "officer@testorg.example").status_code == 303
        write_clock_file(clock_file, FILE_TIME + timedelta(hours=2))  # another process moves simulated time
        assert client.post("/logout", data={"csrf_token": csrf_of(client.get("/queue"))}).status_code == 303
    assert stamps("auth.login", "auth.logout") == [
        ("auth.login", "", FILE_TIME), ("auth.logout", "", FILE_TIME + timedelta(hours=2)),
    ]


def test_sign_in_called_without_a_clock_uses_the_configured_one(clock_file: Path) -> None:
    from dsar.auth import accounts
    from dsar.db import session_scope
    from tests.api.conftest import PASSWORD

    with session_scope() as s:
        assert accounts.sign_in(s, "officer@testorg.example", PASSWORD).user is not None
        assert accounts.sign_in(s, "officer@testorg.example", "wrong").user is None
    assert stamps("auth.login", "auth.login_failed") == [
        ("auth.login", "", FILE_TIME), ("auth.login_failed", "bad_password", FILE_TIME),
    ]
