"""PDF output. These tests need WeasyPrint, NanumGothic and the Noto CJK fonts.

pip install 'dsar[pdf]'; apt-get install fonts-nanum fonts-noto-cjk libharfbuzz-subset0 (without
HarfBuzz-Subset, WeasyPrint subsets the fonts with fontTools: seconds per PDF instead of milliseconds).
"""

from __future__ import annotations

import sys
from dataclasses import replace

import pytest
import weasyprint  # noqa: F401  (required: a missing WeasyPrint must fail these tests, not skip them)
from weasyprint.formatting_structure import boxes

from dsar.errors import ServiceUnavailable
from dsar.letters import NOTICE_KINDS, render_notice
from dsar.letters.pdf import _keep_korean_words, pdf_document, render_pdf
from dsar.letters.samples import minimal_context, sample_context

A4_CSS_PX = (210 / 25.4 * 96, 297 / 25.4 * 96)


def _assert_fits_a4_with_korean_glyphs(document, fonts=frozenset({"NanumGothic"})) -> None:
    for number, page in enumerate(document.pages, 1):
        assert (round(page.width, 1), round(page.height, 1)) == tuple(round(v, 1) for v in A4_CSS_PX)
        page_box = page._page_box
        left = page_box.margin_left
        right = page_box.margin_width() - page_box.margin_right
        for box in page_box.descendants():
            if isinstance(box, (boxes.PageBox, boxes.MarginBox)) or box.position_x is None:
                continue
            assert box.position_x >= left - 0.5, f"page {number}: {box!r} starts left of the margin"
            assert box.position_x + box.margin_width() <= right + 0.5, f"page {number}: {box!r} overflows"
    document.write_pdf()  # fills document.fonts
    families = {font.family for font in document.fonts.values()}
    assert families == fonts, families
    assert not any(font.missing for font in document.fonts.values()), "some characters had no glyph"


@pytest.mark.parametrize("kind", sorted(NOTICE_KINDS))
def test_every_notice_renders_to_an_a4_pdf_that_fits_the_page(kind):
    rendered = render_notice(kind, sample_context(kind))
    pdf = render_pdf(rendered, org_name="주식회사 한빛마켓")
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    document = pdf_document(rendered, org_name="주식회사 한빛마켓")
    assert 1 <= len(document.pages) <= 3
    _assert_fits_a4_with_korean_glyphs(document)


@pytest.mark.parametrize("kind", sorted(NOTICE_KINDS))
def test_minimal_notices_render_to_pdf_too(kind):
    assert render_pdf(render_notice(kind, minimal_context(kind)), org_name="한빛마켓").startswith(b"%PDF-")


def test_long_unbroken_requester_text_wraps_inside_the_page():
    context = sample_context("acknowledgement")
    details = "가나다라마바사아자차카타파하" * 30 + " " + "x" * 400 + "\nhttps://example.com/" + "a/" * 120
    context = replace(context, case=replace(context.case, details=details))
    document = pdf_document(render_notice("acknowledgement", context), org_name='주식회사 "한빛" \\ 마켓')
    _assert_fits_a4_with_korean_glyphs(document)


def test_characters_nanumgothic_lacks_come_from_noto_not_as_boxes():
    context = sample_context("acknowledgement")
    details = "Jürgen Müller 씨의 위임장, 鰯 (NanumGothic에 없는 글자)"
    context = replace(context, case=replace(context.case, details=details))
    document = pdf_document(render_notice("acknowledgement", context), org_name="주식회사 한빛마켓")
    _assert_fits_a4_with_korean_glyphs(document, fonts={"NanumGothic", "Noto Sans CJK KR"})


def test_every_page_has_the_organisation_and_case_number_on_top_and_its_number_below():
    rendered = render_notice("access_notice", sample_context("access_notice"))
    document = pdf_document(rendered, org_name="주식회사 한빛마켓")
    assert len(document.pages) >= 2  # the header must repeat, so the sample has to run over a page
    for number, page in enumerate(document.pages, 1):
        margins = {
            box.at_keyword: "".join(text.text for text in box.descendants() if isinstance(text, boxes.TextBox))
            for box in page._page_box.children
            if isinstance(box, boxes.MarginBox)
        }
        assert margins == {
            "@top-left": "주식회사 한빛마켓",
            "@top-right": sample_context("access_notice").case.number,
            "@bottom-center": f"{number} / {len(document.pages)}",
        }


def test_case_numbers_in_the_digest_table_stay_on_one_line():
    context = sample_context("daily_digest")
    document = pdf_document(render_notice("daily_digest", context), org_name="주식회사 한빛마켓")
    lines = [
        box.text for page in document.pages for box in page._page_box.descendants() if isinstance(box, boxes.TextBox)
    ]
    assert sorted(line for line in lines if line.startswith("DSAR-")) == sorted(case.number for case in context.cases)


def test_korean_words_are_joined_in_the_body_only():
    html = '<head><title>열람 통지</title></head><body><p class="x">개인정보 보호책임자(홍길동)</p></body>'
    joined = _keep_korean_words(html)
    assert "<title>열람 통지</title>" in joined
    wj = "\u2060"
    assert f'<p class="x">{wj.join("개인정보")} {wj.join("보호책임자(홍길동)")}</p>' in joined
    assert _keep_korean_words("<p>no body</p>") == "<p>no body</p>"


def test_without_weasyprint_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # makes `import weasyprint` raise ImportError
    rendered = render_notice("reminder", sample_context("reminder"))
    with pytest.raises(ServiceUnavailable, match=r"pip install 'dsar\[pdf\]'.*fonts-noto-cjk") as caught:
        render_pdf(rendered, org_name="주식회사 한빛마켓")
    assert caught.value.code == "service_unavailable"
