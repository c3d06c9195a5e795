"""`dsar demo`, the main job, on the embedded default (SQLite, no broker)."""

from __future__ import annotations

from pathlib import Path

from tests.cli import dsar, dsar_json


def test_demo_runs_every_case_to_closed_and_writes_the_notices(tmp_path: Path) -> None:
    result = dsar_json("demo", "--out", str(tmp_path / "demo"))
    assert result["seconds"] < 60
    assert {p["slug"] for p in result["policies"]} == {"rsupport", "alpaco"}
    routed = [c for c in result["cases"] if c["org"]]
    assert {c["right"] for c in routed} >= {"열람", "정정", "삭제", "처리정지"}
    assert all(c["stage"] == "closed" for c in routed if not c["duplicate_of"])
    assert any(c["org"] is None and c["stage"] == "unrouted" for c in result["cases"])
    assert result["audit"]["ok"] is True
    notices = sorted(Path(result["notices_dir"]).glob("*.txt"))
    first = routed[0]["request_id"]
    assert any(p.name.startswith(first) and "acknowledgement" in p.name for p in notices)
    assert any(p.name.startswith(first) and "acknowledgement" not in p.name for p in notices)
    assert len(list(Path(result["outbox_dir"]).glob("*.eml"))) >= 2 * len(routed)


def test_demo_prints_a_readable_summary_and_says_where_files_are(tmp_path: Path) -> None:
    out = dsar("demo", "--out", str(tmp_path / "demo")).stdout
    assert "사건" in out and "기한" in out and "감사 체인: 정상" in out
    assert str(tmp_path / "demo" / "notices") in out
