"""The context contract: what it accepts, refuses and how it round-trips through JSON."""

from dataclasses import replace
from datetime import date, datetime

import pytest

from dsar.errors import InvalidInput
from dsar.letters import Agent, Case, Decision, Fee, NoticeContext, Org, Requirement
from dsar.letters.samples import sample_context
from dsar.rights import Right


def _case(**kw):
    base = dict(
        number="DSAR-2026-000001",
        right="삭제",
        received_at=datetime.fromisoformat("2026-11-23T10:15+09:00"),
        due_date=date(2026, 12, 3),
    )
    return Case(**(base | kw))


def test_rights_are_accepted_by_korean_name_or_key_and_the_main_right_is_always_listed():
    case = _case(right="erasure", rights=["열람"])
    assert case.right is Right.ERASURE
    assert case.rights == (Right.ERASURE, Right.ACCESS)
    assert _case().rights == (Right.ERASURE,)


def test_an_unknown_right_is_refused_with_the_known_ones():
    with pytest.raises(InvalidInput, match="열람"):
        _case(right="forget-me")


def test_a_naive_receipt_time_is_refused():
    with pytest.raises(InvalidInput, match="timezone-aware"):
        _case(received_at=datetime(2026, 11, 23, 10, 15))


def test_bad_agent_kind_outcome_and_fee_are_refused():
    with pytest.raises(InvalidInput, match="법정대리인"):
        Agent(kind="친구")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="outcome"):
        Decision(outcome="accepted")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="negative"):
        Fee(amount=-1)


def test_lists_are_frozen_into_tuples():
    requirement = Requirement(items=["신분증 사본"], deadline=date(2026, 11, 30))  # type: ignore[arg-type]
    assert requirement.items == ("신분증 사본",)
    assert Org(name="x", slug="x", complaint_bodies=[]).complaint_bodies == ()  # type: ignore[arg-type]


def test_canonical_json_is_stable_and_round_trips():
    context = sample_context("access_notice")
    text = context.to_json()
    assert text == replace(context).to_json()
    assert '"received_at":"2026-11-23T10:15:00+09:00"' in text and '"right":"열람"' in text
    assert NoticeContext.from_json(text) == context


def test_unknown_fields_in_stored_json_are_refused():
    data = sample_context("reminder").to_dict()
    data["case"]["priority"] = "high"
    with pytest.raises(InvalidInput, match=r"context\.case has unknown fields: priority"):
        NoticeContext.from_dict(data)


def test_stored_json_with_a_missing_or_malformed_value_names_the_field():
    data = sample_context("automated_decision_extension").to_dict()
    data["decision"]["extension"]["new_due"] = None
    with pytest.raises(InvalidInput, match=r"context\.decision\.extension\.new_due is required"):
        NoticeContext.from_dict(data)
    data["decision"]["extension"]["new_due"] = "next week"
    with pytest.raises(InvalidInput, match="ISO date"):
        NoticeContext.from_dict(data)
