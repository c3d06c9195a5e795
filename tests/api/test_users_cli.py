"""`dsar users add|token|list|unlock` as an operator runs them, then the account used over HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx

from tests.api.conftest import ROOT, serve
from tests.api.test_auth import sign_in


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DSAR_") or k.startswith("DSAR_TEST")}
    env.update({"DSAR_DATABASE_URL": os.environ["DSAR_DATABASE_URL"], "DSAR_DATA_DIR": os.environ["DSAR_DATA_DIR"],
                "DSAR_CELERY_EAGER": "1", "PYTHONWARNINGS": "ignore"})
    return subprocess.run([sys.executable, "-m", "dsar", *args], cwd=ROOT, env=env, input=stdin, text=True,
                          capture_output=True, timeout=120)


def test_first_admin_from_the_command_line_can_sign_in(testorg: int) -> None:
    made = run("users", "add", "--email", "Root@Example.com", "--name", "운영자", "--role", "admin",
               "--password-stdin", "--json", stdin="a very long password\n")
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["email"] == "root@example.com"
    handler = run("users", "add", "--email", "desk@testorg.example", "--name", "이담당", "--role", "handler",
                  "--org", "testorg", "--password-stdin", "--json", stdin="another long password\n")
    assert handler.returncode == 0 and json.loads(handler.stdout)["contact_id"]  # linked to the policy's 담당자
    short = run("users", "add", "--email", "x@example.com", "--name", "엑스", "--role", "감사", "--org", "testorg",
                "--password-stdin", stdin="short\n")
    assert short.returncode == 2 and "10자 이상" in short.stderr
    no_org = run("users", "add", "--email", "y@example.com", "--name", "와이", "--role", "감사", "--password-stdin",
                 stdin="a very long password\n")
    assert no_org.returncode == 2 and "조직" in no_org.stderr
    listed = json.loads(run("users", "list", "--json").stdout)
    assert [(u["email"], u["role"], u["org"]) for u in listed] == [
        ("root@example.com", "admin", None), ("desk@testorg.example", "담당자", "testorg")]
    token = json.loads(run("users", "token", "nightly-export", "--user", "root@example.com", "--json").stdout)
    from dsar.api.app import create_app

    with serve(create_app()) as url, httpx.Client(base_url=url) as client:
        me = client.get("/api/me", headers={"Authorization": f"Bearer {token['token']}"}).json()
        assert me["email"] == "root@example.com" and me["role"] == "admin"
        assert sign_in(client, "root@example.com", "a very long password").status_code == 303


def test_unlock_lifts_a_sign_in_lock(testorg: int) -> None:
    from dsar.auth import accounts
    from dsar.db import session_scope

    run("users", "add", "--email", "desk@testorg.example", "--name", "이담당", "--role", "담당자", "--org", "testorg",
        "--password-stdin", stdin="another long password\n")
    with session_scope() as s:
        for _ in range(5):
            accounts.sign_in(s, "desk@testorg.example", "wrong password")
    with session_scope() as s:
        assert accounts.sign_in(s, "desk@testorg.example", "another long password").error == "locked"
    assert run("users", "unlock", "desk@testorg.example").returncode == 0
    with session_scope() as s:
        assert accounts.sign_in(s, "desk@testorg.example", "another long password").user is not None
