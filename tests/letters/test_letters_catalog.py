"""The table of notice kinds."""

from dsar.letters import NOTICE_KINDS

REQUESTER = {
    "acknowledgement",
    "verification_request",
    "supplement_request",
    "access_notice",
    "access_postpone_refusal",
    "rectify_erase_result",
    "suspension_result",
    "withdrawal_result",
    "portability_result",
    "automated_decision_result",
    "automated_decision_extension",
    "unverified_closure",
}
STAFF = {"assignment", "reminder", "escalation_overdue", "daily_digest"}


def test_the_catalog_lists_every_kind_with_its_audience():
    assert set(NOTICE_KINDS) == REQUESTER | STAFF
    assert {k for k, v in NOTICE_KINDS.items() if v.audience == "requester"} == REQUESTER
    assert all(v.key == k and v.title for k, v in NOTICE_KINDS.items())


def test_refusals_partial_access_and_postponements_need_the_officers_approval():
    assert NOTICE_KINDS["access_postpone_refusal"].needs_approval("postponed")
    assert NOTICE_KINDS["access_postpone_refusal"].needs_approval("refused")
    assert NOTICE_KINDS["access_notice"].needs_approval("partial")
    assert not NOTICE_KINDS["access_notice"].needs_approval("approved")
    for kind in (
        "rectify_erase_result",
        "suspension_result",
        "withdrawal_result",
        "portability_result",
        "automated_decision_result",
    ):
        assert NOTICE_KINDS[kind].needs_approval("refused") and NOTICE_KINDS[kind].needs_approval("partial")
        assert not NOTICE_KINDS[kind].needs_approval("approved")
    assert NOTICE_KINDS["unverified_closure"].requires_approval
    for kind in STAFF | {"acknowledgement", "verification_request", "automated_decision_extension"}:
        assert not NOTICE_KINDS[kind].requires_approval


def test_requester_notices_live_under_letters_except_the_acknowledgement_email():
    for key in REQUESTER - {"acknowledgement"}:
        assert NOTICE_KINDS[key].template == f"letters/{key}"
    for key in STAFF | {"acknowledgement"}:
        assert NOTICE_KINDS[key].template == f"email/{key}"
