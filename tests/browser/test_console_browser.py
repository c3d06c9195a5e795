"""A 담당자 works the most urgent case end to end in real headless Chromium: sign in, queue, case, 본인확인,
열람 승인, send the notice through the outbox to a real SMTP server, and see the timeline record it.

Screenshots of each step are written to the test's tmp folder (`screens/`).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import ACCOUNTS, ROOT, open_case, register_other_org
from tests.browser.conftest import serve_in_process, simulated_now

NOW = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)  # Wednesday 10:00 KST
PASSWORD = "a long console password"

pytestmark = pytest.mark.browser


@pytest.fixture
def seeded(testorg: int, tmp_path: Path) -> dict[str, str]:
    """Accounts and three cases of testorg (the 열람 case received on 11-13 is the most urgent: due 11-23), and
    the rsupport sample policy imported (its compiled facts carry policy line numbers)."""
    from dsar.auth import accounts
    from dsar.db import session_scope
    from dsar.workflow.importer import import_policy

    register_other_org()
    with session_scope() as s:
        import_policy(s, ROOT / "samples" / "policies" / "rsupport_privacy_policy.txt", tmp_path / "workflows")
    with session_scope() as s:
        for key in ("officer", "handler", "admin"):
            email, name, role, org = ACCOUNTS[key]
            accounts.create_user(s, email=email, name=name, role=role, password=PASSWORD, org_slug=org, actor="test")
    return {
        "urgent": open_case(testorg, received=datetime(2026, 11, 13, 1, 0, tzinfo=UTC),
                            assignee_email="desk@testorg.example", name="김민지", email="minji@example.com"),
        "soon": open_case(testorg, right="삭제", received=datetime(2026, 11, 18, 1, 0, tzinfo=UTC),
                          assignee_email="desk@testorg.example", name="박서준", email="seojun@example.com"),
        "later": open_case(testorg, right="정정", received=datetime(2026, 11, 24, 1, 0, tzinfo=UTC),
                           assignee_email="desk@testorg.example", name="이하늘", email="haneul@example.com"),
    }


def test_handler_works_the_most_urgent_case_in_the_browser(
    browser: Any, seeded: dict[str, str], smtp_server: Any, tmp_path: Path
) -> None:
    env = dict(os.environ, DSAR_CLOCK_FILE=str(simulated_now(tmp_path, NOW)), DSAR_CELERY_EAGER="1")
    shots = tmp_path / "screens"
    shots.mkdir()
    server = serve_in_process(env, tmp_path / "uvicorn.log")
    base = next(server)
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="ko-KR")
        page.goto(f"{base}/queue")
        assert page.url.startswith(f"{base}/login?next=")  # not signed in: to the sign-in page
        page.fill("input[name=email]", "desk@testorg.example")
        page.fill("input[name=password]", PASSWORD)
        page.screenshot(path=shots / "01-login.png")
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/queue")

        rows = page.locator("#queue tbody tr")
        assert rows.count() == 3
        first = rows.nth(0)
        assert seeded["urgent"] in first.inner_text()
        badge = first.locator(".badge.overdue")
        assert badge.inner_text() == "기한 초과 D+2"
        assert badge.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(192, 57, 43)"  # red
        assert rows.nth(1).locator(".badge").first.inner_text() == "D-5"  # day 10 is Saturday 11-28: due 11-30
        page.screenshot(path=shots / "02-queue.png", full_page=True)

        first.locator("a").first.click()
        page.wait_for_url(f"{base}/cases/{seeded['urgent']}")
        assert page.locator("#requester").inner_text().count("김민지") == 1
        assert "900101-1******" in page.locator("#message").inner_text()
        assert "민법 제157조" in page.locator("#due").inner_text()
        page.screenshot(path=shots / "03-case.png", full_page=True)

        for transition, stage in (("start_verification", "본인확인"), ("verify", "검토")):
            page.click(f"form[data-transition={transition}] button[type=submit]")
            page.wait_for_load_state()
            assert page.locator("#stage").inner_text() == stage
        page.screenshot(path=shots / "04-verified.png", full_page=True)

        approve = page.locator("form[data-transition=approve]")
        approve.locator("input[name=deliver]").uncheck()  # look at the letter before it goes
        approve.locator("button[type=submit]").click()
        page.wait_for_load_state()
        assert page.locator("#stage").inner_text() == "통지"
        letter = page.locator("#notices .action", has_text="개인정보 열람 통지서")
        assert letter.locator(".badge").inner_text() == "발송 대기"
        letter.locator("summary").click()
        frame = letter.frame_locator("iframe.preview")
        assert "열람" in frame.locator("body").inner_text(timeout=10_000)
        page.screenshot(path=shots / "05-preview.png", full_page=True)
        assert not [m for m in smtp_server.messages if m["To"] == "minji@example.com"]  # nothing sent yet

        letter.locator("form[action$='/send'] button").click()
        page.wait_for_load_state()
        assert "통지를 발송했습니다" in page.locator(".flash.ok").inner_text()
        letter = page.locator("#notices .action", has_text="개인정보 열람 통지서")
        assert letter.locator(".badge").inner_text() == "발송 완료"
        mail = [m for m in smtp_server.wait_for(1) if "열람" in str(m["Subject"])]
        assert mail and mail[-1]["To"] == "minji@example.com" and seeded["urgent"] in str(mail[-1]["Subject"])

        timeline = page.locator("#timeline").inner_text()
        assert "통지 발송" in timeline and "검토 → 통지" in timeline and "발송 요청" in timeline
        page.screenshot(path=shots / "06-sent.png", full_page=True)

        page.goto(f"{base}/dashboard")
        assert page.locator("svg.chart").count() == 3
        page.screenshot(path=shots / "07-dashboard.png", full_page=True)
        page.click("header form button")  # 로그아웃
        page.wait_for_url(f"{base}/login")
        page.fill("input[name=email]", "admin@dsar.test")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/queue")
        page.goto(f"{base}/organisations/rsupport")
        contacts = page.locator("#contacts").inner_text()
        assert "송의" in contacts and "처리방침 144–148행" in contacts
        page.screenshot(path=shots / "08-organisation.png", full_page=True)
        page.close()
    finally:
        server.close()
    assert (shots / "06-sent.png").stat().st_size > 10_000
