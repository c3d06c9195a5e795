"""Evidence line numbers point at lines that actually contain the extracted value."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from dsar.policy import compile_policy, read_policy_file
from dsar.policy.bodies import BODIES
from dsar.policy.rights import RIGHT_PATTERNS

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(
    [*(ROOT / "tests/data/policies").glob("*.txt"), *(ROOT / "tests/data/policies").glob("*.html")]
    + list((ROOT / "samples/policies").glob("*.txt"))
)


def squash(text: str) -> str:
    text = re.sub(r"＠|\s*[(\[]\s*at\s*[)\]]\s*", "@", text)  # privacy(at)x.kr is written for privacy@x.kr
    return re.sub(r"[\s「」『』]+", "", text).lower()


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


class Source:
    def __init__(self, path: Path) -> None:
        self.text = read_policy_file(path)
        self.lines = self.text.splitlines()
        self.json: dict[str, Any] = compile_policy(self.text, source=str(path)).to_json()

    def joined(self, numbers: list[int]) -> str:
        assert numbers, "a value without evidence lines"
        assert all(1 <= n <= len(self.lines) for n in numbers)
        return " ".join(self.lines[n - 1] for n in numbers)


@pytest.fixture(params=SOURCES, ids=lambda p: p.stem)
def src(request: pytest.FixtureRequest) -> Source:
    return Source(request.param)


def phone_in(value: str, text: str) -> bool:
    d = digits(value)
    return d in digits(text) or d.lstrip("0") in digits(text)  # +82-2-... is written without the 0


def test_org_and_slug_lines_contain_them(src: Source) -> None:
    ev = src.json["evidence"]
    assert squash(src.json["org"]) in squash(src.joined(ev["org"]))
    for n in ev["slug"]:
        assert src.json["slug"] in src.lines[n - 1].lower()


def test_contact_lines_contain_each_value(src: Source) -> None:
    for contact, ev in zip(src.json["contacts"], src.json["evidence"]["contacts"], strict=True):
        assert ev["role"], "each contact records the line of its role marker"
        for field in ("name", "title", "department", "email"):
            if contact[field] is not None:
                assert squash(contact[field]) in squash(src.joined(ev[field])), field
            else:
                assert ev[field] == []
        if contact["phone"] is not None:
            assert phone_in(contact["phone"], src.joined(ev["phone"]))


def test_every_right_line_names_that_right(src: Source) -> None:
    rights = src.json["evidence"]["rights"]
    assert list(rights) == src.json["rights"]
    for right, numbers in rights.items():
        for n in numbers:
            assert RIGHT_PATTERNS[right].search(src.lines[n - 1]), (right, n)


def test_channel_values_sit_on_their_lines(src: Source) -> None:
    kinds = []
    for channel in src.json["evidence"]["channels"]:
        kinds.append(channel["kind"])
        text = src.joined(channel["lines"])
        if channel["kind"] == "phone":
            assert phone_in(channel["value"], text)
        else:
            assert squash(channel["value"]) in squash(text)
    assert sorted(set(kinds)) == sorted(src.json["channels"])


def test_retention_lines_contain_item_period_and_basis(src: Source) -> None:
    for item, ev in zip(src.json["retention"], src.json["evidence"]["retention"], strict=True):
        assert squash(item["item"]) in squash(src.joined(ev["item"]))
        assert squash(item["period"]) in squash(src.joined(ev["period"]))
        if item["basis"] is not None:
            assert squash(item["basis"]) in squash(src.joined(ev["basis"]))


def test_complaint_body_lines_name_the_body_and_hold_its_host_and_number(src: Source) -> None:
    specs = {spec.canonical: spec for spec in BODIES}
    for body, ev in zip(src.json["complaint_bodies"], src.json["evidence"]["complaint_bodies"], strict=True):
        spec = specs[body["name"].split()[0]]
        assert spec.pattern.search(src.joined(ev["name"]))
        if body["url"]:
            assert body["url"] in src.joined(ev["url"]).lower()
        if body["phone"]:
            assert phone_in(body["phone"], src.joined(ev["phone"]))


def test_date_lines_contain_the_date(src: Source) -> None:
    for key, value in src.json["dates"].items():
        numbers = src.json["evidence"]["dates"][key]
        if value is None:
            assert numbers == []
            continue
        year, month, day = value.split("-")
        assert re.search(rf"{year}\D+0?{int(month)}\D+0?{int(day)}", src.joined(numbers))
