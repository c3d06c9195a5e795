"""Which rights an e-mail asks for, whether an agent asks, and whether it is a request at all.

A transparent rule set, not a model: every decision keeps the exact words that made it (`evidence`), so staff
can see why a message was filed as 삭제 and correct it. The rules read only the writer's own words: lines
quoted with ">" and everything below a reply header ("-----Original Message-----", "... 님이 작성:",
"On ... wrote:") are ignored, and so are unsubscribe instructions in newsletter footers; a reply's
subject ("Re: 삭제 요청") counts only when the new text names no right. A keyword followed by a refusal
("삭제하지 마세요", "삭제가 아니라", "do not delete") does not count. Ambiguous words (수정, 변경, 조회,
update ...) count only in a sentence that also names personal data.

Invariant: `not_a_request` is true exactly when `rights` is empty.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Literal

from dsar.rights import Right

AgentKind = Literal["법정대리인", "위임"]
GUARDIAN: AgentKind = "법정대리인"
MANDATE: AgentKind = "위임"


@dataclass(frozen=True)
class Classification:
    rights: list[Right]
    agent: bool
    agent_kind: AgentKind | None
    not_a_request: bool
    language: Literal["ko", "en"]
    evidence: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern[str]
    needs_data: bool = False  # count only in a sentence that names personal data
    unless: re.Pattern[str] | None = None  # skip in a sentence that matches this
    latin: bool = False  # an English rule (no Hangul in it): it cannot match a sentence without Latin letters


def _rule(pattern: str, needs_data: bool = False, unless: str | None = None) -> _Rule:
    return _Rule(re.compile(pattern, re.IGNORECASE), needs_data, re.compile(unless, re.I) if unless else None,
                 latin=not re.search(r"[\uac00-\ud7a3]", pattern))


_DATA = re.compile(
    r"개인\s*정보|회원\s*정보|정보|데이터|자료|내역|기록|주소|연락처|전화\s*번호|휴대\s*(?:폰|전화)|핸드폰|이메일|"
    r"메일\s*주소|이름|성명|생년월일|\b(?:personal\s+)?(?:data|information|info|details|records?|address|"
    r"phone(?:\s+number)?|e-?mail|name|profile)\b",
    re.IGNORECASE,
)
_NOT_EDIT = r"처리\s*방침|약관|비밀\s*번호|패스워드|policy|terms|password"
_ID_DOCS = r"신분증|증명서|여권|면허증|등본|초본|\bID\b|passport"

RULES: dict[Right, tuple[_Rule, ...]] = {
    Right.ACCESS: (
        _rule(r"열람"),
        _rule(r"사본|복사본", needs_data=True, unless=_ID_DOCS),
        _rule(r"조회", needs_data=True),
        _rule(r"확인\s*(?:하고\s*싶|하고자|을?\s*원|해\s*주|부탁|요청)", needs_data=True),
        _rule(r"(?:내|제|저의)\s*(?:개인\s*)?정보\s*(?:를\s*)?(?:좀\s*)?보여"),
        _rule(r"(?:어떤|무슨|어떠한)\s*(?:개인\s*)?(?:정보|데이터)"),
        _rule(r"\bsubject\s+access\s+request|\bright\s+of\s+access\b|\baccess\s+request\b"),
        _rule(r"\baccess\s+(?:to\s+)?(?:my|the|all)\s+(?:personal\s+)?(?:data|information|records)"),
        _rule(r"\bcopy\s+of\s+(?:all\s+)?(?:my|the)\s+(?:personal\s+)?(?:data|information|records)"),
        _rule(r"\bwhat\s+(?:personal\s+)?(?:data|information)\b"),
        _rule(r"\b(?:see|view|obtain)\s+(?:all\s+)?(?:my|the)\s+(?:personal\s+)?(?:data|information)\b"),
    ),
    Right.RECTIFICATION: (
        _rule(r"정정"),
        _rule(r"수정|변경|갱신", needs_data=True, unless=_NOT_EDIT),
        _rule(r"잘못\s*(?:된|되어|돼|되었|입력|기재|등록|표기)|틀린|틀렸", needs_data=True),
        _rule(r"\brectif(?:y|ication)\b"),
        _rule(r"\b(?:correct|update|amend)\s+(?:my|the|our)\b", needs_data=True, unless=_NOT_EDIT),
        _rule(r"\b(?:incorrect|inaccurate|outdated)\b", needs_data=True),
    ),
    Right.ERASURE: (
        _rule(r"삭제"),
        _rule(r"지워|지우(?=[고기시어는지])"),
        _rule(r"파기"),
        _rule(r"없애"),
        _rule(r"\b(?:delete|deletion|erase|erasure)\b"),
        _rule(r"\bremove\s+(?:all\s+)?(?:my|me|the)\b"),
        _rule(r"\bright\s+to\s+be\s+forgotten\b"),
    ),
    Right.SUSPENSION: (
        _rule(r"처리\s*(?:를\s*)?(?:정지|중지|중단)"),
        _rule(r"(?:이용|사용|활용)\s*(?:하는\s*것\s*)?(?:을|를)?\s*(?:정지|중지|중단)", needs_data=True),
        _rule(r"그만\s*(?:사용|이용|쓰|활용)", needs_data=True),
        _rule(r"(?:사용|이용|활용)\s*하지\s*(?:마|말)", needs_data=True),
        _rule(r"\bstop\s+(?:processing|using)\b"),
        _rule(r"\bobject(?:ion)?\s+to\b"),
        _rule(r"\brestrict(?:ion\s+of)?\s+(?:the\s+)?processing\b"),
        _rule(r"\bno\s+longer\s+(?:want|wish)\s+(?:you\s+)?to\s+(?:process|use)\b"),
    ),
    Right.WITHDRAWAL: (
        _rule(r"동의\s*(?:를|한\s*것을|했던\s*것을|하신\s*것을)?\s*(?:철회|취소)"),
        _rule(r"(?:회원\s*)?탈퇴"),
        _rule(r"수신\s*(?:을|를)?\s*(?:거부|거절|중단|중지|원치\s*않|원하지\s*않|동의\s*철회)"),
        _rule(r"(?:광고|마케팅|홍보)\s*(?:성\s*)?(?:메일|문자|전화|정보|이메일|SMS|연락)?\s*(?:은|는|을|를|만|도)?\s*"
              r"(?:그만|보내지\s*마|받고\s*싶지\s*않|받지\s*않)"),
        _rule(r"\bunsubscribe\b|\bopt[- ]?out\b"),
        _rule(r"\b(?:withdraw|withdrawing|revoke|revoking|retract)\s+(?:my\s+|all\s+|the\s+)?consent"),
        _rule(r"\b(?:close|cancel|terminate)\s+my\s+(?:account|membership)\b"),
    ),
    Right.PORTABILITY: (
        _rule(r"전송\s*(?:을|를)?\s*요구|전송\s*요구권"),
        _rule(r"전송\s*(?:을|를)?\s*(?:요청|신청)", needs_data=True),
        _rule(r"이동권|(?:데이터|정보)\s*(?:를|의)?\s*이동"),
        _rule(r"이동", needs_data=True),
        _rule(r"다른\s*(?:회사|서비스|업체|기관|사업자|곳)\s*(?:으로|로|에|에게)\s*(?:보내|전송|옮|이전|제공)"),
        _rule(r"\b(?:data\s+)?portability\b|\bport\s+my\s+data\b|\bmachine[- ]readable\b"),
        _rule(r"\btransfer\s+(?:all\s+)?(?:of\s+)?my\s+(?:personal\s+)?(?:data|information)"),
        _rule(r"\bsend\s+my\s+(?:personal\s+)?(?:data|information)\s+to\s+(?:another|a\s+different|a\s+new)\b"),
    ),
    Right.AUTOMATED_DECISION: (
        _rule(r"자동화\s*(?:된|한)?\s*(?:의사\s*)?결정|자동\s*(?:의사\s*)?결정"),
        _rule(r"(?:AI|인공\s*지능)\s*(?:심사|평가|면접|판단|채점|결정)|자동\s*(?:심사|평가|채점)"),
        _rule(r"\bautomated\s+(?:individual\s+)?decision|\bautomated\s+(?:processing|profiling|scoring)\b"),
        _rule(r"\bAI\s+(?:screening|assessment|review|decision|interview)|\bprofiling\b"),
    ),
}

AGENT_RULES: dict[AgentKind, tuple[_Rule, ...]] = {
    GUARDIAN: (
        _rule(r"법정\s*대리인|친권자|후견인|보호자|부모|자녀|미성년|(?:만\s*)?14\s*세\s*미만"),
        _rule(r"(?:제|저희|우리)\s*(?:아들|딸|아이|애)|아이(?=[가의는를도와]|\s)"),
        _rule(r"(?:엄마|아빠|어머니|아버지)(?:입니다|이고|로서|인데|예요|이에요)"),
        _rule(r"\blegal\s+guardian\b|\bguardian\b|\bparents?\b|\bmy\s+(?:son|daughter|child|kid)\b"),
        _rule(r"\bunder\s+(?:the\s+age\s+of\s+)?14\b|\bminor\b"),
    ),
    MANDATE: (
        _rule(r"위임"),
        _rule(r"(?<!법정)(?<!법정\s)대리인|대리\s*(?:신청|요청|청구)"),
        _rule(r"대신\s*(?:하여|해서)?\s*(?:요청|신청|문의|연락|청구|보내)"),
        _rule(r"\bon\s+behalf\s+of\b|\bpower\s+of\s+attorney\b|\bauthori[sz]ed\s+(?:agent|representative)\b"),
        _rule(r"\bmy\s+client\b"),
    ),
}
_AGENT_FILES: dict[AgentKind, re.Pattern[str]] = {
    GUARDIAN: re.compile(r"가족\s*관계\s*증명서|기본\s*증명서|birth[\s_-]*certificate", re.I),
    MANDATE: re.compile(r"위임장|power[\s_-]*of[\s_-]*attorney|(?<![a-z])poa(?![a-z])", re.I),
}

# Refusals after a keyword; conditionals ("삭제하지 않으면") and complaints ("삭제되지 않았습니다") are not.
_NEG_AFTER = re.compile(
    r"^[^.!?\n]{0,12}?(?:"
    r"하?지\s*(?:마|말)|(?:원|바라|필요|희망)하?지\s*않|원치\s*않|하지\s*않(?:고|겠|아도|으셔도|습니다|아요)|"
    r"안\s*하(?:셔도|고|겠)|않아도|않으셔도|아닙니다|아니(?:고|라|며|에요|요)|아닌|말고|대신|"
    r"(?:생각|의사|의향|계획|필요)\s*[은는이가]?\s*(?:전혀\s*)?없)",
)
_NEG_BEFORE = re.compile(
    r"\b(?:don'?t|do\s+not|does\s+not|doesn'?t|never|not|no|no\s+need\s+to|without|instead\s+of|"
    r"rather\s+than)\b[\w\s']{0,30}$",
    re.IGNORECASE,
)
_CLAUSE_BREAK = re.compile(r".*(?:[,;:]|\bbut\b|\band\b|하지만|그러나|그리고)", re.IGNORECASE | re.DOTALL)

_REPLY_HEADER = re.compile(
    r"^[ \t]*(?:-{2,}[ \t]*(?:Original\s+Message|원본\s*메시지|원문\s*메시지)[ \t]*-{2,}"
    r"|On\s.{1,200}\swrote:|.{0,120}\d{4}년\s*\d{1,2}월\s*\d{1,2}일.{0,120}작성:"
    r"|(?:From|보낸[ \t]*사람)[ \t]*:.*\n[ \t]*(?:Sent|Date|보낸[ \t]*날짜|날짜)[ \t]*:)",
    re.IGNORECASE | re.MULTILINE,
)
_FORWARD_MARK = re.compile(
    r"^-{3,}[ \t]*(?:Forwarded[ \t]+message|전달된[ \t]*메시지)", re.IGNORECASE | re.MULTILINE
)
_SIGNATURE = re.compile(r"^--[ ]?$", re.MULTILINE)
_REPLY_PREFIX = re.compile(r"^\s*(?:re|aw|회신|답장|답변)\s*(?:\[\d+\])?\s*:", re.IGNORECASE)
_SUBJECT_PREFIX = re.compile(
    r"^\s*(?:(?:re|fw|fwd|aw|wg|회신|답장|답변|전달)\s*(?:\[\d+\])?\s*:\s*|\[DSAR-\d{4}-\d+\]\s*)+", re.I
)
_CASE_TAG = re.compile(r"\[DSAR-\d{4}-\d+\]", re.IGNORECASE)

_FOOTER_TOPIC = re.compile(r"수신\s*(?:을|를)?\s*(?:거부|원하지|원치)|unsubscribe|opt[- ]?out", re.I)
_FOOTER_CUE = re.compile(
    r"클릭|링크|여기|아래|하시려면|원하시면|원하시는|않으시면|않으실|원치\s*않으|\bclick|\bhere\b|\blink\b|"
    r"\bif\s+you\b|\bbelow\b|preferences",
    re.IGNORECASE,
)
_NOT_REQUEST_MARKS = re.compile(
    r"\(광고\)|\[광고\]|광고|홍보|할인|특가|쿠폰|이벤트|프로모션|세미나|웨비나|뉴스레터|무료\s*체험|초대|"
    r"세금\s*계산서|계산서|청구서|인보이스|영수증|결제\s*(?:안내|완료)|견적|가격|구매|라이선스|데모|문의|궁금|"
    r"부재\s*중|자동\s*(?:회신|응답)|휴가|"
    r"\bnewsletter\b|\bpromotion\w*|\bdiscount\w*|\bwebinar\b|\bseminar\b|\binvoice\b|\breceipt\b|\bpricing\b|"
    r"\bquote\b|\blicen[cs]e\b|\bdemo\b|\bout\s+of\s+(?:the\s+)?office\b|\bautomatic\s+reply\b|"
    r"\bauto-?reply\b|\bvacation\b|\bunsubscribe\b",
    re.IGNORECASE,
)
# Promotional mail (seminar invitations listing "열람·정정·삭제 요구 처리 실무", sales mail) names
# rights without asking for them: in such mail a right counts only in a sentence that asks for something.
_PROMO = re.compile(
    r"광고|홍보|할인|특가|쿠폰|이벤트|프로모션|세미나|웨비나|뉴스레터|무료|초대|참가\s*신청|사전\s*등록|"
    r"\bnewsletter\b|\bpromotion\w*|\bdiscount\w*|\bwebinar\b|\bseminar\b|\bregister\s+now\b|\bsale\b|"
    r"\bfree\s+trial\b",
    re.IGNORECASE,
)
_PROMO_SUBJECT = re.compile(
    r"^\s*[(\[]\s*(?:광고|AD|초대|세미나|웨비나|이벤트|뉴스레터|newsletter|webinar)\s*[)\]]", re.IGNORECASE
)
_REQUEST_VERB = re.compile(
    r"요청(?:합니다|드립니다|드려요|해요|하오니)|요구(?:합니다|드립니다|해요)|청구합니다|행사합니다|"
    r"해\s*주(?:세요|십시오|시기|시면|셨으면)|주시기\s*바랍|부탁|원합니다|바랍니다|싶습니다|싶어요|"
    r"\bplease\b|\bI\s+(?:would\s+like|want|wish|request|ask|hereby)\b|\bkindly\b",
    re.IGNORECASE,
)
_AD_SUBJECT = re.compile(r"^\s*[(\[]\s*(?:광고|AD)\s*[)\]]", re.IGNORECASE)
_AUTO_SUBJECT = re.compile(
    r"^\s*\[?(?:부재\s*중|자동\s*(?:회신|응답)|automatic\s+reply|auto(?:matic)?[- ]?(?:reply|response)|"
    r"out\s+of\s+(?:the\s+)?office|autoreply)",
    re.IGNORECASE,
)
_HANGUL = re.compile(r"[\uac00-\ud7a3\u3131-\u318e]")
_LATIN = re.compile(r"[A-Za-z]")
_NOISE = re.compile(r"[^\s@]{1,64}@\S{1,255}|https?://\S+|www\.\S+")
_SENTENCE = re.compile(r"[^.!?\n。]+[.!?。]*")


_RIGHT_KEYS = frozenset(r.value for r in Right)
_KEYED_RULES: dict[str, tuple[_Rule, ...]] = {
    **{r.value: RULES[r] for r in Right},
    **{f"agent:{kind}": rules for kind, rules in AGENT_RULES.items()},
}
MAX_TEXT = 50_000  # characters of the writer's own words read; a request is never longer


def own_words(text: str) -> str:
    """The writer's own words: no quoted lines, nothing below a reply header, no signature."""
    forward = _FORWARD_MARK.search(text)
    head, tail = (text[: forward.start()], text[forward.start() :]) if forward else (text, "")
    reply = _REPLY_HEADER.search(head)
    if reply:
        head = head[: reply.start()]
    signature = _SIGNATURE.search(head)
    if signature:
        head = head[: signature.start()]
    kept = [line for line in (head + tail).splitlines() if not line.lstrip().startswith(">")]
    return "\n".join(kept)


