"""The intake corpus through the real service and database: stored raw, quarantined with a reason, classified,
threaded, deduplicated, routed, masked, acknowledged; the same message twice makes no second case."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlmodel import select

from dsar.clock import SystemClock
from dsar.db import session_scope
from dsar.intake import service
from dsar.models import InboundMessage, Notice, Request, RouteAddress

CORPUS = Path(__file__).parent / "data" / "emails"
EXPECTED: dict[str, dict[str, Any]] = yaml.safe_load((CORPUS / "expected.yaml").read_text(encoding="utf-8"))
RRN = re.compile(r"\d{6}-?[1-8]\d{6}")


def _route_corpus_addresses_to(org_id: int) -> None:
    with session_scope() as s:
        for address in ("sec_tech@rsupport.com", "alpha@alpaco.co.kr"):
            s.add(RouteAddress(address=address, org_id=org_id))


def _ingest(raw: bytes) -> service.IntakeResult:
    clock = SystemClock()
    with session_scope() as s:
        inbound, _ = service.store(s, raw, source="test", clock=clock)
    with session_scope() as s:
        return service.process(s, inbound.id or 0, clock=clock)


@pytest.fixture
def corpus_results(testorg: int) -> dict[str, service.IntakeResult]:
    _route_corpus_addresses_to(testorg)
    results: dict[str, service.IntakeResult] = {}
    for name in sorted(EXPECTED):
        raw = (CORPUS / name).read_bytes()
        ref = EXPECTED[name].get("case_ref")
        target = EXPECTED[name].get("thread_of")
        if ref and target in results:  # the corpus cannot know our case numbers: use the real one
            raw = raw.replace(ref.encode(), (results[target].request_id or "").encode())
        results[name] = _ingest(raw)
    return results


def test_every_corpus_message_ends_as_expected(corpus_results: dict[str, service.IntakeResult]) -> None:
    for name, want in EXPECTED.items():
        got = corpus_results[name]
        if want["problem"]:
            assert (got.status, (got.problem or {}).get("code")) == ("quarantined", want["problem"]), name
            continue
        if want.get("thread_of"):
            assert got.thread_of == corpus_results[want["thread_of"]].request_id, name
            continue
        if want["not_a_request"]:
            assert got.status == "not_a_request" and got.request_id is None, name
            continue
        assert got.rights == want["rights"], name
        assert (got.agent, got.agent_kind) == (want["agent"], want["agent_kind"]), name
        assert got.due is not None and len(got.cases) == len(want["rights"]), name
        if want.get("duplicate_of"):
            assert got.duplicate_of == corpus_results[want["duplicate_of"]].request_id, name
        else:
            assert got.duplicate_of is None, name


def test_every_message_is_stored_byte_for_byte_whatever_became_of_it(
    corpus_results: dict[str, service.IntakeResult],
) -> None:
    with session_scope() as s:
        stored = {m.sha256 for m in s.exec(select(InboundMessage))}
    for name in EXPECTED:
        if not EXPECTED[name].get("case_ref"):
            assert hashlib.sha256((CORPUS / name).read_bytes()).hexdigest() in stored, name


def test_quarantined_messages_keep_a_korean_reason(corpus_results: dict[str, service.IntakeResult]) -> None:
    quarantined = [r for r in corpus_results.values() if r.status == "quarantined"]
    assert len(quarantined) == sum(1 for w in EXPECTED.values() if w["problem"])
    assert all(r.problem and re.search("[가-힣]", r.problem["message"]) for r in quarantined)


def test_resident_numbers_never_reach_the_stored_text(corpus_results: dict[str, service.IntakeResult]) -> None:
    with session_scope() as s:
        texts = [(r.details, r.subject) for r in s.exec(select(Request))]
        summaries = [str(m.summary) for m in s.exec(select(InboundMessage))]
    assert texts and not any(RRN.search(d + " " + subj) for d, subj in texts)
    assert not any(RRN.search(s) for s in summaries)


def test_unknown_recipient_becomes_an_unrouted_case(corpus_results: dict[str, service.IntakeResult]) -> None:
    got = corpus_results["35-unknown-recipient.eml"]
    assert got.org is None and got.request_id is not None
    with session_scope() as s:
        case = s.exec(select(Request).where(Request.number == got.request_id)).one()
        assert case.stage == "unrouted" and case.due_date is not None


def test_routed_requests_are_acknowledged_once_per_case(corpus_results: dict[str, service.IntakeResult]) -> None:
    with session_scope() as s:
        routed = list(s.exec(select(Request).where(Request.org_id.is_not(None))))  # type: ignore[union-attr]
        acks = list(s.exec(select(Notice).where(Notice.kind == "acknowledgement")))
    assert routed and len(acks) == len(routed)
    assert {a.request_id for a in acks} == {r.id for r in routed}


def test_the_same_message_twice_opens_no_second_case(testorg: int) -> None:
    _route_corpus_addresses_to(testorg)
    raw = (CORPUS / "01-access-utf8-8bit.eml").read_bytes()
    first, second = _ingest(raw), _ingest(raw)
    assert first.request_id == second.request_id and first.inbound_id == second.inbound_id
    with session_scope() as s:
        assert len(list(s.exec(select(Request)))) == 1
