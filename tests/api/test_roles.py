"""Every API route against every role: who is refused (403), and who cannot even see the record (404).

Reads are called with every role; writes only with the roles that must be refused (a refused write must leave
the case exactly as it was, which the test checks at the end). The allowed writes are exercised, with their
effects, in the other test modules.
"""

from __future__ import annotations

from typing import Any

import httpx
from sqlmodel import select

from tests.api.conftest import World

ROLES = ("admin", "officer", "handler", "handler2", "auditor", "other_officer")
IN_ORG = {"admin": 200, "officer": 200, "handler": 200, "handler2": 200, "auditor": 200, "other_officer": 404}
EVERYONE = dict.fromkeys(ROLES, 200)
ADMIN_ONLY = {role: 403 for role in ROLES if role != "admin"}


def routes(w: World, notice_id: int, user_id: int, token_id: int) -> list[tuple[str, str, dict[str, Any], dict]]:
    """(method, path, request kwargs, {role: expected status}); for writes only the refused roles are listed."""
    n = w.cases["mine"]
    notice = f"/api/cases/{n}/notices/{notice_id}"
    policy = {"files": {"file": ("p.txt", "개인정보 처리방침".encode())}}
    return [
        ("GET", "/api/me", {}, EVERYONE),
        ("GET", "/api/cases", {}, EVERYONE),
        ("GET", "/api/cases?quarantined=true", {}, {**ADMIN_ONLY, "admin": 200}),
        ("GET", f"/api/cases/{n}", {}, IN_ORG),
        ("GET", f"/api/cases/{n}/notes", {}, IN_ORG),
        ("GET", f"/api/cases/{n}/notices", {}, IN_ORG),
        ("GET", f"{notice}/preview", {}, IN_ORG),
        ("GET", f"{notice}/download?format=txt", {}, IN_ORG),
        ("GET", f"/api/cases/{n}/audit", {}, IN_ORG),
        ("GET", "/api/audit/export", {}, {"admin": 200, "officer": 200, "auditor": 200, "other_officer": 200,
                                          "handler": 403, "handler2": 403}),
        ("GET", "/api/audit/export?org=testorg", {}, {"admin": 200, "officer": 200, "auditor": 200,
                                                      "other_officer": 404, "handler": 403, "handler2": 403}),
        ("GET", "/api/organisations", {}, EVERYONE),
        ("GET", "/api/organisations/testorg", {}, IN_ORG),
        ("GET", "/api/organisations/testorg/workflow", {}, IN_ORG),
        ("GET", "/api/organisations/testorg/workflow/versions", {}, IN_ORG),
        ("GET", "/api/organisations/testorg/workflow/versions/1", {}, IN_ORG),
        ("GET", "/api/stats", {}, EVERYONE),
        ("GET", "/api/stats?org=testorg", {}, IN_ORG),
        ("GET", "/api/users", {}, {**ADMIN_ONLY, "admin": 200}),
        ("GET", "/api/tokens", {}, {**ADMIN_ONLY, "admin": 200}),
        # writes: only the refusals
        ("POST", f"/api/cases/{n}/transitions", {"json": {"name": "start_verification"}},
         {"admin": 403, "handler2": 403, "auditor": 403, "other_officer": 404}),
        ("PUT", f"/api/cases/{n}/assignee", {"json": {"assignee_id": w.users["handler2"]["contact_id"]}},
         {"handler": 403, "handler2": 403, "auditor": 403, "other_officer": 404}),
        ("POST", f"/api/cases/{n}/notes", {"json": {"body": "메모"}},
         {"admin": 403, "handler2": 403, "auditor": 403, "other_officer": 404}),
        ("POST", f"{notice}/approve", {}, {"admin": 403, "handler": 403, "handler2": 403, "auditor": 403,
                                           "other_officer": 404}),
        ("POST", f"{notice}/send", {}, {"admin": 403, "handler2": 403, "auditor": 403, "other_officer": 404}),
        ("POST", "/api/workflows/import", policy, ADMIN_ONLY),
        ("POST", "/api/users", {"json": {"email": "x@testorg.example", "name": "엑스", "role": "담당자",
                                         "org": "testorg", "password": "0123456789ab"}}, ADMIN_ONLY),
        ("PATCH", f"/api/users/{user_id}", {"json": {"active": False}}, ADMIN_ONLY),
        ("POST", "/api/tokens", {"json": {"name": "t", "role": "감사", "org": "testorg"}}, ADMIN_ONLY),
        ("DELETE", f"/api/tokens/{token_id}", {}, ADMIN_ONLY),
    ]


