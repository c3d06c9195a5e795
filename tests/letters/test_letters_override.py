"""An organisation's template folder: its files win, everything else falls back to templates/."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from dsar.errors import InvalidInput, NotFound
from dsar.letters import NOTICE_KINDS, render_notice
from dsar.letters.render import DEFAULT_TEMPLATES_DIR, RELOAD_CHECK_SECONDS
from dsar.letters.samples import sample_context


def _write(root: Path, name: str, text: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_an_overriding_file_wins_and_its_twin_and_other_kinds_fall_back(tmp_path):
    _write(
        tmp_path,
        "letters/access_notice.html.j2",
        '{% extends "base/letter.html.j2" %}{% block body %}<p>한빛마켓 전용 안내: '
        "{{ decision.access.method }}</p>{% endblock %}",
    )
    default = render_notice("access_notice", sample_context("access_notice"))
    custom = render_notice("access_notice", sample_context("access_notice"), override_dir=tmp_path)
    assert "한빛마켓 전용 안내: 방문 열람" in custom.html
    assert "<h1>개인정보 열람 통지서</h1>" in custom.html  # the shared layout still comes from templates/
    assert custom.text == default.text  # the .txt.j2 was not overridden
    assert custom.template_version != default.template_version
    other = render_notice("suspension_result", sample_context("suspension_result"), override_dir=tmp_path)
    assert other == render_notice("suspension_result", sample_context("suspension_result"))


def test_overriding_a_shared_file_changes_the_version_of_every_notice_using_it(tmp_path):
    _write(tmp_path, "base/style.css", "body { font-family: serif; }\n")
    for kind in NOTICE_KINDS:
        default = render_notice(kind, sample_context(kind))
        custom = render_notice(kind, sample_context(kind), override_dir=tmp_path)
        assert "font-family: serif" in custom.html
        assert custom.text == default.text
        assert custom.template_version != default.template_version


def test_an_override_can_change_the_subject(tmp_path):
    _write(
        tmp_path,
        "email/acknowledgement.txt.j2",
        "{% set subject %}[{{ case.number }}] 요청을 잘 받았습니다{% endset %}접수번호 {{ case.number }}\n",
    )
    rendered = render_notice("acknowledgement", sample_context("acknowledgement"), override_dir=tmp_path)
    assert rendered.subject == "[DSAR-2026-000123] 요청을 잘 받았습니다"
    assert "<title>[DSAR-2026-000123] 요청을 잘 받았습니다</title>" in rendered.html


def test_a_template_dir_can_replace_the_repositorys(tmp_path):
    _write(tmp_path, "email/daily_digest.txt.j2", "{% set subject %}현황{% endset %}{{ cases|length }}건\n")
    _write(tmp_path, "email/daily_digest.html.j2", "<p>{{ cases|length }}건</p>\n")
    rendered = render_notice("daily_digest", sample_context("daily_digest"), templates_dir=tmp_path)
    assert (rendered.subject, rendered.text, rendered.html) == ("현황", "5건\n", "<p>5건</p>\n")
    with pytest.raises(NotFound, match="letters/access_notice.txt.j2"):
        render_notice("access_notice", sample_context("access_notice"), templates_dir=tmp_path)


def test_a_template_using_an_unknown_name_fails_with_the_kind(tmp_path):
    _write(tmp_path, "letters/access_notice.txt.j2", "{% set subject %}x{% endset %}{{ case.fax_number }}\n")
    with pytest.raises(InvalidInput, match="access_notice.*fax_number"):
        render_notice("access_notice", sample_context("access_notice"), override_dir=tmp_path)


def test_a_template_printing_an_empty_optional_field_fails_instead_of_printing_none(tmp_path):
    _write(
        tmp_path, "letters/access_notice.txt.j2", "{% set subject %}x{% endset %}{{ decision.recipient }}\n"
    )
    with pytest.raises(InvalidInput, match="printed None"):
        render_notice("access_notice", sample_context("access_notice"), override_dir=tmp_path)


def test_a_text_template_without_a_subject_is_refused(tmp_path):
    _write(tmp_path, "letters/access_notice.txt.j2", "본문만 있습니다.\n")
    with pytest.raises(InvalidInput, match="subject"):
        render_notice("access_notice", sample_context("access_notice"), override_dir=tmp_path)


def test_editing_a_template_on_disk_is_picked_up_with_a_new_version(tmp_path):
    _write(tmp_path, "email/reminder.txt.j2", "{% set subject %}v1{% endset %}첫 번째\n")
    first = render_notice("reminder", sample_context("reminder"), override_dir=tmp_path)
    path = tmp_path / "email/reminder.txt.j2"
    path.write_text("{% set subject %}v2{% endset %}두 번째\n", encoding="utf-8")
    stat = path.stat()
    import os

    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))  # a clearly newer mtime
    at_once = render_notice("reminder", sample_context("reminder"), override_dir=tmp_path)
    time.sleep(RELOAD_CHECK_SECONDS + 0.05)  # files are looked at once a second, not at every notice
    second = render_notice("reminder", sample_context("reminder"), override_dir=tmp_path)
    assert (first.subject, at_once.subject, second.subject) == ("v1", "v1", "v2")
    assert first.template_version == at_once.template_version != second.template_version


def test_every_kind_has_both_files_in_the_repository():
    for spec in NOTICE_KINDS.values():
        for ext in (".txt.j2", ".html.j2"):
            assert (DEFAULT_TEMPLATES_DIR / f"{spec.template}{ext}").is_file(), spec.template


def _with_note(note: str):  # type: ignore[no-untyped-def]
    import json

    from dsar.letters import NoticeContext

    data = json.loads(sample_context("acknowledgement").to_json())
    return NoticeContext.from_dict({**data, "decision": {**(data.get("decision") or {}), "note": note}})


NOTE = "처음 보내 드린 접수 확인에는 요구 종류가 '개인정보 열람 요구'로 적혀 있었습니다.\n바로잡습니다."


def test_an_acknowledgement_override_that_leaves_out_the_correction_note_is_refused(tmp_path):
    default = render_notice("acknowledgement", _with_note(NOTE))
    assert NOTE.splitlines()[0] in default.text  # the repository's template prints it
    _write(tmp_path, "email/acknowledgement.txt.j2",
           "{% set subject %}[{{ case.number }}] 접수 확인{% endset %}접수번호 {{ case.number }}\n")
    with pytest.raises(InvalidInput, match="decision.note"):  # a corrected 접수 확인 that reads like the first
        render_notice("acknowledgement", _with_note(NOTE), override_dir=tmp_path)
    assert render_notice("acknowledgement", sample_context("acknowledgement"), override_dir=tmp_path).text
    _write(tmp_path, "email/acknowledgement.txt.j2",
           "{% set subject %}[{{ case.number }}] 접수 확인{% endset %}{% if decision and decision.note %}"
           "{{ decision.note }}\n{% endif %}접수번호 {{ case.number }}\n")
    time.sleep(RELOAD_CHECK_SECONDS + 0.1)  # the edited file is read again after the reload check
    assert NOTE.splitlines()[0] in render_notice("acknowledgement", _with_note(NOTE), override_dir=tmp_path).text
