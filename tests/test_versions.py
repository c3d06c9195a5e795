"""Re-importing a changed policy makes a new definition version; a running case stays on the one it started."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from dsar import engine
from dsar.clock import FixedClock
from dsar.db import session_scope
from dsar.models import Organisation, Request, WorkflowVersion
from dsar.settings import PROJECT_ROOT
from dsar.workflow.definitions import load_bases, load_organisation
from dsar.workflow.registry import register

TESTORG = PROJECT_ROOT / "tests" / "data" / "workflows" / "testorg.yaml"
AT = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def _open(org_id: int) -> int:
    with session_scope() as s:
        return engine.open_case(s, org=s.get(Organisation, org_id), right="열람", received_at=AT, actor="t",
                                clock=FixedClock(AT), requester_email="a@example.com").id or 0


def test_running_case_keeps_its_version_and_new_cases_take_the_new_one(testorg: int) -> None:
    old_case = _open(testorg)
    text = TESTORG.read_text(encoding="utf-8").replace("internal_target_days: 7", "internal_target_days: 5")
    resolved = load_organisation(TESTORG, load_bases(), text=text)
    with session_scope() as s:
        registered = register(s, resolved)
        assert registered.created and registered.version.version == 2
        assert any(line.startswith("+") and "internal_target_days: 5" in line for line in registered.diff)
    new_case = _open(testorg)
    with session_scope() as s:
        versions = {v.id: v.version for v in s.exec(select(WorkflowVersion))}
        old, new = s.get(Request, old_case), s.get(Request, new_case)
        assert old is not None and new is not None
        assert versions[old.workflow_version_id] == 1 and versions[new.workflow_version_id] == 2
        engine.advance(s, old, "start_verification", actor="staff", clock=FixedClock(AT))  # v1 still runs


def test_registering_the_same_definition_again_makes_no_new_version(testorg: int) -> None:
    resolved = load_organisation(TESTORG, load_bases())
    with session_scope() as s:
        again = register(s, resolved)
        assert not again.created and again.version.version == 1
        assert len(list(s.exec(select(WorkflowVersion)))) == 1
