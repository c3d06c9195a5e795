"""mask_pii and PiiLogFilter: identifiers masked, look-alikes that staff need left alone."""

from __future__ import annotations

import io
import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsar.pii import MaskResult, PiiLogFilter, luhn_valid, mask_emails, mask_pii


@pytest.mark.parametrize(
    ("text", "masked", "kinds"),
    [
        ("주민등록번호 900101-1234567 입니다", "주민등록번호 900101-1****** 입니다", ["rrn"]),
        ("9001012345678", "900101-2******", ["rrn"]),
        ("생년 050315-3456789", "생년 050315-3******", ["rrn"]),
        ("번호: 900101 - 1234567", "번호: 900101-1******", ["rrn"]),
        ("외국인등록번호 850315-5123456", "외국인등록번호 850315-5******", ["foreigner_rn"]),
        ("카드 4111 1111 1111 1111", "카드 4111 **** **** 1111", ["card"]),
        ("card 5500-0000-0000-0004.", "card 5500-****-****-0004.", ["card"]),
        ("4111111111111111", "4111********1111", ["card"]),
        ("Amex 3782-822463-10005", "Amex 3782-******-*0005", ["card"]),
        ("여권번호 M12345678", "여권번호 M********", ["passport"]),
        ("passport M123A4567", "passport M********", ["passport"]),
        ("운전면허 11-23-123456-78", "운전면허 11-**-******-**", ["driver_licence"]),
        ("환불 계좌: 국민은행 123456-01-234567", "환불 계좌: 국민은행 ******-**-**4567", ["account"]),
        ("계좌번호 1002345678901", "계좌번호 *********8901", ["account"]),
        ("account no. 110-234-567890", "account no. ***-***-**7890", ["account"]),
        (
            "900101-1234567 and 4111 1111 1111 1111",
            "900101-1****** and 4111 **** **** 1111",
            ["rrn", "card"],
        ),
    ],
)
def test_identifiers_are_masked(text: str, masked: str, kinds: list[str]) -> None:
    assert mask_pii(text) == MaskResult(masked, kinds)


@pytest.mark.parametrize(
    "text",
    [
        "휴대폰 010-1234-5678, 대표번호 02-2163-5700, 고객센터 1588-1234, +82-10-1234-5678",
        "01012345678",
        "접수일 2026-11-23, 2026.11.23, 20261123",
        "사건번호 DSAR-2026-000123",
        "우편번호 06236",
        "금액 1,500,000원, 15000000원, ₩2,000,000",
        "주문번호 123456789012",  # no account word nearby, not Luhn-valid as a card
        "4111 1111 1111 1112",  # fails Luhn
        "901301-1234567",  # month 13: not a date, not an RRN
        "900101-9234567",  # gender digit 9
        "계좌 변경 문의드립니다. 연락처 010-9876-5432",  # account word, but the number is a phone
        "DSAR-2026-000123 account 2026-11-23",
    ],
)
def test_look_alikes_are_not_masked(text: str) -> None:
    assert mask_pii(text) == MaskResult(text, [])


def test_luhn() -> None:
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")


def test_email_addresses_are_shortened_for_logs() -> None:
    assert mask_emails("from Hong.GilDong@Example.co.kr to sec_tech@rsupport.com") == (
        "from H***@Example.co.kr to s***@rsupport.com"
    )


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("0123456789- 계좌account MSRGD\n"), max_size=120))
def test_masking_is_idempotent_and_never_lengthens_digits(text: str) -> None:
    once = mask_pii(text)
    assert mask_pii(once.text).text == once.text
    assert sum(ch.isdigit() for ch in once.text) <= sum(ch.isdigit() for ch in text)


def _logger_with_filter() -> tuple[logging.Logger, io.StringIO, logging.Handler]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    handler.addFilter(PiiLogFilter())
    logger = logging.getLogger("dsar.test.pii")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(handler)
    return logger, stream, handler


def test_the_log_filter_masks_the_formatted_message_and_addresses() -> None:
    logger, stream, handler = _logger_with_filter()
    try:
        logger.info("intake from %s: rrn %s, card %s", "hong.gildong@example.com", "900101-1234567",
                    "4111 1111 1111 1111")
        logger.info("case %s phone %s", "DSAR-2026-000123", "010-1234-5678")
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    masked = "intake from h***@example.com: rrn 900101-1******, card 4111 **** **** 1111"
    assert lines[0] == f"INFO dsar.test.pii {masked}"
    assert lines[1] == "INFO dsar.test.pii case DSAR-2026-000123 phone 010-1234-5678"


def test_the_log_filter_masks_tracebacks_too() -> None:
    logger, stream, handler = _logger_with_filter()
    try:
        try:
            raise ValueError("bad rrn 900101-1234567 from kim@example.com")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    out = stream.getvalue()
    assert "900101-1234567" not in out and "kim@example.com" not in out
    assert "900101-1******" in out and "k***@example.com" in out


def test_the_log_filter_survives_bad_format_arguments() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%d items for %s", ("many",), None)
    assert PiiLogFilter().filter(record) is True
    assert record.args is None and "many" in record.getMessage()
