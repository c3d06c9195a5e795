"""The web console's pages over HTTP: sign-in redirect, queue, case page and its forms, dashboard, policy."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from tests.api.conftest import ROOT, World
from tests.api.test_auth import csrf_of, sign_in
from tests.api.test_cases import audit_actions
from tests.api.test_orgs import workflows_dir  # noqa: F401  (fixture)


def test_pages_redirect_to_sign_in_and_back(client: httpx.Client, world: World) -> None:
    page = client.get("/cases/" + world.cases["mine"])
    assert page.status_code == 303 and page.headers["location"] == f"/login?next=%2Fcases%2F{world.cases['mine']}"
    login = client.get(page.headers["location"])
    assert login.status_code == 200 and "직원 로그인" in login.text
    assert "5번 잘못 입력하면 계정이 15분 동안 잠깁니다" in login.text
    assert sign_in(client, "officer@testorg.example", next_url="https://evil.example/").headers["location"] == "/queue"


def test_queue_shows_d_day_badges_and_counts_per_stage(client: httpx.Client, world: World) -> None:
    sign_in(client, "desk@testorg.example")
    page = client.get("/queue")
    assert page.status_code == 200 and "default-src 'self'" in page.headers["content-security-policy"]
    rows = re.findall(r'<tr class="[^"]*">(.*?)</tr>', page.text, re.S)
    numbers = [re.search(r"DSAR-\d{4}-\d{6}", r).group(0) for r in rows]  # type: ignore[union-attr]
    assert numbers == [world.cases[k] for k in ("overdue", "theirs", "mine")]
    assert '<span class="badge overdue"' in rows[0] and "기한 초과 D+9" in rows[0]
    assert '<span class="badge later">D-5</span>' in rows[1] and '<span class="badge later">D-8</span>' in rows[2]
    assert "접수 3" in page.text and "전체 3" in page.text
    mine = client.get("/queue?assignee=me")
    assert world.cases["theirs"] not in mine.text and world.cases["mine"] in mine.text
    deletion = client.get("/queue", params={"right": "삭제"})
    assert world.cases["overdue"] in deletion.text and world.cases["mine"] not in deletion.text
    assert "900101" not in page.text and "김민지" not in page.text  # no personal data in the queue


def test_case_page_shows_what_staff_need_and_is_audited(client: httpx.Client, world: World) -> None:
    sign_in(client, "desk@testorg.example")
    number = world.cases["mine"]
    page = client.get("/cases/" + number)
    assert page.status_code == 200
    html = page.text
    assert "김민지" in html and "minji@example.com" in html
    assert "900101-1******" in html and "1234567" not in html
    assert '<span class="chip evidence">열람을 요청</span>' in html
    assert "민법 제157조" in html and "2026년 12월 3일(목)" in html
    assert 'data-transition="start_verification"' in html and "disabled" not in _form(html, "start_verification")
    assert audit_actions(number)[-1] == ("request.viewed", "staff:desk@testorg.example")


def _form(html: str, transition: str) -> str:
    match = re.search(rf'<form class="action"[^>]*data-transition="{transition}">(.*?)</form>', html, re.S)
    assert match, transition
    return match.group(1)


def test_case_page_disables_what_the_role_may_not_do(client: httpx.Client, world: World) -> None:
    sign_in(client, "desk@testorg.example")
    other = client.get("/cases/" + world.cases["theirs"]).text
    assert "disabled" in _form(other, "start_verification") and "처리할 권한이 없습니다" in other
    foreign = client.get("/cases/" + world.cases["other"])
    assert foreign.status_code == 404 and "찾을 수 없습니다" in foreign.text


def test_transition_form_moves_the_case_and_reports_refusals(client: httpx.Client, world: World) -> None:
    sign_in(client, "desk@testorg.example")
    number = world.cases["mine"]
    token = csrf_of(client.get("/cases/" + number))
    moved = client.post(f"/cases/{number}/transitions", data={"csrf_token": token, "name": "start_verification"})
    assert moved.status_code == 303 and moved.headers["location"] == f"/cases/{number}"
    after = client.get(moved.headers["location"]).text
    assert "&#39;본인확인&#39; 단계로 옮겼습니다" in after
    assert '<span class="badge stage" id="stage">본인확인</span>' in after
    assert "단계로 옮겼습니다" not in client.get("/cases/" + number).text  # the message shows once
    refused = client.post(f"/cases/{number}/transitions", data={"csrf_token": token, "name": "request_supplement"})
    assert refused.status_code == 303 and refused.headers["location"].endswith("#actions")
    assert "사유(reason)" in client.get(f"/cases/{number}").text


def test_officer_assigns_a_case_in_the_console(client: httpx.Client, world: World) -> None:
    sign_in(client, "officer@testorg.example")
    number = world.cases["mine"]
    page = client.get("/cases/" + number)
    assert 'id="assign"' in page.text
    target = world.users["handler2"]["contact_id"]
    done = client.post(f"/cases/{number}/assignee", data={"csrf_token": csrf_of(page), "assignee_id": str(target)})
    assert done.status_code == 303
    assert client.get(f"/api/cases/{number}").json()["assignee"]["id"] == target


def test_dashboard_draws_svg_charts(client: httpx.Client, world: World) -> None:
    sign_in(client, "officer@testorg.example")
    page = client.get("/dashboard?weeks=4")
    assert page.status_code == 200
    assert page.text.count("<svg") == 3 and "주별 접수·종결·기한 초과" in page.text
    assert re.search(r"기한 초과 \(처리 중\)</span><b>1</b>", page.text)
    assert "<title>11/16 기한 초과: 1</title>" in page.text


def test_organisation_page_shows_the_policy_lines(
    client: httpx.Client, world: World, workflows_dir: Path  # noqa: F811
) -> None:
    policy = ROOT / "samples" / "policies" / "rsupport_privacy_policy.txt"
    assert client.post("/api/workflows/import", headers=world.auth("admin"),
                       files={"file": (policy.name, policy.read_bytes())}).status_code == 201
    sign_in(client, "admin@dsar.test")
    org = client.get("/api/organisations/rsupport").json()
    officer = next(c for c in org["contacts"] if c["role"] == "책임자")
    page = client.get("/organisations/rsupport")
    assert page.status_code == 200 and "알서포트" in page.text
    first, last = min(officer["lines"]), max(officer["lines"])
    assert f"처리방침 {first}–{last}행" in page.text
    assert all(r["item"] in page.text for r in org["retention"])
    assert client.get("/organisations").text.count("/organisations/") >= 3
    client.cookies.clear()
    sign_in(client, "officer@testorg.example")
    assert client.get("/organisations/rsupport").status_code == 404