def clean_subject(subject: str) -> str:
    """The subject without reply/forward prefixes and without our own case tag."""
    return _CASE_TAG.sub(" ", _SUBJECT_PREFIX.sub("", subject)).strip()


def _language(text: str) -> Literal["ko", "en"]:
    text = _NOISE.sub(" ", text)
    hangul, latin = len(_HANGUL.findall(text)), len(_LATIN.findall(text))
    return "en" if latin and hangul / (hangul + latin) < 0.2 else "ko"


def _negated(sentence: str, start: int, end: int, next_start: int) -> bool:
    after = sentence[end : min(next_start, end + 25)]
    if _NEG_AFTER.match(after):
        return True
    before = sentence[max(0, start - 60) : start]
    clause = _CLAUSE_BREAK.match(before)
    if clause:
        before = before[clause.end() :]
    return bool(_NEG_BEFORE.search(before))


def _matches(sentence: str, rules: dict[str, tuple[_Rule, ...]]) -> list[tuple[int, int, str]]:
    has_data = bool(_DATA.search(sentence))
    has_latin = bool(_LATIN.search(sentence))  # most sentences are Korean only: the English rules are skipped
    found: list[tuple[int, int, str]] = []
    for key, key_rules in rules.items():
        for rule in key_rules:
            if (rule.needs_data and not has_data) or (rule.latin and not has_latin):
                continue
            if rule.pattern.search(sentence) is None:  # most rules miss: one call instead of an iteration
                continue
            if rule.unless is not None and rule.unless.search(sentence):
                continue
            found.extend((m.start(), m.end(), key) for m in rule.pattern.finditer(sentence) if m.group(0))
    return sorted(found)


