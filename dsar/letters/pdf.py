"""A4 PDF of a rendered notice, through WeasyPrint (the optional `pdf` extra).

The HTML is the one `render_notice` produced, so the PDF says exactly what the e-mail says. The page adds the
organisation's name and the case number at the top and "page / pages" at the bottom.

Font: NanumGothic (Debian: fonts-nanum), a TrueType font with every Hangul syllable, 4,620 Hanja and the
symbols the templates use; Noto Sans CJK KR (fonts-noto-cjk) stands behind it for any character NanumGothic
lacks (accented Latin, rarer Hanja), so nothing turns into a box. WeasyPrint embeds the glyphs used, subset with
HarfBuzz-Subset (Debian: libharfbuzz-subset0). NanumGothic's TrueType outlines subset in about 7 ms per notice;
Noto's CFF outlines, in a 19 MB collection copied out for each PDF, took about 60 ms of the 150 ms a notice then
took (CPU time; bench/letters_bench.py measures the rate).
The print stylesheet is a user stylesheet, which loses to the notice's own <style>; what must win is
`!important`: the font, and no screen padding around the notice (the page margins are its frame; the wider
NanumGothic needs the room, or a case number in a four-column table would wrap).

WeasyPrint does not implement `word-break: keep-all`, so Pango would break Korean lines inside words. Before
layout, a WORD JOINER (U+2060, invisible, dropped again by text extraction) is put between the characters of
each word that contains Hangul, so lines break at spaces as Korean readers expect; `overflow-wrap: anywhere`
still breaks a single word too long for the line.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from dsar.errors import ServiceUnavailable
from dsar.letters.render import Rendered

_INSTALL_HINT = (
    "PDF output needs WeasyPrint: install the pdf extra (pip install 'dsar[pdf]') and Korean fonts "
    "with the HarfBuzz subsetter (Debian/Ubuntu: apt-get install fonts-nanum fonts-noto-cjk libharfbuzz-subset0)"
)

FONT_FAMILIES = '"NanumGothic", "Noto Sans CJK KR", sans-serif'

_PRINT_CSS = f"""
@page {{
  size: A4;
  margin: 24mm 18mm 20mm 18mm;
  @top-left {{ font: 8.5pt {FONT_FAMILIES}; color: #666; }}
  @top-right {{ font: 8.5pt {FONT_FAMILIES}; color: #666; }}
  @bottom-center {{ content: counter(page) " / " counter(pages); font: 8.5pt {FONT_FAMILIES}; color: #666; }}
}}
body {{ font-family: {FONT_FAMILIES} !important; }}
.notice {{ padding: 0 !important; }}
h2 {{ page-break-after: avoid; break-after: avoid; }}
table, tr, li, .sender {{ page-break-inside: avoid; break-inside: avoid; }}
a {{ color: inherit; text-decoration: none; }}
"""

_HEADER_CSS = '@page { @top-left { content: "%(org)s"; } @top-right { content: "%(number)s"; } }'

_HANGUL = "\u3131-\u318e\uac00-\ud7a3"
_INSIDE_WORD = re.compile(rf"(?<=[{_HANGUL}])(?=[^\s<>])|(?<=[^\s<>])(?=[{_HANGUL}])")
_TEXT_NODE = re.compile(r">([^<]+)<")


def _keep_korean_words(html: str) -> str:
    """Join the characters of Hangul words with U+2060 in the body's text nodes (not in tags or the head)."""
    head, sep, body = html.partition("<body")
    if not sep:
        return html
    body = _TEXT_NODE.sub(lambda m: ">" + _INSIDE_WORD.sub("\u2060", m.group(1)) + "<", body)
    return head + sep + body


def _css_string(text: str) -> str:
    """Text safe inside a CSS double-quoted string."""
    text = re.sub(r"[\x00-\x1f\x7f]", " ", text)
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _weasyprint() -> Any:
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: the package is there but Pango is not
        raise ServiceUnavailable(f"{_INSTALL_HINT} ({exc})") from None
    return weasyprint


@functools.lru_cache(maxsize=1)
def _font_config() -> Any:
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


@functools.lru_cache(maxsize=1)
def _print_stylesheet() -> Any:
    return _weasyprint().CSS(string=_PRINT_CSS, font_config=_font_config())


@functools.lru_cache(maxsize=64)
def _header_stylesheet(org_name: str, number: str) -> Any:
    css = _HEADER_CSS % {"org": _css_string(org_name), "number": _css_string(number)}
    return _weasyprint().CSS(string=css, font_config=_font_config())


def pdf_document(rendered: Rendered, *, org_name: str) -> Any:
    """The laid-out WeasyPrint document (pages and boxes), for inspection; `render_pdf` writes it out."""
    weasyprint = _weasyprint()
    try:
        case = json.loads(rendered.context_json).get("case") or {}
    except (ValueError, AttributeError):  # a notice stored without its context: no case number in the header
        case = {}
    stylesheets = [_print_stylesheet(), _header_stylesheet(org_name, case.get("number") or "")]
    html = weasyprint.HTML(string=_keep_korean_words(rendered.html))
    return html.render(stylesheets=stylesheets, font_config=_font_config())


def render_pdf(rendered: Rendered, *, org_name: str) -> bytes:
    """The notice as an A4 PDF. Raises ServiceUnavailable when WeasyPrint is not installed."""
    return bytes(pdf_document(rendered, org_name=org_name).write_pdf())
