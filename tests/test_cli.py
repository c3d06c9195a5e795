"""The command-line contract of DESIGN.md, run as a user runs it (a real subprocess, a real database file)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli import ROOT, dsar, dsar_json

SEEDS = sorted((ROOT / "samples" / "policies").glob("*.txt"))


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"DSAR_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "DSAR_DATA_DIR": str(tmp_path / "var")}


def test_help_lists_every_command_with_a_one_line_description() -> None:
    out = dsar("--help").stdout
    for command in ("demo", "policy", "workflow", "intake", "deadline", "requests", "letters", "audit", "serve",
                    "worker"):
        assert command in out
    for sub in (["policy", "import"], ["intake", "eml"], ["requests", "list"], ["requests", "show"],
                ["requests", "advance"], ["audit", "verify"], ["audit", "export"], ["workflow", "validate"],
                ["letters", "render"], ["deadline"], ["demo"]):
        assert dsar(*sub, "--help").returncode == 0


@pytest.mark.parametrize(("received", "due"), [
    ("2026-11-23T10:00:00+09:00", "2026-12-03"),
    ("2026-12-16T09:00:00+09:00", "2026-12-28"),  # day 10 is a Saturday
    ("2026-09-15T09:00:00+09:00", "2026-09-28"),  # 추석, then a weekend
    ("2026-11-22T23:30:00+00:00", "2026-12-03"),  # 08:30 on 11-23 in Seoul
])
def test_deadline_follows_the_civil_code_and_korean_holidays(received: str, due: str) -> None:
    data = dsar_json("deadline", "--received", received, "--right", "열람")
    assert data["due"] == due and data["statutory"] is True
    assert any("민법 제157조" in line for line in data["basis"])


def test_deadline_with_an_unknown_right_is_a_clear_error_without_traceback() -> None:
    proc = dsar("deadline", "--received", "2026-11-23T10:00+09:00", "--right", "환불", check=False)
    assert proc.returncode == 2 and "알 수 없는 권리 '환불'" in proc.stderr and "Traceback" not in proc.stderr


def test_policy_import_gives_the_contract_fields_for_both_seeds(tmp_path: Path, env: dict[str, str]) -> None:
    data = dsar_json("policy", "import", *map(str, SEEDS), "--out", str(tmp_path / "wf"), env=env)
    by_slug = {d["slug"]: d for d in data}
    assert set(by_slug) == {"rsupport", "alpaco"}
    for d in data:
        assert {"org", "slug", "rights", "channels", "verification", "contacts", "retention", "complaint_bodies",
                "warnings"} <= set(d)
    rs, al = by_slug["rsupport"], by_slug["alpaco"]
    assert rs["org"] == "알서포트주식회사" and al["org"] == "(주)알파코"
    officer = next(c for c in rs["contacts"] if c["role"] == "책임자")
    assert (officer["name"], officer["phone"], officer["email"]) == ("송의", "070-7011-3900", "sec_tech@rsupport.com")
    handler = next(c for c in al["contacts"] if c["role"] == "담당자")
    assert (handler["name"], handler["title"], handler["phone"]) == ("이상철", "팀장", "02-2163-5700")
    assert {"열람", "정정"} <= set(rs["rights"]) and {"열람", "정정", "동의철회"} <= set(al["rights"])
    assert {"email", "phone"} <= set(al["channels"])
    assert {"item": "웹사이트 방문에 관한 기록", "period": "3개월", "basis": "통신비밀보호법"} in rs["retention"]
    assert (tmp_path / "wf" / "rsupport.yaml").is_file() and (tmp_path / "wf" / "alpaco.yaml").is_file()
    assert dsar("workflow", "validate", str(tmp_path / "wf" / "alpaco.yaml"), env=env).returncode == 0


def test_reimport_is_a_no_op_and_a_changed_policy_becomes_a_new_version_with_a_diff(
    tmp_path: Path, env: dict[str, str]
) -> None:
    seed = next(p for p in SEEDS if "rsupport" in p.name)
    out = str(tmp_path / "wf")
    first = dsar("policy", "import", str(seed), "--out", out, env=env).stdout
    assert "v1 등록" in first
    assert "변경 없음" in dsar("policy", "import", str(seed), "--out", out, env=env).stdout
    changed = tmp_path / seed.name
    changed.write_text(seed.read_text(encoding="utf-8").replace("070-7011-3900", "070-7011-3999"), encoding="utf-8")
    second = dsar("policy", "import", str(changed), "--out", out, env=env).stdout
    assert "v2 등록" in second and "+" in second and "070-7011-3999" in second


@pytest.mark.parametrize("content", [b"", b"\x00\x01\x02\xff" * 100, "회사 소개 페이지입니다.\n".encode()])
def test_bad_policy_files_fail_cleanly(tmp_path: Path, env: dict[str, str], content: bytes) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(content)
    proc = dsar("policy", "import", str(bad), "--out", str(tmp_path / "wf"), env=env, check=False)
    assert proc.returncode != 0 and "bad.txt" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "wf").exists()


def test_missing_files_are_named_in_a_clear_error(tmp_path: Path, env: dict[str, str]) -> None:
    for args in (["policy", "import", "nope.txt"], ["intake", "eml", "nope.eml"]):
        proc = dsar(*args, env=env, check=False)
        assert proc.returncode != 0 and "nope" in proc.stderr and "Traceback" not in proc.stderr


def test_intake_routes_by_recipient_and_keeps_unrouted_mail(tmp_path: Path, env: dict[str, str]) -> None:
    dsar("policy", "import", *map(str, SEEDS), "--out", str(tmp_path / "wf"), env=env)
    samples = sorted((ROOT / "samples" / "emails").glob("*.eml"))
    results = dsar_json("intake", "eml", *map(str, samples), env=env)
    assert len(results) == len(samples)
    for r in results:
        assert {"request_id", "org", "rights", "agent", "agent_kind", "not_a_request", "duplicate_of", "thread_of",
                "due"} <= set(r)
    routed = [r for r in results if r["org"]]
    assert {r["org"] for r in routed} == {"rsupport", "alpaco"}
    assert {"열람", "정정", "삭제", "처리정지"} <= {right for r in routed for right in r["rights"]}
    assert all(r["due"] and r["request_id"].startswith("DSAR-2026-") for r in routed)
    unrouted = [r for r in results if r["request_id"] and r["org"] is None]
    assert len(unrouted) == 1
    listed = dsar_json("requests", "list", "--unrouted", env=env)
    assert [row["request_id"] for row in listed] == [unrouted[0]["request_id"]]
    again = dsar_json("intake", "eml", str(samples[0]), env=env)
    assert again[0]["request_id"] == results[0]["request_id"]  # same Message-ID: no second case


def test_audit_verify_exits_1_and_names_the_broken_event(tmp_path: Path, env: dict[str, str]) -> None:
    import sqlite3

    dsar("policy", "import", *map(str, SEEDS), "--out", str(tmp_path / "wf"), env=env)
    assert dsar_json("audit", "verify", env=env)["ok"] is True
    with sqlite3.connect(tmp_path / "cli.db") as conn:
        conn.execute("UPDATE auditevent SET actor = 'mallory' WHERE id = 1")
    proc = dsar("audit", "verify", env=env, check=False)
    assert proc.returncode == 1 and "id=1" in proc.stdout
