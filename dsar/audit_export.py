"""Audit events as a file (JSON lines or CSV) for a range of Korean calendar days, an organisation or a case.

The CLI (`dsar audit export`) and the API (`GET /api/audit/export`) write the same format. Each line carries
every field of its event, `at` exactly as hashed, with `prev_hash` and `hash`, in chain order: a reader can
recompute every hash without the database, and follow the link wherever an event's predecessor is in the file
(a whole chain exported links from the first event to the last; an anchor vouches for any event it names).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy.sql import Select
from sqlmodel import Session, col, select

from dsar import audit
from dsar.calendar_kr import KST
from dsar.db import get_engine
from dsar.errors import InvalidInput
from dsar.models import AuditEvent

FORMATS = ("jsonl", "csv")


@dataclass(frozen=True)
class ExportFilter:
    chains: list[str] | None = None  # None: every chain
    request_id: int | None = None
    since: date | None = None  # first Korean day, inclusive
    until: date | None = None  # last Korean day, inclusive

    def __post_init__(self) -> None:
        if self.since and self.until and self.since > self.until:
            raise InvalidInput(f"기간의 시작({self.since})이 끝({self.until})보다 늦습니다 (from is after to)",
                               field="from")

    def query(self) -> Select[Any]:
        query = select(AuditEvent).order_by(col(AuditEvent.chain), col(AuditEvent.seq))
        if self.chains is not None:
            query = query.where(col(AuditEvent.chain).in_(self.chains))
        if self.request_id is not None:
            query = query.where(col(AuditEvent.request_id) == self.request_id)
        if self.since:
            query = query.where(col(AuditEvent.at) >= datetime.combine(self.since, time(0), KST))
        if self.until:
            query = query.where(col(AuditEvent.at) < datetime.combine(self.until + timedelta(days=1), time(0), KST))
        return query

    def details(self, fmt: str, case: str | None = None) -> dict[str, Any]:
        """What the `audit.exported` event records about this export."""
        return {"format": fmt, "chains": self.chains or "all", "case": case,
                "from": self.since.isoformat() if self.since else None,
                "to": self.until.isoformat() if self.until else None}


def parse_day(value: str | None, option: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{option} {value!r}은(는) 날짜가 아닙니다: 2026-11-01처럼 쓰세요 (expected YYYY-MM-DD)",
                           field=option) from None


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise InvalidInput(f"형식 {fmt!r}은(는) 지원하지 않습니다: jsonl 또는 csv (format must be jsonl or csv)",
                           field="format")
    return fmt


def lines(query: Select[Any], fmt: str) -> Iterator[str]:
    """The file, line by line, read in batches from a session of its own (an API response streams after the
    request's session is closed). CSV starts with a BOM so spreadsheet programs read the Korean as UTF-8."""
    with Session(get_engine()) as session:
        if fmt == "csv":
            yield "\ufeff" + _csv_line(audit.EXPORT_FIELDS)
        for e in session.exec(query.execution_options(yield_per=500)):
            row = audit.as_hashed(e)
            if fmt == "jsonl":
                yield json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n"
            else:
                row["details"] = json.dumps(row["details"], ensure_ascii=False, sort_keys=True)
                yield _csv_line([row[k] for k in audit.EXPORT_FIELDS])


def _csv_line(values: Any) -> str:
    buf = io.StringIO()
    csv.writer(buf).writerow(values)
    return buf.getvalue()
