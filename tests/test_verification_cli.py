"""`dsar requests verify ...`: staff working an identity check from the command line, run as a user runs it (a real
subprocess on the test's database; SMS through the logging transport, e-mail through the file transport)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.cli import dsar, dsar_json
from tests.test_assignment import open_case

PHONE = "010-9876-5432"


@pytest.fixture
def env(db: str, tmp_path: Path) -> dict[str, str]:
    return {"DSAR_DATABASE_URL": db, "DSAR_DATA_DIR": str(tmp_path / "var"),
            "DSAR_BROKER_URL": "redis://127.0.0.1:6379/10"}


def number_of(case_id: int) -> str:
    from dsar.db import session_scope
    from dsar.models import Request

    with session_scope() as s:
        case = s.get(Request, case_id, populate_existing=True)
        assert case is not None
        return case.number or ""


def stage(case_id: int) -> str:
    from dsar.db import session_scope
    from dsar.models import Request

    with session_scope() as s:
        return s.get(Request, case_id, populate_existing=True).stage  # type: ignore[union-attr]


def test_status_start_sms_code_and_check_code(testorg: int, env: dict[str, str], tmp_path: Path) -> None:
    case_id = open_case(testorg, requester_phone=PHONE)
    number = number_of(case_id)
    before = dsar("requests", "verify", "status", number, env=env).stdout
    assert before.splitlines()[0] == f"{number} 본인확인: 시작 전 (정보주체 본인 확인)"
    assert "방법: 전자우편 확인 코드, 휴대전화 확인 코드, 신분증 확인(담당자)" in before

    started = dsar("requests", "verify", "start", number, "--actor", "desk", env=env).stdout
    assert started.startswith("본인확인을 시작했습니다\n") and "본인확인: 진행 중" in started
    assert stage(case_id) == "verifying"

    sent = dsar_json("requests", "verify", "send-code", number, "--method", "sms", env=env)
    assert sent["ok"] is True and sent["verification"]["code"]["status"] == "pending"
    [text] = [json.loads(line) for line in (tmp_path / "var" / "sms.log").read_text(encoding="utf-8").splitlines()]
    code = re.search(r"코드는 (\d{6})입니다", text["text"]).group(1)  # type: ignore[union-attr]
    assert text["to"] == PHONE

    wrong = dsar("requests", "verify", "check-code", number, "000000" if code != "000000" else "111111", env=env,
                 check=False)
    assert wrong.returncode == 1 and "확인 코드가 맞지 않습니다 (남은 입력 4회)" in wrong.stdout
    right = dsar("requests", "verify", "check-code", number, code, "--actor", "phone-desk", "--json", env=env)
    data = json.loads(right.stdout)
    assert data["outcome"] == "verified" and data["verification"]["status"] == "verified"
    assert stage(case_id) == "reviewing"
    assert data["verification"]["checks"][0]["by"] == "phone-desk"


def test_an_emailed_code_leaves_through_the_outbox(testorg: int, env: dict[str, str], tmp_path: Path) -> None:
    number = number_of(open_case(testorg))
    out = dsar("requests", "verify", "send-code", number, "--method", "email", env=env).stdout
    assert "전자우편으로 확인 코드를 보냈습니다 (10분 동안 유효)" in out and "본인확인: 진행 중" in out
    mails = [p.read_text(encoding="utf-8", errors="replace") for p in (tmp_path / "var" / "outbox").glob("*.eml")]
    assert any(number in m for m in mails)
    refused = dsar("requests", "verify", "send-code", number, "--method", "sms", env=env, check=False)
    assert refused.returncode == 2 and "휴대전화 번호" in refused.stderr and "Traceback" not in refused.stderr


def test_document_check_and_its_refusals(testorg: int, env: dict[str, str]) -> None:
    case_id = open_case(testorg)
    number = number_of(case_id)
    early = dsar("requests", "verify", "document", number, "--type", "passport", env=env, check=False)
    assert early.returncode == 1 and "먼저 본인확인을 시작하세요" in early.stderr
    dsar("requests", "verify", "start", number, env=env)
    bogus = dsar("requests", "verify", "document", number, "--type", "library_card", env=env, check=False)
    assert bogus.returncode == 2 and "신분증 종류 'library_card'을(를) 모릅니다" in bogus.stderr
    done = dsar("requests", "verify", "document", number, "--type", "passport", "--actor", "visit-desk",
                env=env).stdout
    assert done.startswith("여권 확인을 기록했습니다\n") and "본인확인: 완료" in done
    assert "확인: 신분증 확인(담당자): 여권 (visit-desk," in done and stage(case_id) == "reviewing"
    shown = dsar("requests", "show", number, env=env).stdout  # the internal target beside the due date
    assert "기한 2026-12-03" in shown and "내부 목표일 2026-11-30: 2026년 11월 24일(화)부터 7일째" in shown
    unknown = dsar("requests", "verify", "status", "DSAR-2026-999999", env=env, check=False)
    assert unknown.returncode == 1 and "Traceback" not in unknown.stderr


def test_agent_checklist_ticks(testorg: int, env: dict[str, str]) -> None:
    case_id = open_case(testorg, agent_kind="법정대리인")
    number = number_of(case_id)
    started = dsar_json("requests", "verify", "start", number, env=env)["verification"]
    items = [i["item"] for i in started["checklist"]]
    assert started["requirement"] == "법정대리인" and items == ["relationship_proof", "subject_under_14",
                                                                  "representative_identity"]
    for item in items[:-1]:
        dsar("requests", "verify", "tick", number, item, env=env)
    status = dsar("requests", "verify", "status", number, env=env).stdout
    assert "  [x] relationship_proof:" in status and "  [ ] representative_identity:" in status
    last = dsar_json("requests", "verify", "tick", number, items[-1], env=env)
    assert last["verification"]["status"] == "verified" and stage(case_id) == "reviewing"
    wrong = dsar("requests", "verify", "tick", number, "power_of_attorney", env=env, check=False)
    assert wrong.returncode == 2 and "'법정대리인' 확인 항목에 'power_of_attorney'이(가) 없습니다" in wrong.stderr
