"""The Korean formatting filters."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from markupsafe import Markup

from dsar.letters.filters import (
    clip,
    d_day,
    josa,
    korean_date,
    korean_datetime,
    mask_name,
    nl2br,
    phone,
    right_phrase,
    won,
)


def test_korean_date_has_no_leading_zeros_and_an_optional_weekday():
    assert korean_date(date(2026, 12, 3)) == "2026년 12월 3일"
    assert korean_date(date(2026, 12, 3), weekday=True) == "2026년 12월 3일(목)"
    assert korean_date(date(2026, 12, 5), weekday=True) == "2026년 12월 5일(토)"


def test_datetimes_are_shown_in_seoul_time():
    late_utc = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
    assert korean_date(late_utc) == "2026년 11월 23일"
    assert korean_datetime(late_utc) == "2026년 11월 23일 8시 30분"
    assert (
        korean_datetime(datetime(2026, 11, 23, 10, 5, tzinfo=timezone(timedelta(hours=9))))
        == "2026년 11월 23일 10시 05분"
    )


def test_a_naive_datetime_is_refused():
    with pytest.raises(ValueError, match="naive"):
        korean_datetime(datetime(2026, 11, 23, 10, 0))


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("0212345678", "02-1234-5678"),
        ("021234567", "02-123-4567"),
        ("01012345678", "010-1234-5678"),
        ("0311234567", "031-123-4567"),
        ("+82 10-1234-5678", "010-1234-5678"),
        ("15881234", "1588-1234"),
        ("1833-6972", "1833-6972"),
        ("118", "118"),
        ("050712345678", "0507-1234-5678"),
        ("내선 123", "내선 123"),
    ],
)
def test_phone_numbers_are_hyphenated_the_korean_way(raw, shown):
    assert phone(raw) == shown


@pytest.mark.parametrize(
    ("word", "pair", "joined"),
    [
        ("개인정보", "을/를", "개인정보를"),
        ("정정", "을/를", "정정을"),
        ("[DSAR-2026-000123]", "을/를", "[DSAR-2026-000123]을"),
        ("DSAR-2026-000122", "을/를", "DSAR-2026-000122를"),
        ("주소", "으로/로", "주소로"),
        ("서울", "으로/로", "서울로"),
        ("집", "으로/로", "집으로"),
        ("회사", "이/가", "회사가"),
        ("URL", "은/는", "URL은"),
        ("@", "이/가", "@이(가)"),
    ],
)
def test_josa_picks_the_particle_by_the_final_sound(word, pair, joined):
    assert josa(word, pair) == joined


def test_names_are_masked_for_staff_mail():
    assert mask_name("홍길동") == "홍*동"
    assert mask_name("남궁민수") == "남**수"
    assert mask_name("김철") == "김*"
    assert mask_name(None) == "(성명 미상)"


def test_small_formatters():
    assert won(12000) == "12,000원"
    assert (d_day(3), d_day(0), d_day(-2)) == ("D-3", "D-day", "D+2")
    assert clip("가나다", 2) == "가나 …(이하 생략)" and clip("가나", 2) == "가나"
    assert (
        right_phrase("삭제") == "개인정보 삭제 요구"
        and right_phrase("withdrawal") == "개인정보 수집·이용 동의 철회"
    )


def test_nl2br_escapes_before_it_adds_breaks():
    result = nl2br("첫 줄 <b>\n둘째 줄")
    assert isinstance(result, Markup)
    assert str(result) == "첫 줄 &lt;b&gt;<br>\n둘째 줄"
