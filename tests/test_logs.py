"""Process logs: JSON lines, ids as fields, personal data masked (CLI/API root handler and Celery's loggers)."""

from __future__ import annotations

import io
import json
import logging

import pytest

from dsar import logs
from dsar.settings import get_settings

RRN = "900101-1234567"
EMAIL = "hong.gildong@example.com"


@pytest.fixture(autouse=True)
def _restore_root():  # type: ignore[no-untyped-def]
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_root_handler_writes_json_lines_with_ids_and_masks_personal_data(capsys: pytest.CaptureFixture) -> None:
    logs.configure()
    logs.configure()  # again: still one handler of ours
    assert sum(1 for h in logging.getLogger().handlers if getattr(h, "_dsar_handler", False)) == 1
    log = logging.getLogger("dsar.test")
    log.warning("request from %s with 주민등록번호 %s", EMAIL, RRN, extra={"case": "DSAR-2026-000123", "inbound_id": 7})
    try:
        raise ValueError(f"bad row for {EMAIL}")
    except ValueError:
        log.exception("processing failed")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    first, second = lines[-2], lines[-1]
    assert first["level"] == "WARNING" and first["logger"] == "dsar.test"
    assert first["case"] == "DSAR-2026-000123" and first["inbound_id"] == 7
    assert RRN not in first["message"] and "1234567" not in first["message"] and EMAIL not in first["message"]
    assert "h***@example.com" in first["message"]
    assert "ValueError" in second["error"] and EMAIL not in second["error"]


def test_text_format_is_still_masked(capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DSAR_LOG_FORMAT", "text")
    get_settings.cache_clear()
    try:
        logs.configure()
        logging.getLogger("dsar.test").warning("call %s", RRN)
        err = capsys.readouterr().err
    finally:
        monkeypatch.delenv("DSAR_LOG_FORMAT")
        get_settings.cache_clear()
    assert "WARNING dsar.test: call" in err and RRN not in err and not err.lstrip().startswith("{")


def test_celery_loggers_are_guarded_when_the_worker_sets_them_up() -> None:
    from celery.signals import after_setup_logger, after_setup_task_logger

    import tasks.app  # noqa: F401  (connects the signal handlers)

    for signal in (after_setup_logger, after_setup_task_logger):
        stream = io.StringIO()
        logger = logging.getLogger(f"celery-test-{signal.name}")
        logger.handlers[:] = [logging.StreamHandler(stream)]
        logger.propagate = False
        signal.send(sender=None, logger=logger, loglevel=logging.INFO, logfile=None, format="", colorize=False)
        logger.error("task for %s failed", EMAIL)
        line = json.loads(stream.getvalue().splitlines()[-1])
        assert EMAIL not in line["message"] and "h***@example.com" in line["message"]
