"""classify: rights, agents and not-a-request decisions, each with the words that made it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsar.intake.classify import classify, clean_subject, own_words
from dsar.rights import Right

CASES = [
    # (subject, text, rights)
    ("개인정보 열람 요청", "제 개인정보 열람을 요청합니다.", ["열람"]),
    ("문의", "귀사가 보유한 제 정보를 확인하고 싶습니다.", ["열람"]),
    ("문의", "제 정보 보여 주세요.", ["열람"]),
    ("요청", "주소가 잘못된 것 같습니다. 회원정보 주소를 수정해 주세요.", ["정정"]),
    ("요청", "제 개인정보를 파기해 주세요.", ["삭제"]),
    ("요청", "제 정보를 마케팅에 그만 사용해 주세요.", ["처리정지"]),
    ("요청", "광고 메일 그만 보내 주세요.", ["동의철회"]),
    ("요청", "수신 거부합니다.", ["동의철회"]),
    ("요청", "제 데이터를 다른 회사로 보내 주세요.", ["전송요구"]),
    ("요청", "대출 AI 심사 결과에 대한 설명을 요구합니다.", ["자동화결정"]),
    ("Request", "Please stop processing my data and erase it.", ["삭제", "처리정지"]),
    ("Request", "I want to transfer my data to a new provider.", ["전송요구"]),
    ("Request", "I object to the processing of my personal data for profiling.", ["처리정지", "자동화결정"]),
    # negations and refusals
    ("요청", "삭제하지 마세요. 연락처만 정정해 주세요.", ["정정"]),
    ("요청", "삭제가 아니라 처리정지를 원합니다.", ["처리정지"]),
    ("요청", "탈퇴할 생각은 없습니다. 광고 문자만 그만 받고 싶습니다.", ["동의철회"]),
    ("요청", "정보를 삭제하지 않으면 신고하겠습니다.", ["삭제"]),
    ("요청", "탈퇴했는데 제 정보가 삭제되지 않았습니다.", ["삭제", "동의철회"]),
    ("Request", "Please don't delete anything, just correct my name.", ["정정"]),
    # things that are not requests
    ("비밀번호", "비밀번호 변경은 어떻게 하나요?", []),
    ("처리방침", "개인정보 처리방침이 언제 변경되었나요?", []),
    ("서류", "신분증 사본을 첨부합니다.", []),
    ("(광고) 연말 특가", "지금 구매하세요! 수신을 원하지 않으시면 여기를 클릭하세요.", []),
    ("웨비나 안내", "열람·정정·삭제 요구 처리 실무 웨비나에 초대합니다. 무료 등록.", []),
    ("부재중 자동 회신", "휴가 중입니다. 삭제 요청은 복귀 후 처리하겠습니다.", []),
    ("Invoice 2026-11", "Please find attached the invoice for November.", []),
]


@pytest.mark.parametrize(("subject", "text", "rights"), CASES)
def test_rights_are_found_from_korean_and_english_wording(subject: str, text: str, rights: list[str]) -> None:
    c = classify(subject, text)
    assert [r.value for r in c.rights] == rights, c.evidence
    assert c.not_a_request is (not rights)


def test_each_right_keeps_the_exact_words_that_decided_it() -> None:
    c = classify("Re: 요청", "회원탈퇴 부탁드리며, 제 정보도 지워 주세요.")
    assert c.rights == [Right.ERASURE, Right.WITHDRAWAL]
    assert c.evidence == {"삭제": ["지워"], "동의철회": ["회원탈퇴"]}


def test_rights_come_in_canonical_enum_order() -> None:
    c = classify("", "자동화된 결정 설명, 전송요구, 동의 철회, 처리정지, 삭제, 정정, 열람을 모두 요청합니다.")
    assert c.rights == list(Right)


def test_quoted_lines_and_text_below_a_reply_header_do_not_count() -> None:
    text = "네, 진행해 주세요.\n\n> 삭제를 원하시면 답장 주세요.\n"
    assert classify("확인", text).rights == []
    text = "열람만 원합니다.\n\n-----Original Message-----\nFrom: a\nSent: b\n\n정정, 삭제도 가능합니다."
    assert classify("확인", text).rights == [Right.ACCESS]


def test_a_reply_subject_counts_only_when_the_new_words_name_no_right() -> None:
    assert classify("Re: 회원탈퇴 신청", "먼저 제 정보 열람을 원합니다.").rights == [Right.ACCESS]
    assert classify("Re: 회원탈퇴 신청", "네, 진행해 주세요.").rights == [Right.WITHDRAWAL]


def test_the_case_tag_and_reply_prefixes_are_removed_from_the_subject() -> None:
    assert clean_subject("RE: 회신: [DSAR-2026-000123] 열람 요청") == "열람 요청"


def test_own_words_keep_forwarded_text_but_drop_signatures() -> None:
    text = "전달합니다.\n-- \n서명 삭제\n---------- 전달된 메시지 ----------\n처리정지 요구합니다."
    assert "처리정지" in own_words(text) and "서명" not in own_words(text)


@pytest.mark.parametrize(
    ("text", "names", "kind"),
    [
        ("저는 아이의 엄마입니다. 아이 정보 삭제를 요청합니다.", [], "법정대리인"),
        ("만 14세 미만 자녀의 개인정보 열람을 요청합니다.", [], "법정대리인"),
        ("제 아들 계정 삭제해 주세요.", [], "법정대리인"),
        ("As a parent I ask you to delete my son's data.", [], "법정대리인"),
        ("어머니를 대신하여 요청합니다. 열람 부탁드립니다.", [], "위임"),
        ("열람을 청구합니다.", ["위임장_홍길동.pdf"], "위임"),
        ("I act on behalf of Ms Kim. Please delete her data.", [], "위임"),
        ("Please delete my data. Power of attorney attached.", [], "위임"),
        ("법정대리인으로서 열람을 요청합니다.", [], "법정대리인"),
        ("아이디 삭제를 요청합니다.", [], None),
        ("대리인이 아닌 본인이 직접 열람을 요청합니다.", [], None),
    ],
)
def test_agents_are_recognised_by_kind(text: str, names: list[str], kind: str | None) -> None:
    c = classify("요청", text, names)
    assert c.agent_kind == kind, c.evidence
    assert c.agent is (kind is not None)
    if kind:
        assert c.evidence["agent"]


def test_auto_submitted_messages_are_never_requests() -> None:
    c = classify("개인정보 삭제 요청", "삭제해 주세요.", auto_submitted=True)
    assert c.rights == [] and c.not_a_request and "Auto-Submitted" in c.evidence["not_a_request"]


def test_not_a_request_evidence_keeps_the_marketing_words() -> None:
    c = classify("[광고] 할인 쿠폰", "11월 한정 할인 쿠폰을 드립니다.")
    assert c.not_a_request and {"[광고]", "할인", "쿠폰"} <= set(c.evidence["not_a_request"])


def test_language_is_korean_unless_the_text_is_mostly_latin() -> None:
    korean = "삭제 부탁드립니다. hong.gildong@example.com https://example.com/a/b/c"
    assert classify("요청", korean).language == "ko"
    assert classify("Request", "Please delete my data. 김민지").language == "en"
    assert classify("", "").language == "ko"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400), st.text(max_size=80), st.lists(st.text(max_size=30), max_size=3))
def test_classify_never_fails_and_keeps_its_invariants(text: str, subject: str, names: list[str]) -> None:
    c = classify(subject, text, names)
    assert c.not_a_request is (not c.rights)
    assert c.rights == sorted(c.rights, key=list(Right).index)
    for right in c.rights:
        assert all(word in subject or word in text for word in c.evidence[right.value])
