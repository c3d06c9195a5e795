"""Shared helpers for the letters tests: the snapshot check.

Snapshots live in tests/letters/snapshots/. Regenerate them after an intended wording change with
    DSAR_UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/letters
and review the diff like any other change to the notices.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SNAPSHOTS = Path(__file__).parent / "snapshots"


def check_snapshot(name: str, actual: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("DSAR_UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"no snapshot {path}; run with DSAR_UPDATE_SNAPSHOTS=1 to create it")
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, (
        f"{name} differs from its snapshot; if intended, regenerate with DSAR_UPDATE_SNAPSHOTS=1"
    )
