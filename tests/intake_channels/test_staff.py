"""Staff entry of a request taken by phone, letter, visit or fax: the service, `dsar intake staff` and
POST /intake/staff. The clock runs from the time the request was actually received; no message is invented."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from httpx import Client
from sqlmodel import select

from dsar.clock import FixedClock
from dsar.db import session_scope
from dsar.errors import InvalidInput, NotFound
from dsar.intake import staff
from dsar.models import AuditEvent, InboundMessage, Notice, Request
from tests.cli import ROOT, dsar, dsar_json
from tests.intake_channels.helpers import TOKEN, all_cases, all_inbound

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # Monday 12:00 in Seoul
RECEIVED = datetime(2026, 11, 20, 5, 0, tzinfo=UTC)  # Friday 14:00 in Seoul


def _entry(**changes: object) -> staff.StaffEntry:
    base = staff.StaffEntry(org="testorg", rights=["열람"], channel="phone", received_at=RECEIVED, name="박전화",
                            email="park@example.com", phone="010-2222-3333",
                            details="통화 내용: 회원 정보와 최근 주문 내역의 열람을 원함")
    for key, value in changes.items():
        setattr(base, key, value)
    return base


def _enter(entry: staff.StaffEntry) -> staff.StaffResult:
    with session_scope() as session:
        return staff.enter(session, entry, clock=FixedClock(NOW), actor="staff:이담당")


def test_a_phone_request_opens_a_case_whose_clock_runs_from_when_it_was_received(testorg: int) -> None:
    result = _enter(_entry())
    assert result.rights == ["열람"] and result.channel == "phone" and result.org == "testorg"
    # 열람 is 10 days (민법 157: from the next day): 11-20 + 10 = 11-30 (Monday), not counted from entry (11-23).
    assert result.due == "2026-11-30"
    with session_scope() as s:
        case = s.exec(select(Request)).one()
        assert case.number == result.request_id and case.channel == "phone" and case.inbound_id is None
        assert case.received_at == RECEIVED and case.requester_phone == "010-2222-3333"
        assert case.stage == "received" and case.classification["entered_by"] == "staff:이담당"
        acks = s.exec(select(Notice).where(Notice.request_id == case.id)).all()
        assert [(n.kind, n.recipient, n.status) for n in acks] == [("acknowledgement", "park@example.com", "queued")]
        assert result.notices == [acks[0].id] and "전화" in acks[0].text
        events = {e.action: e for e in s.exec(select(AuditEvent))}
        assert events["intake.staff_entry"].actor == "staff:이담당"
        assert events["intake.staff_entry"].details["received_at"] == RECEIVED.isoformat()
        assert s.exec(select(InboundMessage)).all() == []  # no fake e-mail


def test_several_rights_open_one_case_each_and_a_repeat_is_linked_as_a_duplicate(testorg: int) -> None:
    first = _enter(_entry(rights=["열람", "erasure"], channel="visit"))
    assert len(first.cases) == 2
    again = _enter(_entry(rights=["열람"], channel="written", received_at=RECEIVED + timedelta(days=1)))
    assert again.duplicate_of == first.cases[0]
    assert [c.channel for c in all_cases()] == ["visit", "visit", "written"]


def test_identifiers_the_caller_dictated_are_masked(testorg: int) -> None:
    _enter(_entry(details="주민등록번호 900101-1234567 로 가입했다고 함"))
    (case,) = all_cases()
    assert "900101-1234567" not in case.details and "900101-1******" in case.details


def test_without_an_email_no_acknowledgement_is_sent_and_staff_are_told(testorg: int) -> None:
    result = _enter(_entry(email=None, channel="fax"))
    assert result.notices == [] and "이메일 주소가 없어" in result.warnings[0]


@pytest.mark.parametrize(("change", "error", "words"), [
    ({"received_at": NOW + timedelta(hours=1)}, InvalidInput, "현재 시각"),
    ({"channel": "email"}, InvalidInput, "phone(전화)"),
    ({"rights": ["환불"]}, InvalidInput, "알 수 없는 요구 종류"),
    ({"rights": []}, InvalidInput, "하나 이상"),
    ({"name": None}, InvalidInput, "성명"),
    ({"email": "park@"}, InvalidInput, "이메일"),
    ({"agent_kind": "친구"}, InvalidInput, "법정대리인"),
    ({"org": "nobody"}, NotFound, "nobody"),
])
def test_bad_entries_are_refused_in_korean_and_open_nothing(
    testorg: int, change: dict, error: type, words: str  # type: ignore[type-arg]
) -> None:
    with pytest.raises(error) as raised:
        _enter(_entry(**change))
    assert words in raised.value.message
    assert all_cases() == []


def test_a_time_a_little_ahead_of_the_server_is_tolerated(testorg: int) -> None:
    assert _enter(_entry(received_at=NOW + timedelta(seconds=30))).request_id


def test_a_time_without_zone_is_seoul_time() -> None:
    assert staff.parse_received("2026-11-20T14:00") == RECEIVED
    with pytest.raises(InvalidInput, match="읽을 수 없습니다"):
        staff.parse_received("어제 오후")


# -- the command line -----------------------------------------------------------------------------------------


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    env = {"DSAR_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "DSAR_DATA_DIR": str(tmp_path / "var")}
    seed = ROOT / "samples" / "policies"
    dsar("policy", "import", *map(str, sorted(seed.glob("*.txt"))), "--out", str(tmp_path / "wf"), env=env)
    return env


def test_the_cli_enters_a_staff_request_and_prints_json(cli_env: dict[str, str]) -> None:
    data = dsar_json("intake", "staff", "--org", "rsupport", "--right", "열람", "--right", "삭제",
                     "--channel", "phone", "--received", "2026-11-20T14:00+09:00", "--name", "최방문",
                     "--email", "choi@example.com", "--phone", "010-5555-6666", "--details", "전화로 요청함",
                     env=cli_env)
    assert data["rights"] == ["열람", "삭제"] and len(data["cases"]) == 2 and data["org"] == "rsupport"
    assert data["due"] == "2026-11-30" and data["channel"] == "phone"
    assert data["received_at"] == "2026-11-20T14:00:00+09:00"
    shown = dsar_json("requests", "show", data["cases"][0], env=cli_env)
    assert "phone" in str(shown) and "최방문" in str(shown)


def test_the_cli_refuses_a_future_time_with_exit_code_2(cli_env: dict[str, str]) -> None:
    future = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    proc = dsar("intake", "staff", "--org", "rsupport", "--right", "열람", "--channel", "phone", "--received", future,
                "--name", "최방문", env=cli_env, check=False)
    assert proc.returncode == 2 and "현재 시각" in proc.stderr and "Traceback" not in proc.stderr


# -- the API --------------------------------------------------------------------------------------------------


def _staff_json(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {"org": "testorg", "right": ["처리정지"], "channel": "written",
                               "received_at": "2026-11-20T14:00:00+09:00", "name": "정서면",
                               "email": "jung@example.com", "details": "우편으로 받은 신청서", "actor": "staff:desk"}
    data.update(changes)
    return data


def test_the_api_enters_a_staff_request_with_the_token(client: Client, testorg: int, smtp_server) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/intake/staff", json=_staff_json(), headers={"X-DSAR-Token": TOKEN})
    assert r.status_code == 201, r.text
    body = r.json()
    (case,) = all_cases()
    assert body["request_id"] == case.number and case.channel == "written" and case.right == "처리정지"
    assert case.received_at == RECEIVED and all_inbound() == []
    mail = smtp_server.wait_for(1)
    assert len(mail) == 1 and mail[0]["To"] == "jung@example.com" and case.number in str(mail[0]["Subject"])


def test_the_api_refuses_without_the_token_and_explains_bad_entries(client: Client, testorg: int) -> None:
    assert client.post("/intake/staff", json=_staff_json()).status_code == 401
    auth = {"X-DSAR-Token": TOKEN}
    future = client.post("/intake/staff", json=_staff_json(received_at="2099-01-01T09:00+09:00"), headers=auth)
    assert future.status_code == 422 and future.json()["error"]["field"] == "received_at"
    missing = client.post("/intake/staff", json=_staff_json(received_at=None), headers=auth)
    assert missing.status_code == 422 and "접수 시각" in missing.json()["error"]["message"]
    unknown = client.post("/intake/staff", json=_staff_json(org="nobody"), headers=auth)
    assert unknown.status_code == 422 and "nobody" in unknown.json()["error"]["message"]
    not_object = client.post("/intake/staff", json=["x"], headers=auth)
    assert not_object.status_code == 400
    assert all_cases() == []
