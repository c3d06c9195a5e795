"""render_notice: every kind, every branch, escaping, determinism, errors."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import pytest

from dsar.errors import InvalidInput
from dsar.letters import (
    DEFAULT_COMPLAINT_BODIES,
    NOTICE_KINDS,
    ComplaintBody,
    Contact,
    Decision,
    NoticeContext,
    render_notice,
)
from dsar.letters.samples import minimal_context, sample_context

from .conftest import check_snapshot
from .variants import variants

KINDS = sorted(NOTICE_KINDS)
REQUESTER_KINDS = [k for k in KINDS if NOTICE_KINDS[k].audience == "requester"]
STAFF_KINDS = [k for k in KINDS if NOTICE_KINDS[k].audience == "staff"]
VARIANTS = variants()


def _plain_html(html: str) -> str:
    """The visible text of the HTML, to look for phrases that markup may split."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_matches_its_snapshot(kind):
    rendered = render_notice(kind, sample_context(kind))
    check_snapshot(f"{kind}.txt", f"Subject: {rendered.subject}\n\n{rendered.text}")
    check_snapshot(f"{kind}.html", rendered.html)


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_each_branch_matches_its_snapshot(name):
    kind, context = VARIANTS[name]
    rendered = render_notice(kind, context)
    check_snapshot(f"variants/{name}.txt", f"Subject: {rendered.subject}\n\n{rendered.text}")


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_from_a_minimal_context(kind):
    rendered = render_notice(kind, minimal_context(kind))
    assert rendered.subject and rendered.text.strip() and "</html>" in rendered.html
    for output in (rendered.text, rendered.html, rendered.subject):
        assert "None" not in output


@pytest.mark.parametrize("kind", REQUESTER_KINDS)
def test_requester_notices_carry_org_officer_date_and_case_number(kind):
    context = sample_context(kind)
    rendered = render_notice(kind, context)
    date_text = f"{context.notice_date.year}년 {context.notice_date.month}월 {context.notice_date.day}일"
    for output in (rendered.text, _plain_html(rendered.html)):
        assert "주식회사 한빛마켓" in output
        assert "개인정보 보호책임자" in output and "이정민" in output
        assert "02-6123-4500" in output and "privacy@hanbitmarket.co.kr" in output
        assert date_text in output
        assert "DSAR-2026-000123" in output
    assert rendered.subject.startswith("[DSAR-2026-000123] ")


ADVERSE = [
    (k, sample_context(k))
    for k in REQUESTER_KINDS
    if NOTICE_KINDS[k].is_adverse(sample_context(k).decision.outcome if sample_context(k).decision else None)
]
ADVERSE += [
    (kind, ctx)
    for kind, ctx in VARIANTS.values()
    if NOTICE_KINDS[kind].is_adverse(ctx.decision.outcome if ctx.decision else None)
]


@pytest.mark.parametrize(("kind", "context"), ADVERSE, ids=[f"{k}-{c.decision.outcome}" for k, c in ADVERSE])
def test_refusals_partial_access_and_postponements_state_reason_ground_objection_and_bodies(kind, context):
    rendered = render_notice(kind, context)
    for output in (rendered.text, _plain_html(rendered.html)):
        assert context.decision.reason in output
        if context.decision.legal_ground:
            assert context.decision.legal_ground.article in output
        assert "이의제기 방법" in output and "이의를 신청하실 수 있습니다" in output
        for body in (
            "개인정보침해신고센터",
            "privacy.kisa.or.kr",
            "118",
            "개인정보분쟁조정위원회",
            "1833-6972",
        ):
            assert body in output


def test_a_refused_result_must_name_its_legal_ground():
    context = replace(
        sample_context("suspension_result"), decision=Decision(outcome="refused", reason="사유")
    )
    with pytest.raises(InvalidInput, match="legal ground") as caught:
        render_notice("suspension_result", context)
    assert caught.value.context["field"] == "decision.legal_ground"


def test_an_adverse_notice_must_state_its_reason():
    context = replace(sample_context("access_postpone_refusal"), decision=Decision(outcome="postponed"))
    with pytest.raises(InvalidInput, match="reason"):
        render_notice("access_postpone_refusal", context)


def test_partial_access_must_list_what_is_withheld():
    context = sample_context("access_notice")
    context = replace(context, decision=replace(context.decision, withheld_items=()))
    with pytest.raises(InvalidInput, match="withheld_items"):
        render_notice("access_notice", context)


def test_an_outcome_the_kind_does_not_take_is_refused():
    context = sample_context("access_notice")
    context = replace(context, decision=replace(context.decision, outcome="refused"))
    with pytest.raises(InvalidInput, match="decision.outcome"):
        render_notice("access_notice", context)


def test_a_kind_missing_its_decision_block_names_the_field():
    context = replace(sample_context("verification_request"), decision=None)
    with pytest.raises(InvalidInput, match=r"decision\.required"):
        render_notice("verification_request", context)


