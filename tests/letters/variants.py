"""Contexts that take the other branches of each template (refusals, postponements, reminders ...)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from dsar.letters import Agent, Decision, LegalGround, NoticeContext, Requirement, RetentionRule
from dsar.letters.samples import sample_context
from dsar.rights import Right

GROUND_LAW = LegalGround(
    article="개인정보 보호법 제35조제4항제1호",
    text="법률에 따라 열람이 금지되거나 제한되는 경우",
    code="access_law_restricts",
)
GROUND_RETENTION = LegalGround(
    article="개인정보 보호법 제36조제1항 단서",
    text="다른 법령에서 그 개인정보가 수집 대상으로 명시되어 있는 경우",
)
GROUND_LAW_REQUIRES = LegalGround(
    article="개인정보 보호법 제37조제2항제1호",
    text="법률에 특별한 규정이 있거나 법령상 의무를 준수하기 위하여 불가피한 경우",
)
GROUND_CONTRACT = LegalGround(
    article="개인정보 보호법 제37조제2항제4호",
    text="개인정보를 처리하지 아니하면 정보주체와 약정한 서비스를 제공하지 못하는 등 계약의 이행이 곤란한 "
         "경우로서 정보주체가 그 계약의 해지 의사를 명확하게 밝히지 아니한 경우",
)
GROUND_PORTABILITY = LegalGround(
    article="개인정보 보호법 시행령 제42조의8제1항", text="전송 요구를 거절할 수 있는 사유에 해당하는 경우"
)


def _with(kind: str, **changes: object) -> NoticeContext:
    return replace(sample_context(kind), **changes)  # type: ignore[arg-type]


def _case(kind: str, **changes: object):
    return replace(sample_context(kind).case, **changes)  # type: ignore[arg-type]


def variants() -> dict[str, tuple[str, NoticeContext]]:
    """name → (kind, context)."""
    return {
        "acknowledgement_internal_target": (
            "acknowledgement",
            _with(
                "acknowledgement",
                case=_case(
                    "acknowledgement",
                    right=Right.WITHDRAWAL,
                    rights=(),
                    due_statutory=False,
                    due_basis=(),
                    channel="web",
                ),
            ),
        ),
        "acknowledgement_civil_petitions": (
            "acknowledgement",
            _with(
                "acknowledgement",
                case=_case("acknowledgement", day_count="민원처리법", details=None, due_basis=()),
            ),
        ),
        "verification_legal_guardian": (
            "verification_request",
            _with(
                "verification_request",
                case=_case(
                    "verification_request", agent=Agent(kind="법정대리인", name="김영희", relation="모")
                ),
                decision=Decision(
                    required=Requirement(
                        items=(
                            "법정대리인의 신분증 사본",
                            "가족관계증명서 등 법정대리인임을 확인할 수 있는 서류",
                        ),
                        deadline=date(2026, 11, 30),
                    )
                ),
            ),
        ),
        "access_notice_in_full": (
            "access_notice",
            _with(
                "access_notice",
                decision=replace(
                    sample_context("access_notice").decision,
                    outcome="approved",
                    withheld_items=(),
                    reason=None,
                    legal_ground=None,
                    fee=None,
                    access=replace(
                        sample_context("access_notice").decision.access,
                        method="전자우편으로 사본 송부",
                        place=None,
                    ),
                ),
            ),
        ),
        "access_refused": (
            "access_postpone_refusal",
            _with(
                "access_postpone_refusal",
                decision=Decision(
                    outcome="refused",
                    items=("2026년 10월 고객센터 통화 녹음 파일",),
                    reason="해당 녹음은 법원의 증거보전 결정에 따라 열람이 제한되어 있습니다.",
                    legal_ground=GROUND_LAW,
                ),
            ),
        ),
        "erase_refused": (
            "rectify_erase_result",
            _with(
                "rectify_erase_result",
                decision=Decision(
                    outcome="refused",
                    reason="요청하신 주문 기록은 법률에 따라 5년간 보존해야 합니다.",
                    legal_ground=GROUND_RETENTION,
                    retention_rules=(
                        RetentionRule(
                            item="대금결제 및 재화 등의 공급에 관한 기록",
                            period="5년",
                            basis="전자상거래 등에서의 소비자보호에 관한 법률",
                        ),
                    ),
                ),
            ),
        ),
        "rectify_done": (
            "rectify_erase_result",
            _with(
                "rectify_erase_result",
                case=_case("rectify_erase_result", right=Right.RECTIFICATION, rights=()),
                decision=Decision(
                    outcome="approved",
                    items=("배송지 주소: 서울특별시 은평구 → 경기도 고양시 덕양구", "휴대전화번호 정정"),
                ),
            ),
        ),
        "suspension_done": (
            "suspension_result",
            _with(
                "suspension_result",
                decision=Decision(
                    outcome="approved", items=("구매 이력에 기반한 맞춤형 상품 추천", "맞춤형 광고 전송")
                ),
            ),
        ),
        "suspension_partial": (
            "suspension_result",
            _with(
                "suspension_result",
                decision=Decision(
                    outcome="partial",
                    items=("맞춤형 광고 전송",),
                    reason="주문 처리에 필요한 배송 정보 처리는 법령에 따라 계속해야 합니다.",
                    legal_ground=GROUND_LAW_REQUIRES,
                ),
            ),
        ),
        "withdrawal_refused": (
            "withdrawal_result",
            _with(
                "withdrawal_result",
                decision=Decision(
                    outcome="refused",
                    items=("서비스 이용약관에 따른 개인정보 수집·이용 동의",),
                    reason="진행 중인 할부 결제가 남아 있어, 결제가 끝날 때까지는 해당 정보를 처리해야 "
                           "계약을 이행할 수 있습니다. 계약 해지를 원하시면 고객센터로 알려 주십시오.",
                    legal_ground=GROUND_CONTRACT,
                ),
            ),
        ),
        "portability_postponed": (
            "portability_result",
            _with(
                "portability_result",
                decision=Decision(
                    outcome="postponed",
                    items=("최근 3년간 주문 내역",),
                    recipient="주식회사 다온페이",
                    reason="전송받는 자의 시스템 점검으로 지금은 안전하게 전송할 수 없습니다.",
                    postponed_until=date(2026, 12, 8),
                ),
            ),
        ),
        "portability_refused": (
            "portability_result",
            _with(
                "portability_result",
                decision=Decision(
                    outcome="refused",
                    items=("상담원 메모",),
                    reason="요구하신 정보는 전송 대상 정보에 해당하지 않습니다.",
                    legal_ground=GROUND_PORTABILITY,
                ),
            ),
        ),
        "automated_refused": (
            "automated_decision_result",
            _with(
                "automated_decision_result",
                decision=Decision(
                    outcome="refused",
                    items=("후불결제 한도 결정의 재검토",),
                    reason="해당 결정은 사람이 최종 판단한 것으로 자동화된 결정에 해당하지 않습니다.",
                    legal_ground=LegalGround(
                        article="개인정보 보호법 제37조의2제1항",
                        text="완전히 자동화된 시스템으로 개인정보를 처리하여 이루어지는 결정",
                    ),
                ),
            ),
        ),
        "reminder_d1": ("reminder", _with("reminder", days_left=1, notice_date=date(2026, 12, 2))),
        "reminder_dday": ("reminder", _with("reminder", days_left=None, notice_date=date(2026, 12, 3))),
        "reminder_late": (
            "reminder",
            _with("reminder", days_left=-2, notice_date=date(2026, 12, 5), staff=None),
        ),
        "escalation_internal_target": (
            "escalation_overdue",
            _with(
                "escalation_overdue",
                case=_case("escalation_overdue", right=Right.WITHDRAWAL, rights=(), due_statutory=False),
                staff=None,
            ),
        ),
    }
