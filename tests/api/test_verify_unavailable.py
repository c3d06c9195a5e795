"""The requester's code page (/verify) while the database cannot be reached: 503 with Retry-After and a short
Korean page, never the 500 error page; once the database is back the same post gets its ordinary answer."""

from __future__ import annotations

import httpx
import pytest

from tests.api.conftest import NOW, serve
from tests.api.test_auth import csrf_of
from tests.conftest import free_port, reset_caches

POSTED = {"number": "DSAR-2026-000001", "code": "123456"}


def test_code_page_posts_answer_503_while_the_database_refuses_connections(
    sqlite_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dsar.api.app import create_app
    from dsar.clock import FixedClock

    app = create_app(clock=FixedClock(NOW))  # starts on a reachable database (it brings the schema up to date)
    monkeypatch.setenv("DSAR_DATABASE_URL", f"postgresql://postgres@127.0.0.1:{free_port()}/dsar")  # nobody there
    reset_caches()
    with serve(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        form = client.get("/verify")
        assert form.status_code == 200  # the form itself needs no database
        token = csrf_of(form)
        for path, data in (("/verify", POSTED), ("/verify/new-code", {"number": POSTED["number"]})):
            answer = client.post(path, data={**data, "csrf_token": token})
            assert answer.status_code == 503, (path, answer.text[:300])
            assert answer.headers["Retry-After"] == "30"
            assert answer.headers["content-type"].startswith("text/html")
            assert "일시적으로 이용할 수 없습니다" in answer.text and "잠시 후 다시 시도해 주세요" in answer.text
            assert "서버 오류" not in answer.text and 'href="/verify"' in answer.text

        monkeypatch.setenv("DSAR_DATABASE_URL", sqlite_db)  # the database is back
        reset_caches()
        again = client.post("/verify", data={**POSTED, "csrf_token": token})
        assert again.status_code == 422 and "유효한 확인 코드가 없습니다" in again.text