def test_an_unknown_kind_lists_the_known_ones():
    with pytest.raises(InvalidInput, match="access_notice"):
        render_notice("access_letter", sample_context("access_notice"))


def test_default_complaint_bodies_are_used_when_the_org_names_none():
    context = sample_context("access_postpone_refusal")
    context = replace(context, org=replace(context.org, complaint_bodies=()))
    text = render_notice("access_postpone_refusal", context).text
    for body in DEFAULT_COMPLAINT_BODIES:
        assert body.name in text
    assert "경찰청 사이버수사국 (ecrm.police.go.kr, 국번 없이 182)" in text


def test_the_orgs_own_complaint_bodies_replace_the_defaults():
    context = sample_context("access_postpone_refusal")
    bodies = (
        ComplaintBody(name="개인정보침해신고센터", url="privacy.kisa.or.kr", phone="118"),
        ComplaintBody(name="한국소비자원", phone="1372"),
    )
    context = replace(context, org=replace(context.org, complaint_bodies=bodies))
    text = render_notice("access_postpone_refusal", context).text
    assert "한국소비자원 (국번 없이 1372)" in text
    assert "대검찰청" not in text


def test_the_orgs_objection_procedure_replaces_the_default_text():
    context = sample_context("rectify_erase_result")
    procedure = "이의신청서를 작성하여 고객센터에 제출해 주십시오."
    context = replace(context, org=replace(context.org, objection_procedure=procedure))
    text = render_notice("rectify_erase_result", context).text
    assert procedure in text
    assert "30일 이내에" not in text


def test_the_default_objection_text_falls_back_to_the_handler_then_to_writing():
    context = sample_context("access_postpone_refusal")
    no_officer_email = replace(context, org=replace(context.org, officer=Contact(name="이정민")))
    assert (
        "개인정보 보호 담당자에게 서면이나 전자우편(help@hanbitmarket.co.kr)으로"
        in render_notice("access_postpone_refusal", no_officer_email).text
    )
    nobody = replace(context, org=replace(context.org, officer=None, handler=None, objection_days=None))
    text = render_notice("access_postpone_refusal", nobody).text
    assert "이의 사유를 적어 개인정보 보호책임자에게 서면으로 이의를" in text
    assert "이내에 이의 사유" not in text


def test_officer_fields_that_are_unknown_are_left_out():
    context = sample_context("access_notice")
    context = replace(context, org=replace(context.org, handler=None, officer=Contact(name="이정민")))
    rendered = render_notice("access_notice", context)
    assert "성명: 이정민" in rendered.text
    assert "전화:" not in rendered.text.split("[문의처]")[1]
    assert '<th scope="row">전화</th>' not in rendered.html.split("문의처")[1]


def test_requester_text_is_escaped_in_html_and_kept_verbatim_in_text():
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    context = sample_context("acknowledgement")
    context = replace(
        context,
        case=replace(
            context.case,
            details=f"열람 요청합니다.\n{attack}",
            requester=replace(context.case.requester, name="<b>김민지</b>"),
        ),
    )
    rendered = render_notice("acknowledgement", context)
    assert "<script>" not in rendered.html and "<img" not in rendered.html and "<b>" not in rendered.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in rendered.html
    assert "&lt;b&gt;김민지&lt;/b&gt; 님" in rendered.html
    assert "열람 요청합니다.<br>\n&lt;script&gt;" in rendered.html
    assert attack in rendered.text


def test_staff_written_reasons_are_escaped_too():
    context = replace(sample_context("suspension_result"))
    context = replace(
        context, decision=replace(context.decision, reason="<a href='x'>링크</a>", note="<iframe></iframe>")
    )
    html = render_notice("suspension_result", context).html
    assert "<a href" not in html and "<iframe" not in html
    assert "&lt;a href=&#39;x&#39;&gt;링크&lt;/a&gt;" in html


def test_long_requester_text_is_clipped():
    context = sample_context("acknowledgement")
    context = replace(context, case=replace(context.case, details="가" * 5000))
    text = render_notice("acknowledgement", context).text
    assert "가" * 2000 + " …(이하 생략)" in text and "가" * 2001 not in text


@pytest.mark.parametrize("kind", KINDS)
def test_same_context_gives_the_same_bytes_and_hash(kind):
    first = render_notice(kind, sample_context(kind))
    from dsar.letters import render

    render._environment.cache_clear()  # a fresh environment must not change a byte either
    second = render_notice(kind, sample_context(kind))
    assert first == second
    assert re.fullmatch(r"[0-9a-f]{64}", first.sha256) and re.fullmatch(
        r"[0-9a-f]{12}", first.template_version
    )


def test_a_different_context_gives_a_different_hash_but_the_same_template_version():
    context = sample_context("access_notice")
    first = render_notice("access_notice", context)
    second = render_notice("access_notice", replace(context, notice_date=date(2026, 12, 2)))
    assert first.sha256 != second.sha256
    assert first.template_version == second.template_version


