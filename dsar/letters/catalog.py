"""The notice kinds: one row each, and the check that a context carries what its kind needs.

`template` is the base name under templates/ (`.html.j2` and `.txt.j2` are added). `approval_outcomes` lists
the decision outcomes for which the 개인정보 보호책임자 must approve the notice before it is sent (refusals,
partial access, postponements); `adverse_outcomes` those for which the notice must state the reason, the
legal ground, 이의제기 방법 and the outside complaint bodies (법 38⑤).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dsar.errors import InvalidInput
from dsar.letters.context import NoticeContext

Audience = Literal["requester", "staff"]
_ADVERSE = frozenset({"partial", "refused", "postponed"})
_RESULTS = frozenset({"approved", "done", "partial", "refused"})
_ANY = frozenset({"*"})


@dataclass(frozen=True)
class NoticeKind:
    key: str
    template: str
    title: str  # the Korean title printed on the notice
    audience: Audience = "requester"
    needs: tuple[str, ...] = ("case",)  # dotted context paths that must be present
    outcomes: frozenset[str] = frozenset()  # allowed decision outcomes; empty: outcome not used
    adverse_outcomes: frozenset[str] = frozenset()  # "*": every outcome
    approval_outcomes: frozenset[str] = frozenset()
    prints: tuple[str, ...] = ()  # dotted context paths the letter must show whenever they are set

    @property
    def requires_approval(self) -> bool:
        """True when some outcome of this kind needs the officer's approval."""
        return bool(self.approval_outcomes)

    def needs_approval(self, outcome: str | None) -> bool:
        return "*" in self.approval_outcomes or outcome in self.approval_outcomes

    def is_adverse(self, outcome: str | None) -> bool:
        return "*" in self.adverse_outcomes or outcome in self.adverse_outcomes

    def check(self, context: NoticeContext) -> None:
        """Refuse a context that lacks what this kind needs, naming the field and why."""
        for path in self.needs:
            if not _lookup(context, path):
                raise InvalidInput(
                    f"notice {self.key!r} needs {path}; fill it in the context", kind=self.key, field=path
                )
        decision = context.decision
        outcome = decision.outcome if decision else None
        if self.outcomes:
            if outcome not in self.outcomes:
                raise InvalidInput(
                    f"notice {self.key!r} takes decision.outcome in {sorted(self.outcomes)}, not {outcome!r}",
                    kind=self.key,
                    field="decision.outcome",
                )
        if decision is None:
            return
        if outcome in _ADVERSE and not decision.reason:
            raise InvalidInput(
                f"a {outcome} notice must state the reason (법 38⑤); fill decision.reason",
                kind=self.key,
                field="decision.reason",
            )
        if outcome == "refused" and decision.legal_ground is None:
            raise InvalidInput(
                "a refusal must name its legal ground; fill decision.legal_ground",
                kind=self.key,
                field="decision.legal_ground",
            )
        if self.key == "access_notice" and outcome == "partial" and not decision.withheld_items:
            raise InvalidInput(
                "partial access must list what is withheld; fill decision.withheld_items",
                kind=self.key,
                field="decision.withheld_items",
            )

    def check_printed(self, context: NoticeContext, text: str) -> None:
        """Refuse a rendering whose text leaves out a value this kind must show (an organisation's own template
        that never prints it), instead of sending a letter that reads as if nothing were there."""
        for path in self.prints:
            value = _lookup(context, path)
            lines = str(value).strip().splitlines() if value else []
            if lines and lines[0].strip() not in text:
                raise InvalidInput(
                    f"{self.template}.txt.j2 does not print {path}, which this notice must show when it is set; "
                    f"add it to the organisation's template as templates/{self.template}.txt.j2 does",
                    kind=self.key, field=path,
                )


def _lookup(context: NoticeContext, path: str) -> object:
    value: object = context
    for part in path.split("."):
        value = getattr(value, part, None)
        if value is None:
            return None
    return value


def _result(key: str, title: str) -> NoticeKind:
    """A result notice: carried out in full, in part, or refused."""
    return NoticeKind(
        key,
        f"letters/{key}",
        title,
        needs=("case", "decision"),
        outcomes=_RESULTS,
        adverse_outcomes=_ADVERSE,
        approval_outcomes=_ADVERSE,
    )


NOTICE_KINDS: dict[str, NoticeKind] = {
    k.key: k
    for k in (
        # decision.note: what a corrected acknowledgement changed (dsar/corrections.py)
        NoticeKind("acknowledgement", "email/acknowledgement", "개인정보 관련 요구 접수 확인",
                   prints=("decision.note",)),
        NoticeKind(
            "verification_request",
            "letters/verification_request",
            "본인 확인 요청",
            needs=("case", "decision.required"),
        ),
        NoticeKind(
            "supplement_request",
            "letters/supplement_request",
            "요구 내용 보완 요청",
            needs=("case", "decision.required"),
        ),
        NoticeKind(
            "access_notice",
            "letters/access_notice",
            "개인정보 열람 통지서",
            needs=("case", "decision.access"),
            outcomes=frozenset({"approved", "done", "partial"}),
            adverse_outcomes=frozenset({"partial"}),
            approval_outcomes=frozenset({"partial"}),
        ),
        NoticeKind(
            "access_postpone_refusal",
            "letters/access_postpone_refusal",
            "개인정보 열람 연기·거절 통지서",
            needs=("case", "decision"),
            outcomes=frozenset({"postponed", "refused"}),
            adverse_outcomes=_ANY,
            approval_outcomes=_ANY,
        ),
        _result("rectify_erase_result", "개인정보 정정·삭제 결과 통지서"),
        _result("suspension_result", "개인정보 처리정지 요구에 대한 결과 통지서"),
        _result("withdrawal_result", "개인정보 수집·이용 동의 철회 결과 통지서"),
        NoticeKind(
            "portability_result",
            "letters/portability_result",
            "개인정보 전송 요구에 대한 결과 통지서",
            needs=("case", "decision"),
            outcomes=_RESULTS | {"postponed"},
            adverse_outcomes=_ADVERSE,
            approval_outcomes=_ADVERSE,
        ),
        _result("automated_decision_result", "자동화된 결정에 대한 요구 처리 결과 통지서"),
        NoticeKind(
            "automated_decision_extension",
            "letters/automated_decision_extension",
            "자동화된 결정에 대한 요구 처리 기간 연장 통지서",
            needs=("case", "decision.extension"),
            outcomes=frozenset({"extended"}),
        ),
        NoticeKind(
            "unverified_closure",
            "letters/unverified_closure",
            "본인 확인 미완료에 따른 요구 종결 통지서",
            adverse_outcomes=_ANY,
            approval_outcomes=_ANY,
        ),
        NoticeKind("assignment", "email/assignment", "처리 담당 배정", "staff", needs=("case", "staff")),
        NoticeKind("reminder", "email/reminder", "처리 기한 알림", "staff", needs=("case",)),
        NoticeKind(
            "escalation_overdue", "email/escalation_overdue", "처리 기한 경과 보고", "staff", needs=("case",)
        ),
        NoticeKind("daily_digest", "email/daily_digest", "일일 처리 현황", "staff", needs=()),
    )
}
"""kind key → NoticeKind. Requester notices are under letters/ (the acknowledgement is an e-mail)."""
