"""`compile_policy`: policy text in, `PolicyExtract` out (the engine behind `dsar policy import`).

The steps run in a fixed order because later ones lean on earlier ones: the outline decides which lines
belong to which section, contacts are read before rights so a channel written as "the 책임자's e-mail" can
point at the actual address, and warnings are computed last from everything that was (not) found.
"""

from __future__ import annotations

from dsar.errors import PolicyError
from dsar.policy.bodies import mention_lines, read_bodies
from dsar.policy.contacts import read_contacts
from dsar.policy.identity import read_dates, read_org, read_slug
from dsar.policy.model import Contact, Found, PolicyExtract
from dsar.policy.retention import read_retention
from dsar.policy.rights import has_rights_wording, read_rights
from dsar.policy.sections import build_outline
from dsar.policy.tables import find_tables
from dsar.policy.text import split_lines

_CORE_RIGHTS = ("열람", "정정", "삭제", "처리정지", "동의철회")


def compile_policy(text: str, source: str = "<text>") -> PolicyExtract:
    """Read a Korean privacy policy into structured data, every value with its source line numbers.

    Raises PolicyError when the text names none of 열람 / 정정 / 삭제 / 처리정지 (not a privacy policy, or
    only a fragment of one).
    """
    lines = split_lines(text)
    if not any(not ln.blank for ln in lines):
        raise PolicyError(
            f"처리방침 본문이 비어 있습니다: {source}. 처리방침 전문을 넣어 주세요. / "
            f"Policy text is empty: {source}. Provide the full policy text.",
            source=source,
            reason="empty",
        )
    if not has_rights_wording(lines):
        raise PolicyError(
            f"'{source}'에서 정보주체 권리(열람·정정·삭제·처리정지) 조항을 찾지 못했습니다. "
            "개인정보 처리방침 전문이 맞는지 확인하세요. / No data-subject rights section "
            f"(열람/정정/삭제/처리정지) found in '{source}'. Check that this is the full privacy policy.",
            source=source,
            reason="no_rights_section",
        )
    outline = build_outline(lines)
    top = {s.heading.line.no for s in outline.sections if s.heading is not None}
    tables = find_tables(lines, top)
    body_lines = mention_lines(lines)

    scope = outline.lines_with("contacts", "bodies")
    scope_nos = {ln.no for ln in scope}
    contacts = read_contacts(
        scope, headings=top, stops=body_lines, tables=[t for t in tables if t.line_nos & scope_nos]
    )
    if not contacts:
        contacts = read_contacts(lines, headings=top, stops=body_lines, tables=tables)

    chief = next((c for c in contacts if c.role == "책임자"), None)
    reading = read_rights(
        outline.lines_with("rights"),
        lines,
        set(outline.headings),
        _first(contacts, chief, "email"),
        _first(contacts, chief, "phone"),
    )
    extract = PolicyExtract(
        source=source,
        org=read_org(lines),
        slug=read_slug(lines, contacts),
        rights=reading.rights,
        channels=reading.channels,
        verification=reading.verification,
        contacts=contacts,
        retention=read_retention(outline.lines_with("retention"), tables=tables, top_headings=top),
        complaint_bodies=read_bodies(lines, stops=top),
        dates=read_dates(lines),
    )
    extract.warnings = _warnings(extract, rights_fallback=reading.fallback)
    return extract


def _first(contacts: list[Contact], chief: Contact | None, field: str) -> Found | None:
    if chief is not None and getattr(chief, field) is not None:
        return getattr(chief, field)
    return next((getattr(c, field) for c in contacts if getattr(c, field) is not None), None)


def _warnings(extract: PolicyExtract, *, rights_fallback: bool) -> list[str]:
    """Korean sentences for the operator: what was not found and what to fill in by hand."""
    out: list[str] = []
    if extract.org is None:
        out.append(
            "기관(회사) 이름을 찾지 못했습니다. 처리방침 첫머리의 '(이하 ...)' 문구를 확인해 직접 입력하세요."
        )
    if extract.slug is None:
        out.append("기관의 웹 도메인이나 이메일 도메인을 찾지 못했습니다. 식별용 이름(slug)을 직접 정하세요.")
    if rights_fallback:
        out.append(
            "권리 행사 방법을 다루는 조항 제목을 찾지 못해 본문 전체에서 권리를 추정했습니다. "
            "결과를 확인하세요."
        )
    missing = [r for r in _CORE_RIGHTS if r not in extract.rights]
    if missing:
        out.append(
            f"처리방침에 {', '.join(missing)} 권리가 적혀 있지 않습니다. 법에 따른 권리는 그대로 인정되므로 "
            "이 요청도 접수해 처리해야 합니다."
        )
    if not extract.channels:
        out.append("권리 행사 방법(이메일·전화·서면 등)을 찾지 못했습니다. 요청 접수 창구를 직접 입력하세요.")
    if not extract.verification:
        out.append("요청자 본인 확인 방법이 적혀 있지 않습니다. 워크플로에서 쓸 본인 확인 방법을 정하세요.")
    chiefs = [c for c in extract.contacts if c.role == "책임자"]
    if not chiefs:
        out.append("개인정보 보호책임자를 찾지 못했습니다. 성명, 연락처, 이메일을 직접 입력하세요.")
    for chief in chiefs[:1]:
        if chief.name is None:
            out.append("개인정보 보호책임자의 성명이 없습니다. 통지서에 들어갈 이름을 직접 입력하세요.")
        if chief.email is None:
            out.append(
                "개인정보 보호책임자의 이메일이 처리방침에 없습니다. 요청 접수용 이메일을 직접 입력하세요."
            )
        if chief.phone is None:
            out.append("개인정보 보호책임자의 전화번호가 처리방침에 없습니다. 연락처를 직접 입력하세요.")
    if not extract.retention:
        out.append(
            "법령에 따른 보존 항목을 찾지 못했습니다. 삭제 요청을 처리하기 전에 보존 의무를 직접 확인하세요."
        )
    if not extract.complaint_bodies:
        out.append("권익침해 구제 기관 안내를 찾지 못했습니다. 통지서에 넣을 기관 정보를 확인하세요.")
    dates = extract.dates
    if dates.announced is None and dates.effective is None and dates.last_changed is None:
        out.append("공고일자·시행일자를 찾지 못했습니다. 이 처리방침이 언제부터 적용되는지 직접 입력하세요.")
    return out