def _add(evidence: dict[str, list[str]], key: str, word: str) -> None:
    words = evidence.setdefault(key, [])
    if word not in words:
        words.append(word)


@dataclass
class _Scan:
    # (decision key, exact words, the sentence asks for something, the words are in a reply's subject)
    candidates: list[tuple[str, str, bool, bool]] = field(default_factory=list)
    marks: list[str] = field(default_factory=list)  # words that suggest the mail is not a request
    promo: set[str] = field(default_factory=set)  # distinct promotional words


def _scan(subject_text: str, own: str, reply_subject: bool) -> _Scan:
    scan = _Scan()
    for in_subject, block in ((True, subject_text), (False, own)):
        for raw_sentence in _SENTENCE.findall(block):
            sentence = raw_sentence.strip()
            if not sentence:
                continue
            if _FOOTER_TOPIC.search(sentence) and _FOOTER_CUE.search(sentence):
                scan.marks.extend(m.group(0) for m in _FOOTER_TOPIC.finditer(sentence))
                continue  # an unsubscribe instruction to the reader, not the reader's request
            scan.marks.extend(m.group(0) for m in _NOT_REQUEST_MARKS.finditer(sentence))
            scan.promo.update(re.sub(r"\s+", "", m.group(0).lower()) for m in _PROMO.finditer(sentence))
            asks = bool(_REQUEST_VERB.search(sentence))
            hits = _matches(sentence, _KEYED_RULES)
            starts = [start for start, _end, _key in hits]
            for start, end, key in hits:
                following = bisect.bisect_left(starts, end)
                next_start = starts[following] if following < len(starts) else len(sentence)
                if not _negated(sentence, start, end, next_start):
                    scan.candidates.append((key, sentence[start:end], asks, in_subject and reply_subject))
    return scan


