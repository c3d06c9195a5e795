"""The console's accounts pages (admin only): list, add (typed or generated password), change the role, stop and
restart, reset the password, lift a lock; every change audited, every form behind the CSRF token."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.api.conftest import PASSWORD, World
from tests.api.test_auth import csrf_of, events, sign_in

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def admin(client: httpx.Client, world: World) -> httpx.Client:
    assert sign_in(client, "admin@dsar.test").status_code == 303
    return client


def signs_in(base_url: str, email: str, password: str) -> bool:
    with httpx.Client(base_url=base_url) as other:
        return sign_in(other, email, password).status_code == 303


def one_time_password(page: httpx.Response) -> str:
    match = re.search(r'<code id="one-time-password"[^>]*>([^<]+)</code>', page.text)
    assert match, page.text[:800]
    return match.group(1)


def test_only_admins_see_the_accounts_pages(client: httpx.Client, world: World) -> None:
    for email in ("officer@testorg.example", "desk@testorg.example", "audit@testorg.example"):
        sign_in(client, email)
        token = csrf_of(client.get("/queue"))
        assert "/accounts" not in client.get("/queue").text
        for response in (client.get("/accounts"), client.get(f"/accounts/{world.users['handler']['id']}"),
                         client.post("/accounts", data={"csrf_token": token, "email": "x@testorg.example",
                                                        "name": "엑스", "role": "admin", "password": PASSWORD,
                                                        "confirm": PASSWORD}),
                         client.post(f"/accounts/{world.users['admin']['id']}/active",
                                     data={"csrf_token": token, "active": "0"})):
            assert response.status_code == 403 and "권한이 없습니다" in response.text, email
        client.post("/logout", data={"csrf_token": token})
    assert len(events("staff.created")) == len(world.users)
    assert events("staff.updated") == []


def test_the_list_shows_role_organisation_state_and_last_sign_in(admin: httpx.Client, world: World) -> None:
    page = admin.get("/accounts")
    assert page.status_code == 200 and '<a href="/accounts"' in page.text  # the nav link
    rows = dict(re.findall(r'<tr data-account="(\d+)">(.*?)</tr>', page.text, re.S))
    assert len(rows) == len(world.users)
    handler = rows[str(world.users["handler"]["id"])]
    assert "desk@testorg.example" in handler and "담당자" in handler and "테스트주식회사" in handler
    assert "사용 중" in handler and "기록 없음" in handler
    admin_row = rows[str(world.users["admin"]["id"])]
    assert "관리자" in admin_row and "모든 조직" in admin_row and "2026-11-25 10:00" in admin_row  # signed in now


def test_add_an_account_with_a_typed_password(admin: httpx.Client, base_url: str, world: World) -> None:
    token = csrf_of(admin.get("/accounts"))
    form = {"csrf_token": token, "email": "New@TestOrg.example", "name": "신입", "role": "담당자", "org": "testorg",
            "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    assert admin.post("/accounts", data={k: v for k, v in form.items() if k != "csrf_token"}).status_code == 403
    made = admin.post("/accounts", data=form)
    assert made.status_code == 303 and re.fullmatch(r"/accounts/\d+", made.headers["location"])
    page = admin.get(made.headers["location"]).text
    assert "new@testorg.example 계정을 만들었습니다" in page and '<dd id="role">담당자</dd>' in page
    assert signs_in(base_url, "new@testorg.example", NEW_PASSWORD)
    assert events("staff.created")[-1]["details"]["role"] == "담당자"
    for bad, message in (({"password": "short", "confirm": "short"}, "10자 이상"),
                         ({"confirm": "something else"}, "두 번 입력한 비밀번호가 다릅니다"),
                         ({"email": "boss@testorg.example", "role": "admin"}, "관리자(admin)는 모든 조직을 봅니다"),
                         ({"role": "사장"}, "알 수 없는 역할")):
        refused = admin.post("/accounts", data={**form, "email": "other@testorg.example", **bad})
        assert refused.headers["location"] == "/accounts#add"
        assert message in admin.get("/accounts").text, bad
    assert len(events("staff.created")) == len(world.users) + 1


def test_a_generated_password_is_shown_once_and_works(admin: httpx.Client, base_url: str, world: World) -> None:
    token = csrf_of(admin.get("/accounts"))
    shown = admin.post("/accounts", data={"csrf_token": token, "email": "audit2@testorg.example", "name": "감사둘",
                                          "role": "감사", "org": "testorg", "password": "", "confirm": ""})
    assert shown.status_code == 200 and "다시 볼 수 없습니다" in shown.text
    assert shown.headers["cache-control"] == "no-store"
    password = one_time_password(shown)
    assert len(password) >= 16 and password not in str(shown.headers)  # never in a cookie
    assert signs_in(base_url, "audit2@testorg.example", password)
    assert password not in admin.get("/accounts").text


def test_change_role_is_audited_and_takes_effect_at_once(admin: httpx.Client, world: World) -> None:
    handler = world.users["handler"]
    token = csrf_of(admin.get(f"/accounts/{handler['id']}"))
    done = admin.post(f"/accounts/{handler['id']}/role", data={"csrf_token": token, "role": "책임자", "org": "testorg"})
    assert "역할을 바꿨습니다" in admin.get(done.headers["location"]).text
    assert "역할을 바꿨습니다" not in admin.get(done.headers["location"]).text  # a flash is shown once
    me = httpx.get(f"{admin.base_url}/api/me", headers=world.auth("handler")).json()
    assert me["role"] == "책임자" and me["contact_id"] != handler["contact_id"]  # linked to an officer contact
    [event] = events("staff.role_changed")
    assert event["details"] == {"user_id": handler["id"], "before": {"role": "담당자", "org_id": world.org_id},
                                "after": {"role": "책임자", "org_id": world.org_id}}
    refused = admin.post(f"/accounts/{handler['id']}/role", data={"csrf_token": token, "role": "감사"})
    assert "조직이 필요합니다" in admin.get(refused.headers["location"]).text
    own = admin.post(f"/accounts/{world.users['admin']['id']}/role",
                     data={"csrf_token": token, "role": "감사", "org": "testorg"})
    assert "자기 계정의 역할은 바꿀 수 없습니다" in admin.get(own.headers["location"]).text
    assert len(events("staff.role_changed")) == 1


def test_deactivate_and_reactivate(admin: httpx.Client, base_url: str, world: World) -> None:
    auditor = world.users["auditor"]
    token = csrf_of(admin.get(f"/accounts/{auditor['id']}"))
    stopped = admin.post(f"/accounts/{auditor['id']}/active", data={"csrf_token": token, "active": "0"})
    assert "계정 사용을 중지했습니다" in admin.get(stopped.headers["location"]).text
    assert not signs_in(base_url, "audit@testorg.example", PASSWORD)
    assert httpx.get(f"{base_url}/api/me", headers=world.auth("auditor")).status_code == 401
    admin.post(f"/accounts/{auditor['id']}/active", data={"csrf_token": token, "active": "1"})
    assert signs_in(base_url, "audit@testorg.example", PASSWORD)
    assert [e["details"] for e in events("staff.updated")] == [{"user_id": auditor["id"], "active": False},
                                                               {"user_id": auditor["id"], "active": True}]
    own = admin.post(f"/accounts/{world.users['admin']['id']}/active", data={"csrf_token": token, "active": "0"})
    assert "자기 계정은 중지할 수 없습니다" in admin.get(own.headers["location"]).text


def test_reset_password_generated_or_typed_ends_the_old_one(admin: httpx.Client, base_url: str, world: World) -> None:
    handler = world.users["handler"]
    with httpx.Client(base_url=base_url) as desk:
        sign_in(desk, handler["email"])
        assert desk.get("/api/me").status_code == 200
        token = csrf_of(admin.get(f"/accounts/{handler['id']}"))
        shown = admin.post(f"/accounts/{handler['id']}/password", data={"csrf_token": token, "mode": "generate"})
        password = one_time_password(shown)
        assert desk.get("/api/me").status_code == 401  # the old session ended with the old password
    assert not signs_in(base_url, handler["email"], PASSWORD) and signs_in(base_url, handler["email"], password)
    mismatch = admin.post(f"/accounts/{handler['id']}/password",
                          data={"csrf_token": token, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "!"})
    assert "두 번 입력한 비밀번호가 다릅니다" in admin.get(mismatch.headers["location"]).text
    typed = admin.post(f"/accounts/{handler['id']}/password",
                       data={"csrf_token": token, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert "비밀번호를 바꿨습니다" in admin.get(typed.headers["location"]).text
    assert signs_in(base_url, handler["email"], NEW_PASSWORD)
    assert [e["details"] for e in events("staff.password_set")] == [
        {"user_id": handler["id"], "generated": True}, {"user_id": handler["id"]}]
    assert all(password not in str(e) and NEW_PASSWORD not in str(e) for e in events("staff.password_set"))


def test_unlock_lifts_a_sign_in_lock(admin: httpx.Client, base_url: str, world: World) -> None:
    handler = world.users["handler2"]
    for _ in range(5):
        signs_in(base_url, handler["email"], "wrong password!")
    assert not signs_in(base_url, handler["email"], PASSWORD)
    page = admin.get(f"/accounts/{handler['id']}").text
    assert "잠금 풀기" in page and 'class="badge today">잠김' in page
    unlocked = admin.post(f"/accounts/{handler['id']}/unlock", data={"csrf_token": csrf_of(admin.get("/accounts"))})
    assert "로그인 잠금을 풀었습니다" in admin.get(unlocked.headers["location"]).text
    assert signs_in(base_url, handler["email"], PASSWORD)
    assert events("staff.updated")[-1]["details"] == {"user_id": handler["id"], "unlocked": True}


def test_an_unknown_account_is_not_found(admin: httpx.Client) -> None:
    missing = admin.get("/accounts/999999")
    assert missing.status_code == 404 and "계정 999999이(가) 없습니다" in missing.text
