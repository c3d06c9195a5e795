"""Signing in: the console's session cookie and CSRF token, the lock after repeated failures, tokens, audit."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from sqlmodel import col, select

from tests.api.conftest import NOW, PASSWORD, World


def events(action: str) -> list[dict]:
    from dsar.db import session_scope
    from dsar.models import AuditEvent

    with session_scope() as s:
        return [{"actor": e.actor, "details": e.details, "chain": e.chain}
                for e in s.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.id)))]


def csrf_of(page: httpx.Response) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text[:500]
    return match.group(1)


def sign_in(client: httpx.Client, email: str, password: str = PASSWORD, next_url: str = "/queue") -> httpx.Response:
    form = client.get("/login", params={"next": next_url})
    return client.post("/login", data={"email": email, "password": password, "next": next_url,
                                       "csrf_token": csrf_of(form)})


def test_sign_in_sets_a_signed_httponly_lax_cookie_and_is_audited(client: httpx.Client, world: World) -> None:
    response = sign_in(client, "Officer@TestOrg.example", next_url="/cases/" + world.cases["mine"])
    assert response.status_code == 303 and response.headers["location"] == "/cases/" + world.cases["mine"]
    cookies = response.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("dsar_session="))
    assert "HttpOnly" in session and "SameSite=lax" in session and "Path=/" in session
    assert client.get("/queue").status_code == 200
    me = client.get("/api/me").json()
    assert me["email"] == "officer@testorg.example" and me["role"] == "책임자" and me["org"] == "testorg"
    assert [e["details"]["email"] for e in events("auth.login")] == ["officer@testorg.example"]


def test_a_tampered_session_cookie_is_refused(client: httpx.Client, world: World) -> None:
    sign_in(client, "officer@testorg.example")
    value = client.cookies["dsar_session"]
    client.cookies.set("dsar_session", value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    assert client.get("/api/me").status_code == 401
    page = client.get("/queue")
    assert page.status_code == 303 and page.headers["location"] == "/login?next=%2Fqueue"


def test_wrong_password_five_times_locks_the_account_for_fifteen_minutes(base_url: str, world: World) -> None:
    from dsar.api.app import create_app
    from dsar.clock import FixedClock
    from tests.api.conftest import serve

    with httpx.Client(base_url=base_url) as client:
        for attempt in range(1, 6):
            response = sign_in(client, "desk@testorg.example", "wrong password!")
            assert response.status_code == 401
            assert ("잠갔습니다" in response.text) == (attempt == 5)
        # Locked: even the right password is refused, and nothing is signed in.
        refused = sign_in(client, "desk@testorg.example")
        assert refused.status_code == 401 and "계정이 잠겼습니다" in refused.text
        assert "dsar_session" not in client.cookies
    reasons = [e["details"]["reason"] for e in events("auth.login_failed")]
    assert reasons == ["bad_password"] * 4 + ["locked_now", "locked"]
    assert all(e["chain"] == "system" for e in events("auth.login_failed"))
    # Sixteen minutes later the lock has run out.
    with serve(create_app(clock=FixedClock(NOW + timedelta(minutes=16)))) as later, \
            httpx.Client(base_url=later) as client:
        assert sign_in(client, "desk@testorg.example").status_code == 303


def test_unknown_e_mail_fails_like_a_wrong_password(client: httpx.Client, world: World) -> None:
    unknown = sign_in(client, "nobody@testorg.example")
    wrong = sign_in(client, "desk@testorg.example", "not the password")
    assert unknown.status_code == wrong.status_code == 401
    message = "전자우편 주소나 비밀번호가 맞지 않습니다"
    assert message in unknown.text and message in wrong.text
    assert [e["details"]["reason"] for e in events("auth.login_failed")] == ["unknown", "bad_password"]


def test_a_deactivated_account_cannot_sign_in_and_loses_its_session(client: httpx.Client, world: World) -> None:
    sign_in(client, "desk@testorg.example")
    assert client.get("/api/me").status_code == 200
    admin = world.auth("admin")
    patched = client.patch(f"/api/users/{world.users['handler']['id']}", json={"active": False}, headers=admin)
    assert patched.status_code == 200 and patched.json()["active"] is False
    assert client.get("/api/me").status_code == 401  # the old cookie no longer works
    assert client.get("/api/me", headers=world.auth("handler")).status_code == 401  # nor the account's token
    assert "사용이 중지된 계정" in sign_in(client, "desk@testorg.example").text


def test_login_form_without_the_csrf_token_is_refused(client: httpx.Client, world: World) -> None:
    client.get("/login")
    response = client.post("/login", data={"email": "officer@testorg.example", "password": PASSWORD})
    assert response.status_code == 403 and "CSRF" in response.text
    assert events("auth.login") == [] and events("auth.login_failed") == []


def test_console_form_posts_need_the_csrf_token_of_the_cookie(client: httpx.Client, world: World) -> None:
    sign_in(client, "desk@testorg.example")
    case_url = "/cases/" + world.cases["mine"]
    token = csrf_of(client.get(case_url))
    forged = client.post(case_url + "/notes", data={"body": "위조", "csrf_token": "x" + token})
    missing = client.post(case_url + "/notes", data={"body": "위조"})
    assert forged.status_code == missing.status_code == 403
    ok = client.post(case_url + "/notes", data={"body": "진짜 메모", "csrf_token": token})
    assert ok.status_code == 303
    notes = client.get(f"/api/cases/{world.cases['mine']}/notes").json()
    assert [n["body"] for n in notes["items"]] == ["진짜 메모"]


def test_cookie_authenticated_api_writes_need_the_csrf_header(client: httpx.Client, world: World) -> None:
    sign_in(client, "desk@testorg.example")
    path = f"/api/cases/{world.cases['mine']}/notes"
    refused = client.post(path, json={"body": "헤더 없음"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    token = csrf_of(client.get("/cases/" + world.cases["mine"]))
    assert client.post(path, json={"body": "헤더 있음"}, headers={"X-CSRF-Token": token}).status_code == 201


def test_logout_ends_the_session(client: httpx.Client, world: World) -> None:
    sign_in(client, "officer@testorg.example")
    token = csrf_of(client.get("/queue"))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert client.get("/api/me").status_code == 401
    assert [e["actor"] for e in events("auth.logout")] == ["staff:officer@testorg.example"]


def test_revoked_token_stops_working(client: httpx.Client, world: World) -> None:
    made = client.post("/api/tokens", json={"name": "ticket-sync", "role": "감사", "org": "testorg"},
                       headers=world.auth("admin"))
    assert made.status_code == 201
    token = made.json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/me", headers=headers).json() == {
        "kind": "token", "name": "ticket-sync", "email": None, "role": "감사", "role_label": "감사",
        "org": "testorg", "contact_id": None}
    listed = client.get("/api/tokens", headers=world.auth("admin")).json()["items"]
    assert all("token_hash" not in t and "token" not in t for t in listed)
    assert client.delete(f"/api/tokens/{made.json()['id']}", headers=world.auth("admin")).status_code == 200
    assert client.get("/api/me", headers=headers).status_code == 401
    from dsar.auth.models import ApiToken
    from dsar.db import session_scope

    with session_scope() as s:
        stored = s.exec(select(ApiToken).where(ApiToken.name == "ticket-sync")).one()
        assert token not in (stored.token_hash, stored.prefix) and stored.token_hash != token


def test_admin_creates_accounts_that_can_sign_in(client: httpx.Client, world: World) -> None:
    made = client.post("/api/users", headers=world.auth("admin"), json={
        "email": "new@testorg.example", "name": "신입", "role": "handler", "org": "testorg",
        "password": "a long enough password"})
    assert made.status_code == 201 and made.json()["role"] == "담당자" and made.json()["contact_id"]
    assert "password_hash" not in made.json()
    duplicate = client.post("/api/users", headers=world.auth("admin"), json={
        "email": "NEW@testorg.example", "name": "신입", "role": "담당자", "org": "testorg",
        "password": "a long enough password"})
    assert duplicate.status_code == 409
    no_org = client.post("/api/users", headers=world.auth("admin"), json={
        "email": "x@testorg.example", "name": "엑스", "role": "감사", "password": "a long enough password"})
    assert no_org.status_code == 422 and "조직" in no_org.json()["error"]["message"]
    assert sign_in(client, "new@testorg.example", "a long enough password").status_code == 303