def _ids(w: World) -> tuple[int, int, int]:
    from dsar.auth.models import ApiToken
    from dsar.db import session_scope
    from dsar.models import Notice, Request

    with session_scope() as s:
        case = s.exec(select(Request).where(Request.number == w.cases["mine"])).one()
        notice = s.exec(select(Notice).where(Notice.request_id == case.id)).first()
        token = s.exec(select(ApiToken).where(ApiToken.name == "auditor-token")).one()
        assert notice is not None
        return notice.id or 0, w.users["handler2"]["id"], token.id or 0


def _state(w: World) -> tuple[Any, ...]:
    from dsar.auth.models import ApiToken, Note, StaffUser
    from dsar.db import session_scope
    from dsar.models import Notice, Request

    with session_scope() as s:
        case = s.exec(select(Request).where(Request.number == w.cases["mine"])).one()
        notices = tuple((n.id, n.status, n.approved_by) for n in s.exec(select(Notice).order_by(Notice.id)))
        return (case.stage, case.assignee_id, case.row_version, notices, len(s.exec(select(Note)).all()),
                len(s.exec(select(StaffUser)).all()), len(s.exec(select(ApiToken)).all()),
                tuple(u.active for u in s.exec(select(StaffUser).order_by(StaffUser.id))),
                tuple(t.revoked_at for t in s.exec(select(ApiToken).order_by(ApiToken.id))))


def test_every_route_refuses_the_roles_it_must_and_hides_other_organisations(
    client: httpx.Client, world: World
) -> None:
    before = _state(world)
    failures = []
    for method, path, kwargs, expected in routes(world, *_ids(world)):
        for role, status in expected.items():
            response = client.request(method, path, headers=world.auth(role), **kwargs)
            if response.status_code != status:
                failures.append(f"{method} {path} as {role}: {response.status_code}, expected {status}: "
                                f"{response.text[:200]}")
            elif status >= 400:
                error = response.json()["error"]
                if error["code"] != {403: "forbidden", 404: "not_found"}[status] or not error["message"]:
                    failures.append(f"{method} {path} as {role}: error body {error}")
    assert not failures, "\n".join(failures)
    assert _state(world) == before  # nothing a refused call touched changed


def test_every_api_route_needs_a_signed_in_principal(client: httpx.Client, world: World) -> None:
    failures = []
    for method, path, kwargs, _ in routes(world, *_ids(world)):
        for headers in ({}, {"Authorization": "Bearer dsar_not-a-real-token"}, {"Authorization": "Basic eDp5"}):
            response = client.request(method, path, headers=headers, **kwargs)
            if response.status_code != 401 or response.json()["error"]["code"] != "unauthenticated":
                failures.append(f"{method} {path} with {headers}: {response.status_code} {response.text[:120]}")
    assert not failures, "\n".join(failures)


def test_lists_show_only_the_callers_organisation(client: httpx.Client, world: World) -> None:
    mine = {c["number"] for c in client.get("/api/cases", headers=world.auth("handler2")).json()["items"]}
    theirs = {c["number"] for c in client.get("/api/cases", headers=world.auth("other_officer")).json()["items"]}
    everyone = {c["number"] for c in client.get("/api/cases", headers=world.auth("admin")).json()["items"]}
    assert mine == {world.cases[k] for k in ("mine", "overdue", "theirs")}
    assert theirs == {world.cases["other"]}
    assert everyone == mine | theirs
    orgs = client.get("/api/organisations", headers=world.auth("other_officer")).json()
    assert [o["slug"] for o in orgs["items"]] == ["otherorg"] and orgs["total"] == 1
    # Filtering by another organisation's slug looks exactly like an unknown slug.
    unknown = client.get("/api/cases?org=nosuchorg", headers=world.auth("other_officer"))
    hidden = client.get("/api/cases?org=testorg", headers=world.auth("other_officer"))
    assert unknown.status_code == hidden.status_code == 404
    assert unknown.json()["error"]["message"].replace("nosuchorg", "X") == \
        hidden.json()["error"]["message"].replace("testorg", "X")


def test_another_organisations_case_is_not_found_like_a_missing_one(client: httpx.Client, world: World) -> None:
    other = client.get(f"/api/cases/{world.cases['other']}", headers=world.auth("officer"))
    missing = client.get("/api/cases/DSAR-2026-999999", headers=world.auth("officer"))
    assert other.status_code == missing.status_code == 404
    assert other.json()["error"]["code"] == missing.json()["error"]["code"] == "not_found"
    notices = client.get(f"/api/cases/{world.cases['other']}/notices", headers=world.auth("officer"))
    assert notices.status_code == 404