def _evidence(scan: _Scan, subject_text: str, names: list[str]) -> dict[str, list[str]]:
    promotional = bool(_PROMO_SUBJECT.search(subject_text)) or len(scan.promo) >= 2
    kept = [c for c in scan.candidates if c[2] or not promotional]
    # A reply's subject repeats the earlier message: it decides only when the new words name no right.
    if any(not quoted and key in _RIGHT_KEYS for key, _w, _a, quoted in kept):
        kept = [c for c in kept if not c[3]]
    evidence: dict[str, list[str]] = {}
    for key, word, _asks, _quoted in kept:
        _add(evidence, key, word)
    for kind, pattern in _AGENT_FILES.items():
        for name in names:
            if pattern.search(name):
                _add(evidence, f"agent:{kind}", name)
    return evidence


def classify(
    subject: str, text: str, attachment_names: list[str] | None = None, *, auto_submitted: bool = False
) -> Classification:
    """Classify one message from its subject, plain-text body and attachment names.

    `auto_submitted` (from the Auto-Submitted header, see `ParsedMessage.auto_submitted`) marks the message
    as not a request whatever its words say, as do an "(광고)" or auto-reply subject.
    """
    subject_text = clean_subject(subject)
    own = own_words(text)[:MAX_TEXT]
    scan = _scan(subject_text, own, reply_subject=bool(_REPLY_PREFIX.match(subject)))
    evidence = _evidence(scan, subject_text, attachment_names or [])

    overrides = ["Auto-Submitted"] if auto_submitted else []
    for pattern in (_AD_SUBJECT, _AUTO_SUBJECT):
        found = pattern.search(subject_text) or pattern.search(subject)
        if found:
            overrides.append(found.group(0).strip())
    rights = [] if overrides else [r for r in Right if r.value in evidence]
    result = {r.value: evidence[r.value] for r in rights}

    agent_kind: AgentKind | None = None
    for kind in (GUARDIAN, MANDATE):  # a parent acting for a child is a 법정대리인 even when "대신" appears
        if f"agent:{kind}" in evidence and rights:
            agent_kind = kind
            result["agent"] = evidence[f"agent:{kind}"]
            break
    if not rights:
        result["not_a_request"] = list(dict.fromkeys(overrides + scan.marks))
    return Classification(
        rights=rights,
        agent=agent_kind is not None,
        agent_kind=agent_kind,
        not_a_request=not rights,
        language=_language(f"{subject_text}\n{own}"),
        evidence=result,
    )
