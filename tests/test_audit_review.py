"""The monthly access-record review: who looked at which cases how often (and outside working hours), exports,
sign-ins and failures, account changes, for one organisation or all, on Korean calendar days.

The month is October 2026: accounts are created with the real clock (always later), so only what the scenario
places in October is in it. Views go through the console's own code (`casework.view`, `outbox.record_view`).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from dsar import audit, audit_review
from dsar.api import casework, outbox
from dsar.audit_export import ExportFilter
from dsar.auth import accounts
from dsar.auth.models import StaffUser
from dsar.auth.passwords import hash_password
from dsar.calendar_kr import KST
from dsar.clock import FixedClock
from dsar.db import session_scope
from dsar.engine import calendar
from dsar.models import AuditEvent, Notice, Organisation, Request
from tests.cli import dsar
from tests.test_assignment import open_case, register_variant

DESK, BOSS, ELSEWHERE = "staff:desk@testorg.example", "staff:officer@testorg.example", "staff:desk@otherorg.example"
MONTH = date(2026, 10, 1)


def oct_(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 10, day, hour, minute, tzinfo=KST)


@pytest.fixture(scope="module")
def password_hash() -> str:
    return hash_password("correct horse battery staple")


@dataclass
class Scene:
    org_id: int
    case_a: str
    case_b: str
    desk_id: int


def view(email: str, case_id: int, at: datetime, preview: bool = False) -> None:
    with session_scope() as s:
        user = s.exec(select(StaffUser).where(StaffUser.email == email)).one()
        case = s.get(Request, case_id)
        assert case is not None
        principal = accounts.user_principal(user)
        if preview:
            notice = s.exec(select(Notice).where(Notice.request_id == case_id)).first()
            assert notice is not None
            outbox.record_view(s, principal, case, notice, "notice.previewed", clock=FixedClock(at))
        else:
            casework.view(s, principal, case, clock=FixedClock(at))


def sign_in_event(email: str, at: datetime, reason: str | None = None) -> None:
    """What `accounts.sign_in` records, written directly in the month the test chooses (no password hashing)."""
    with session_scope() as s:
        details = {"email": email, "ip": "127.0.0.1"}
        if reason:
            audit.record(s, "auth.login_failed", actor=f"staff:{email}", at=at, details={**details, "reason": reason})
        else:
            audit.record(s, "auth.login", actor=f"staff:{email}", at=at, details=details)


@pytest.fixture
def scene(testorg: int, password_hash: str) -> Scene:
    other = register_variant("otherorg")
    with session_scope() as s:
        for email, name, role, org in (("desk@testorg.example", "이담당", "담당자", "testorg"),
                                       ("officer@testorg.example", "김보호", "책임자", "testorg"),
                                       ("desk@otherorg.example", "한다른", "담당자", "otherorg")):
            accounts.create_user(s, email=email, name=name, role=role, password_hash=password_hash, org_slug=org,
                                 actor="test")
    a = open_case(testorg, clock=FixedClock(oct_(1, 9)))
    b = open_case(testorg, clock=FixedClock(oct_(2, 9)), right="삭제")
    elsewhere = open_case(other, clock=FixedClock(oct_(2, 9)))
    view("desk@testorg.example", a, datetime(2026, 9, 30, 23, 50, tzinfo=KST))  # September: not in the review
    view("desk@testorg.example", a, oct_(1, 0, 10))  # first minutes of October, outside working hours
    view("desk@testorg.example", a, oct_(6, 10))  # Tuesday morning (Monday 10-5 is 개천절 대체 휴일)
    view("desk@testorg.example", a, oct_(9, 10))  # 한글날: a closed day
    view("desk@testorg.example", b, oct_(13, 22, 30))  # late evening
    view("desk@testorg.example", a, datetime(2026, 11, 1, 0, 5, tzinfo=KST))  # November: not in the review
    view("officer@testorg.example", a, oct_(14, 11))
    view("officer@testorg.example", a, oct_(14, 11, 5), preview=True)
    view("desk@otherorg.example", elsewhere, oct_(7, 10))
    sign_in_event("desk@testorg.example", oct_(6, 8, 55), reason="bad_password")
    sign_in_event("desk@testorg.example", oct_(6, 9))
    sign_in_event("desk@testorg.example", oct_(12, 9))
    sign_in_event("ghost@example.com", oct_(7, 3), reason="unknown")
    with session_scope() as s:
        desk = s.exec(select(StaffUser).where(StaffUser.email == "desk@testorg.example")).one()
        accounts.unlock(s, desk, actor=BOSS, at=oct_(6, 9, 1))
        selection = ExportFilter(chains=[audit.chain_for(testorg)], since=date(2026, 10, 1), until=date(2026, 10, 31))
        audit.record(s, "audit.exported", actor=BOSS, org_id=testorg, at=oct_(20, 15), details=selection.details("csv"))
        numbers = {r.id: r.number for r in s.exec(select(Request))}
        return Scene(org_id=testorg, case_a=numbers[a] or "", case_b=numbers[b] or "", desk_id=desk.id or 0)


def review(org_slug: str | None) -> audit_review.Review:
    with session_scope() as s:
        org = s.exec(select(Organisation).where(Organisation.slug == org_slug)).one() if org_slug else None
        return audit_review.build(s, month=MONTH, org=org, made_at=datetime(2026, 11, 2, 9, tzinfo=KST),
                                  retention_days=730, calendar=calendar())


def test_review_counts_each_persons_access_to_each_case_within_the_korean_month(scene: Scene) -> None:
    r = review("testorg")
    assert set(r.people) == {DESK, BOSS}  # the other organisation's staff and unknown sign-ins are not in it
    desk, boss = r.people[DESK], r.people[BOSS]
    assert (desk.name, desk.accesses, desk.targets, desk.off_hours) == ("이담당", 4, {scene.case_a, scene.case_b}, 3)
    assert (desk.logins, dict(desk.failures)) == (2, {"비밀번호 불일치": 1})
    assert (boss.accesses, boss.exports, boss.off_hours) == (2, 1, 0)
    a = r.accesses[(DESK, scene.case_a)]
    assert dict(a.counts) == {"request.viewed": 3}
    assert (a.first, a.last) == (oct_(1, 0, 10), oct_(9, 10))
    assert dict(r.accesses[(BOSS, scene.case_a)].counts) == {"request.viewed": 1, "notice.previewed": 1}
    assert [(e.action, audit_review.change_summary(e)) for e in r.changes] == [
        ("staff.updated", f"unlocked=True, user_id={scene.desk_id}")]
    assert r.integrity.ok


def test_review_of_every_organisation_adds_other_staff_and_unattributable_failures(scene: Scene) -> None:
    r = review(None)
    assert set(r.people) == {DESK, BOSS, ELSEWHERE, "staff:ghost@example.com"}
    assert dict(r.people["staff:ghost@example.com"].failures) == {"없는 계정": 1}
    assert r.people[ELSEWHERE].accesses == 1 and r.scope == "전체 조직"


def test_markdown_report_is_korean_and_names_people_cases_and_counts(scene: Scene) -> None:
    text = audit_review.markdown(review("testorg"))
    assert text.startswith("# 개인정보 접속기록 월간 점검 보고서: 2026년 10월")
    assert "- 기간: 2026년 10월 1일 ~ 2026년 10월 31일 (한국 시간)" in text
    assert "- 보관 기간: 730일 이상" in text and "- 위·변조 점검: 정상" in text
    assert "| 이담당 (staff:desk@testorg.example) | 4 | 2 | 3 | 0 | 2 | 1 | 0 |" in text
    assert f"| {DESK} | {scene.case_a} | 사건 열람 3회 | 2026-10-01 00:10 | 2026-10-09 10:00 |" in text
    assert f"| {BOSS} | {scene.case_a} | 사건 열람 1회, 통지서 미리보기 1회 |" in text
    assert f"| {DESK} | 비밀번호 불일치 1회 |" in text
    assert "| 2026-10-20 15:00 | staff:officer@testorg.example | org:" in text and "2026-10-01 ~ 2026-10-31" in text
    assert "| 2026-10-06 09:01 | staff:officer@testorg.example | 계정 변경 | unlocked=True" in text


def test_every_recorded_audit_action_has_a_korean_name() -> None:
    recorded = set()
    for path in (Path(__file__).resolve().parent.parent / "dsar").rglob("*.py"):
        code = path.read_text(encoding="utf-8")
        recorded |= set(re.findall(r'audit\.record\(\s*\w+,\s*"([a-z_]+\.[a-z_]+)"', code))
        recorded |= set(re.findall(r'record_view\([^)]*?"([a-z_]+\.[a-z_]+)"', code))
    assert {"request.viewed", "notice.previewed", "auth.login_failed", "audit.exported"} <= recorded
    assert recorded - set(audit.ACTION_LABELS) == set()


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_cli_review_writes_markdown_or_csv_and_records_that_the_review_was_made(scene: Scene, db: str,
                                                                                tmp_path: Path) -> None:
    env = {"DSAR_DATABASE_URL": db, "DSAR_DATA_DIR": str(tmp_path / "var")}
    md = dsar("audit", "review", "--month", "2026-10", "--org", "testorg", env=env).stdout
    assert "| 이담당 (staff:desk@testorg.example) | 4 | 2 | 3 | 0 | 2 | 1 | 0 |" in md
    out = tmp_path / "review.csv"
    dsar("audit", "review", "--month", "2026-10", "--format", "csv", "--out", str(out), env=env)
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8").lstrip("\ufeff"))))
    assert {"구분": "개인정보 열람", "처리자": DESK, "항목": "사건 열람", "대상": scene.case_a, "횟수": "3",
            "처음": "2026-10-01 00:10", "마지막": "2026-10-09 10:00"} in rows
    assert any(r["처리자"] == "staff:ghost@example.com" and r["항목"] == "로그인 실패: 없는 계정" for r in rows)
    with session_scope() as s:
        made = list(s.exec(select(AuditEvent).where(AuditEvent.action == "audit.reviewed")))
    assert [(e.org_id, e.details["month"], e.details["format"]) for e in made] == [
        (scene.org_id, "2026-10", "md"), (None, "2026-10", "csv")]
    assert dsar("audit", "verify", env=env).returncode == 0


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--month", "2026-13"], 2, "2026-11처럼"),
    (["--month", "2026-10", "--format", "pdf"], 2, "md 또는 csv"),
    (["--month", "2026-10", "--org", "nosuch"], 1, "찾을 수 없습니다"),
])
def test_cli_review_refuses_bad_input_with_a_clear_message(sqlite_db: str, tmp_path: Path, args: list[str],
                                                           code: int, message: str) -> None:
    env = {"DSAR_DATABASE_URL": sqlite_db, "DSAR_DATA_DIR": str(tmp_path / "var")}
    proc = dsar("audit", "review", *args, env=env, check=False)
    assert proc.returncode == code and message in proc.stderr, proc.stderr