def test_a_stored_context_renders_the_same_notice_again():
    for kind in KINDS:
        rendered = render_notice(kind, sample_context(kind))
        again = render_notice(kind, NoticeContext.from_json(rendered.context_json))
        assert again.sha256 == rendered.sha256, kind


def test_agents_are_addressed_as_agents():
    text = render_notice("verification_request", sample_context("verification_request")).text
    assert "최도윤 님(김민지 님의 대리인), 안녕하십니까." in text
    assert "대리인: 최도윤 (위임에 의한 대리인, 정보주체와의 관계: 배우자)" in text
    assert "정보주체 본인이거나 정당한 대리인인지" in text


def test_a_requester_without_a_name_is_called_the_applicant():
    text = render_notice("access_notice", minimal_context("access_notice")).text
    assert "신청인님, 안녕하십니까." in text and "정보주체: 신청인" in text


def test_acknowledgement_explains_the_count_and_how_to_reply():
    rendered = render_notice("acknowledgement", sample_context("acknowledgement"))
    assert rendered.subject == "[DSAR-2026-000123] 개인정보 열람·삭제 요구 접수 확인"
    assert "「민법」의 기간 계산 방법" in rendered.text
    assert "처리 기한: 2026년 12월 3일(목)까지" in rendered.text
    assert "접수번호 [DSAR-2026-000123]을 지우지 않고 회신하시면" in rendered.text


def test_acknowledgement_labels_an_internal_target_as_internal():
    _, context = VARIANTS["acknowledgement_internal_target"]
    text = render_notice("acknowledgement", context).text
    assert "'지체 없이'" in text and "내부 기준" in text and "「민법」" not in text


def test_clock_pause_is_stated_only_when_it_applies():
    paused = render_notice("supplement_request", sample_context("supplement_request")).text
    assert "처리 기간에 넣지 않으며" in paused
    _, context = VARIANTS["verification_legal_guardian"]
    running = render_notice("verification_request", context).text
    assert "처리 기한(2026년 12월 3일)은 바뀌지 않습니다." in running and "넣지 않으며" not in running


def test_a_deletion_refused_under_a_retention_law_shows_the_law_and_period():
    text = render_notice("rectify_erase_result", sample_context("rectify_erase_result")).text
    assert (
        "  - 소비자의 불만 또는 분쟁처리에 관한 기록: 3년 (전자상거래 등에서의 소비자보호에 관한 법률)"
        in text
    )
    assert "개인정보 보호법 제36조제1항 단서" in text


@pytest.mark.parametrize(
    ("days_left", "subject_end", "phrase"),
    [
        (3, "처리 기한 3일 전", "처리 기한이 3일 남았습니다"),
        (1, "내일이 처리 기한", "처리 기한이 내일(2026년 12월 3일)입니다"),
        (0, "오늘이 처리 기한", "처리 기한이 오늘(2026년 12월 3일)입니다"),
        (-2, "처리 기한 2일 경과", "처리 기한(2026년 12월 3일)을 2일 넘겼습니다"),
    ],
)
def test_one_reminder_template_covers_d3_d1_and_the_due_day(days_left, subject_end, phrase):
    context = replace(sample_context("reminder"), days_left=days_left)
    rendered = render_notice("reminder", context)
    assert rendered.subject.endswith(subject_end)
    assert phrase in rendered.text


def test_reminder_counts_days_left_from_the_notice_date_when_not_given():
    context = replace(sample_context("reminder"), days_left=None, notice_date=date(2026, 12, 2))
    assert render_notice("reminder", context).subject.startswith("[DSAR 기한 알림] D-1 ")


@pytest.mark.parametrize("kind", STAFF_KINDS)
def test_staff_emails_leave_out_the_requesters_contact_and_words(kind):
    context = sample_context(kind)
    rendered = render_notice(kind, context)
    for output in (rendered.text, rendered.html, rendered.subject):
        for secret in ("minji.kim@example.com", "010-2345-6789", "마케팅 수신 동의 기록을 확인", "김민지"):
            assert secret not in output


def test_daily_digest_groups_cases_by_urgency_in_order():
    text = render_notice("daily_digest", sample_context("daily_digest")).text
    headings = re.findall(r"^\[(.+): (\d+)건\]$", text, flags=re.MULTILINE)
    assert headings == [
        ("기한 경과", "1"),
        ("오늘 마감", "1"),
        ("3일 안에 마감", "2"),
        ("그 밖의 진행 건", "1"),
    ]
    assert text.index("DSAR-2026-000123") < text.index("DSAR-2026-000125")
    assert render_notice("daily_digest", sample_context("daily_digest")).subject.endswith(
        "진행 5건 · 기한 경과 1건"
    )


def test_escalation_goes_to_the_officer_by_name():
    rendered = render_notice("escalation_overdue", sample_context("escalation_overdue"))
    assert rendered.text.startswith("이정민 님, 아래 요구가 처리 기한을 넘겨 보고드립니다.")
    assert rendered.subject == "[DSAR 기한 경과] DSAR-2026-000123 · 열람 · 1일 경과"
    assert "법정 처리 기한을 넘긴" in rendered.text
