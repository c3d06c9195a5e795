"""Realistic sample contexts for every notice kind: for previews, the tests and the benchmark.

`sample_context(kind)` fills every field a notice can show; `minimal_context(kind)` fills only what the kind
needs, leaving every optional field empty. The organisation and people are invented.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from dsar.letters.catalog import NOTICE_KINDS
from dsar.letters.context import (
    Access,
    Agent,
    Case,
    CaseSummary,
    ComplaintBody,
    Contact,
    Decision,
    Extension,
    Fee,
    LegalGround,
    NoticeContext,
    Org,
    Requester,
    Requirement,
    RetentionRule,
    Staff,
)
from dsar.rights import Right

KST = ZoneInfo("Asia/Seoul")

ORG = Org(
    name="주식회사 한빛마켓",
    slug="hanbit",
    officer=Contact(
        name="이정민",
        title="실장",
        department="정보보호실",
        phone="0261234500",
        email="privacy@hanbitmarket.co.kr",
    ),
    handler=Contact(
        name="박서연",
        title="매니저",
        department="고객지원팀",
        phone="15881234",
        email="help@hanbitmarket.co.kr",
    ),
    complaint_bodies=(
        ComplaintBody(name="개인정보침해신고센터", url="privacy.kisa.or.kr", phone="118"),
        ComplaintBody(name="개인정보분쟁조정위원회", url="www.kopico.go.kr", phone="1833-6972"),
        ComplaintBody(name="대검찰청 사이버수사과", url="www.spo.go.kr", phone="1301"),
        ComplaintBody(name="경찰청 사이버수사국", url="ecrm.police.go.kr", phone="182"),
    ),
    address="서울특별시 마포구 월드컵북로 400, 12층",
    website="www.hanbitmarket.co.kr",
)
MINIMAL_ORG = Org(name="한빛마켓", slug="hanbit")

RECEIVED = datetime(2026, 11, 23, 10, 15, tzinfo=KST)
NOTICE_DATE = date(2026, 12, 1)


def _case(right: Right, **changes: object) -> Case:
    case = Case(
        number="DSAR-2026-000123",
        right=right,
        received_at=RECEIVED,
        due_date=date(2026, 12, 3),
        due_basis=(
            "개인정보 보호법 시행령: 요구를 받은 날부터 10일 이내",
            "민법 제157조: 첫날은 산입하지 않음 → 11월 24일부터 계산",
            "민법 제161조: 말일이 토요일·공휴일이면 그다음 날 만료 (해당 없음)",
        ),
        channel="email",
        requester=Requester(name="김민지", email="minji.kim@example.com", phone="010-2345-6789"),
        details="제 회원 정보와 최근 1년간 주문 내역, 마케팅 수신 동의 기록을 확인하고 싶습니다.\n가능하면 "
                "전자우편으로 받아 보고 싶습니다.",
        stage="검토",
    )
    return replace(case, **changes)  # type: ignore[arg-type]


_GROUND_LAW = LegalGround(
    code="access_law_restricts",
    article="개인정보 보호법 제35조제4항제1호",
    text="법률에 따라 열람이 금지되거나 제한되는 경우",
)
_GROUND_OTHERS = LegalGround(
    code="access_harms_others",
    article="개인정보 보호법 제35조제4항제2호",
    text="다른 사람의 생명·신체를 해할 우려가 있거나 다른 사람의 재산과 그 밖의 이익을 부당하게 침해할 "
         "우려가 있는 경우",
)
_GROUND_RETENTION = LegalGround(
    code="erase_other_law",
    article="개인정보 보호법 제36조제1항 단서",
    text="다른 법령에서 그 개인정보가 수집 대상으로 명시되어 있는 경우",
)
_GROUND_CONTRACT = LegalGround(
    code="contract_cannot_perform",
    article="개인정보 보호법 제37조제2항제4호",
    text="개인정보를 처리하지 아니하면 정보주체와 약정한 서비스를 제공하지 못하는 등 계약의 이행이 곤란한 "
         "경우로서 정보주체가 그 계약의 해지 의사를 명확하게 밝히지 아니한 경우",
)
_RETENTION = (
    RetentionRule(
        item="계약 또는 청약철회 등에 관한 기록",
        period="5년",
        basis="전자상거래 등에서의 소비자보호에 관한 법률",
    ),
    RetentionRule(
        item="대금결제 및 재화 등의 공급에 관한 기록",
        period="5년",
        basis="전자상거래 등에서의 소비자보호에 관한 법률",
    ),
    RetentionRule(
        item="소비자의 불만 또는 분쟁처리에 관한 기록",
        period="3년",
        basis="전자상거래 등에서의 소비자보호에 관한 법률",
    ),
)


def _full(kind: str) -> NoticeContext:
    base = NoticeContext(org=ORG, notice_date=NOTICE_DATE, case=_case(Right.ACCESS))
    if kind == "acknowledgement":
        return replace(
            base,
            notice_date=date(2026, 11, 23),
            case=_case(Right.ACCESS, rights=(Right.ACCESS, Right.ERASURE)),
        )
    if kind == "verification_request":
        return replace(
            base,
            notice_date=date(2026, 11, 23),
            case=_case(Right.ACCESS, agent=Agent(kind="위임", name="최도윤", relation="배우자")),
            decision=Decision(
                required=Requirement(
                    items=(
                        "정보주체 본인의 신분증 사본 (주민등록번호 뒷자리는 가려 주십시오)",
                        "대리인의 신분증 사본",
                        "정보주체가 서명한 위임장 (개인정보 보호위원회 고시 서식)",
                    ),
                    deadline=date(2026, 11, 30),
                    pauses_clock=True,
                    how="이 메일에 회신하면서 파일을 첨부해 주십시오.",
                )
            ),
        )
    if kind == "supplement_request":
        return replace(
            base,
            notice_date=date(2026, 11, 24),
            case=_case(Right.RECTIFICATION),
            decision=Decision(
                required=Requirement(
                    items=("정정을 원하시는 항목 (예: 배송지 주소, 휴대전화번호)", "정정 후의 올바른 내용"),
                    deadline=date(2026, 12, 1),
                    pauses_clock=True,
                )
            ),
        )
    if kind == "access_notice":
        return replace(
            base,
            decision=Decision(
                outcome="partial",
                items=(
                    "회원 정보: 성명, 아이디, 전자우편 주소, 휴대전화번호, 배송지 주소",
                    "주문 내역: 2025년 11월 24일부터 2026년 11월 23일까지 주문 14건",
                    "마케팅 정보 수신 동의 및 철회 기록",
                ),
                access=Access(
                    method="방문 열람 (원하시면 사본을 전자우편으로도 보내 드립니다)",
                    date_time=datetime(2026, 12, 4, 14, 0, tzinfo=KST),
                    place="서울특별시 마포구 월드컵북로 400, 12층 고객상담실",
                ),
                withheld_items=("상담 기록 중 상담원 내부 메모 및 다른 고객이 언급된 부분",),
                reason="해당 기록에는 다른 고객의 성명과 연락처가 함께 적혀 있어, 그 부분을 열람하시면 다른 "
                       "분의 개인정보가 침해될 우려가 있습니다.",
                legal_ground=_GROUND_OTHERS,
                fee=Fee(
                    amount=3000,
                    basis="사본 출력 및 우편 발송 실비",
                    payment="방문하실 때 현장에서 카드 또는 현금으로 내실 수 있습니다.",
                ),
            ),
        )
    if kind == "access_postpone_refusal":
        return replace(
            base,
            decision=Decision(
                outcome="postponed",
                items=("2026년 10월 고객센터 통화 녹음 파일",),
                reason="요구하신 통화 녹음은 현재 수사기관의 자료 제출 요구에 따라 보전 중이어서, 수사기관과 "
                       "협의가 끝날 때까지 열람을 미룰 수밖에 없습니다.",
                legal_ground=_GROUND_LAW,
                postponed_until=date(2026, 12, 18),
            ),
        )
    if kind == "rectify_erase_result":
        return replace(
            base,
            case=_case(Right.ERASURE, rights=(Right.ERASURE,)),
            decision=Decision(
                outcome="partial",
                items=(
                    "회원 정보 (아이디, 전자우편 주소, 휴대전화번호, 배송지 주소) 삭제",
                    "마케팅 정보 수신 동의 기록 삭제",
                    "장바구니 및 관심 상품 목록 삭제",
                ),
                reason="주문·결제와 고객 상담 기록은 관련 법률에서 일정 기간 보존하도록 정하고 있어 지금 "
                       "삭제할 수 없습니다.",
                legal_ground=_GROUND_RETENTION,
                retention_rules=_RETENTION,
            ),
        )
    if kind == "suspension_result":
        return replace(
            base,
            case=_case(Right.SUSPENSION),
            decision=Decision(
                outcome="refused",
                items=("구매 이력에 기반한 맞춤형 상품 추천",),
                reason="맞춤형 추천은 회원님이 가입하신 프리미엄 멤버십 서비스의 핵심 기능이어서, 해당 "
                       "처리를 정지하면 멤버십 서비스를 제공할 수 없습니다. 멤버십을 해지하시면 즉시 처리를 "
                       "정지하겠습니다.",
                legal_ground=_GROUND_CONTRACT,
                note="멤버십 해지는 앱의 [내 정보 > 멤버십 관리] 메뉴에서 직접 하실 수 있습니다.",
            ),
        )
    if kind == "withdrawal_result":
        return replace(
            base,
            case=_case(Right.WITHDRAWAL, due_statutory=False),
            decision=Decision(
                outcome="approved",
                items=("마케팅 정보 수신 동의 (전자우편, 문자메시지)", "회원 탈퇴 (서비스 이용 동의 철회)"),
                retention_rules=_RETENTION[:2],
            ),
        )
    if kind == "portability_result":
        return replace(
            base,
            case=_case(Right.PORTABILITY, due_statutory=False),
            decision=Decision(
                outcome="approved",
                items=(
                    "회원 정보 (성명, 전자우편 주소, 휴대전화번호)",
                    "최근 3년간 주문 내역 (상품명, 수량, 결제 금액, 주문 일시)",
                ),
                recipient="주식회사 다온페이 (개인정보관리 전문기관)",
            ),
        )
    if kind == "automated_decision_result":
        return replace(
            base,
            case=_case(Right.AUTOMATED_DECISION, due_date=date(2026, 12, 23)),
            decision=Decision(
                outcome="done",
                items=(
                    "후불결제 한도는 최근 12개월의 결제 금액, 반품 비율, 연체 여부를 점수화하여 자동으로 "
                    "정합니다.",
                    "회원님의 경우 최근 6개월간 반품 비율이 높게 반영되어 한도가 낮게 정해졌습니다.",
                    "요청하신 대로 담당 심사역이 다시 검토하였으며, 연체 이력이 없는 점을 반영하여 한도를 "
                    "30만 원으로 조정하였습니다.",
                ),
            ),
        )
    if kind == "automated_decision_extension":
        return replace(
            base,
            case=_case(Right.AUTOMATED_DECISION, due_date=date(2026, 12, 23)),
            decision=Decision(
                outcome="extended",
                extension=Extension(
                    days=30,
                    reason="재검토에 필요한 외부 신용평가 자료를 받는 데 시간이 걸리고 있습니다.",
                    new_due=date(2027, 1, 22),
                    count=1,
                ),
            ),
        )
    if kind == "unverified_closure":
        return replace(
            base,
            notice_date=date(2026, 12, 2),
            decision=Decision(
                outcome="done",
                reason="요청드린 신분증 사본과 위임장을 기한까지 받지 못했습니다.",
                required=Requirement(
                    items=("신분증 사본", "위임장"), deadline=date(2026, 11, 30), pauses_clock=True
                ),
            ),
        )
    if kind == "assignment":
        return replace(
            base,
            notice_date=date(2026, 11, 23),
            staff=Staff(name="정하늘", role="담당자"),
            url="https://dsar.hanbitmarket.co.kr/cases/DSAR-2026-000123",
        )
    if kind == "reminder":
        return replace(
            base,
            staff=Staff(name="정하늘", role="담당자"),
            days_left=3,
            notice_date=date(2026, 11, 30),
            url="https://dsar.hanbitmarket.co.kr/cases/DSAR-2026-000123",
        )
    if kind == "escalation_overdue":
        return replace(
            base,
            staff=Staff(name="정하늘", role="담당자"),
            notice_date=date(2026, 12, 4),
            url="https://dsar.hanbitmarket.co.kr/cases/DSAR-2026-000123",
        )
    if kind == "daily_digest":
        return NoticeContext(
            org=ORG,
            notice_date=date(2026, 12, 1),
            staff=Staff(name="정하늘", role="담당자"),
            url="https://dsar.hanbitmarket.co.kr/cases",
            cases=(
                CaseSummary(
                    number="DSAR-2026-000118",
                    right=Right.ERASURE,
                    stage="결정",
                    due_date=date(2026, 11, 30),
                    days_left=-1,
                ),
                CaseSummary(
                    number="DSAR-2026-000121",
                    right=Right.SUSPENSION,
                    stage="검토",
                    due_date=date(2026, 12, 1),
                    days_left=0,
                ),
                CaseSummary(
                    number="DSAR-2026-000123",
                    right=Right.ACCESS,
                    stage="검토",
                    due_date=date(2026, 12, 3),
                    days_left=2,
                ),
                CaseSummary(
                    number="DSAR-2026-000125",
                    right=Right.WITHDRAWAL,
                    stage="본인확인",
                    due_date=date(2026, 12, 4),
                    days_left=3,
                ),
                CaseSummary(
                    number="DSAR-2026-000126",
                    right=Right.AUTOMATED_DECISION,
                    stage="접수",
                    due_date=date(2026, 12, 28),
                    days_left=27,
                ),
            ),
        )
    raise KeyError(kind)


def sample_context(kind: str) -> NoticeContext:
    """A context with every field the notice can show filled in."""
    return _full(kind)


def minimal_context(kind: str) -> NoticeContext:
    """Only what `kind` needs: no officer details, no requester name, no optional decision fields."""
    spec = NOTICE_KINDS[kind]
    case = Case(
        number="DSAR-2026-000001", right=Right.ACCESS, received_at=RECEIVED, due_date=date(2026, 12, 3)
    )
    context = NoticeContext(
        org=MINIMAL_ORG, notice_date=NOTICE_DATE, case=case if "case" in spec.needs else None
    )
    decision: Decision | None = None
    outcome = min(spec.outcomes) if spec.outcomes else None  # a stable choice: "approved" where allowed
    if "decision.required" in spec.needs:
        decision = Decision(required=Requirement(items=("신분증 사본",), deadline=date(2026, 11, 30)))
    elif "decision.access" in spec.needs:
        decision = Decision(outcome=outcome, access=Access(method="전자우편으로 사본 송부"))
    elif "decision.extension" in spec.needs:
        decision = Decision(
            outcome=outcome, extension=Extension(days=30, reason="자료 확인", new_due=date(2027, 1, 4))
        )
    elif outcome is not None:
        decision = Decision(
            outcome=outcome,
            reason="사유" if outcome in ("postponed", "refused") else None,
            legal_ground=_GROUND_LAW if outcome == "refused" else None,
        )
    if "staff" in spec.needs:
        context = replace(context, staff=Staff(name="담당자"))
    return replace(context, decision=decision)
