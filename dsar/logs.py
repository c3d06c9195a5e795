"""The processes' logs: one JSON object per line, masked on the way out, never personal data.

Every handler the product owns (the CLI and `dsar serve`, the Celery worker and its tasks) gets `PiiLogFilter`
(주민등록번호, card, passport, licence, account numbers and e-mail addresses masked in the message and in
tracebacks) and, with `DSAR_LOG_FORMAT=json` (the default), `JsonFormatter`. A record can carry the ids it
concerns as extras (`log.info("...", extra={"case": "DSAR-2026-000123"})`); they become fields of the line.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from dsar.pii import PiiLogFilter
from dsar.settings import get_settings

CONTEXT = ("case", "inbound_id", "notice_id", "org", "task_id")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_OURS = "_dsar_handler"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage(),
        }
        entry.update({key: getattr(record, key) for key in CONTEXT if getattr(record, key, None) is not None})
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["error"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


def formatter() -> logging.Formatter:
    return JsonFormatter() if get_settings().log_format == "json" else logging.Formatter(TEXT_FORMAT)


def guard(handler: logging.Handler) -> logging.Handler:
    """Mask what the handler writes and give it our format (once)."""
    if not any(isinstance(f, PiiLogFilter) for f in handler.filters):
        handler.addFilter(PiiLogFilter())
    handler.setFormatter(formatter())
    return handler


def configure(level: int | str = logging.INFO) -> None:
    """Our handler on the root logger (stderr); calling it again replaces it, never adds a second."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _OURS, False)]:
        root.removeHandler(handler)
    handler = guard(logging.StreamHandler())
    setattr(handler, _OURS, True)
    root.addHandler(handler)
    root.setLevel(level)


def guard_logger(logger: logging.Logger) -> None:
    """Guard every handler a library set up on this logger (Celery's worker and task loggers)."""
    for handler in logger.handlers:
        guard(handler)
