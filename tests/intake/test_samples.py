"""The demo messages in samples/emails parse cleanly and say what `dsar demo` expects."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from dsar.intake.classify import classify
from dsar.intake.parse import parse_message

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "emails"
EXPECTED = {
    "01-access-rsupport.eml": (["열람"], "sec_tech@rsupport.com", None),
    "02-rectify-alpaco.eml": (["정정"], "alpha@alpaco.co.kr", None),
    "03-erasure-rsupport.eml": (["삭제"], "sec_tech@rsupport.com", None),
    "04-suspension-alpaco.eml": (["처리정지"], "alpha@alpaco.co.kr", None),
    "05-withdrawal-alpaco.eml": (["동의철회"], "alpha@alpaco.co.kr", None),
    "06-guardian-alpaco.eml": (["삭제"], "alpha@alpaco.co.kr", "법정대리인"),
    "07-unrouted-unknown-shop.eml": (["삭제"], "privacy@unknown-shop.example", None),
}


def test_there_are_exactly_the_seven_demo_samples() -> None:
    assert sorted(p.name for p in SAMPLES.glob("*.eml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_demo_sample(name: str) -> None:
    rights, recipient, agent_kind = EXPECTED[name]
    pm = parse_message((SAMPLES / name).read_bytes())
    c = classify(pm.subject, pm.text, [a.filename for a in pm.attachments])
    assert pm.problem is None and pm.warnings == []
    assert pm.recipients == [recipient]
    assert pm.message_id and pm.message_id.startswith("demo-")
    assert pm.date is not None and (pm.date.year, pm.date.month) == (2026, 11)
    assert pm.date.utcoffset() is not None and pm.date <= datetime.fromisoformat("2026-11-30T23:59:59+09:00")
    assert [r.value for r in c.rights] == rights
    assert c.agent_kind == agent_kind
    if agent_kind:
        assert [a.filename for a in pm.attachments] == ["가족관계증명서.jpg"]
