"""Signed checkpoints of the audit chains, kept outside the database.

`audit.verify` finds any edit, deletion, insertion or reordering inside a chain, but whoever can write the
database can also rewrite a whole tail: change an event and recompute every hash after it (and the head). An
anchor records every chain's last event (chain, seq, hash) at one moment, signed with an HMAC key that is not in
the database, and is appended to a JSON-lines file outside it (`anchor_dir/anchors.jsonl`). Each anchored event
must keep its anchored hash, so a rewrite of anything up to the last anchor is found, and so is a chain whose
events were all deleted. Each anchor carries its number and the previous anchor's MAC, so a line removed from
the file is found too. Lines removed from the end of the file are not: send each anchor elsewhere as well
(`dsar audit anchor` prints it, `dsar audit verify --anchors` checks against such a copy) and make the file
append-only (`chattr +a`).
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import and_, func
from sqlmodel import Session, col, select

from dsar import audit
from dsar.clock import Clock
from dsar.errors import DsarError
from dsar.models import AuditEvent
from dsar.settings import get_settings

log = logging.getLogger(__name__)
FILE_NAME = "anchors.jsonl"
FIRST_PREV = "0" * 64
AT_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class Anchor:
    """One line of the anchor log; `mac` is HMAC-SHA256 over the other fields in canonical JSON."""

    n: int
    at: str
    heads: list[dict[str, Any]]  # [{"chain", "seq", "hash"}] in chain order
    prev: str
    mac: str = ""

    def body(self) -> bytes:
        data = {"n": self.n, "at": self.at, "heads": self.heads, "prev": self.prev}
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    def line(self) -> str:
        data = {"n": self.n, "at": self.at, "heads": self.heads, "prev": self.prev, "mac": self.mac}
        return json.dumps(data, sort_keys=True, ensure_ascii=False)

    def signed(self, key: bytes) -> Anchor:
        return Anchor(self.n, self.at, self.heads, self.prev, hmac.new(key, self.body(), hashlib.sha256).hexdigest())

    @property
    def taken_at(self) -> datetime:
        return datetime.strptime(self.at, AT_FORMAT).replace(tzinfo=UTC)


@dataclass
class AnchorLog:
    """The anchors read back from a file: every one whose signature holds (its heads are authentic), and what
    was wrong with any line."""

    path: Path
    anchors: list[Anchor] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)

    def checkpoints(self) -> list[audit.Checkpoint]:
        return [audit.Checkpoint(h["chain"], h["seq"], h["hash"], a.n) for a in self.anchors for h in a.heads]


def log_path() -> Path:
    return get_settings().anchors_dir / FILE_NAME


def anchor_key() -> bytes:
    """The signing key: DSAR_ANCHOR_KEY, else the key file, else (development only) one derived from secret_key."""
    settings = get_settings()
    if settings.anchor_key:
        return settings.anchor_key.encode()
    path = settings.anchor_key_file
    if path is not None and str(path) not in ("", "."):
        try:
            key = path.read_bytes().strip()
        except OSError as exc:
            raise DsarError(f"앵커 키 파일 {path}을(를) 읽을 수 없습니다: DSAR_ANCHOR_KEY_FILE을 확인하세요 "
                            f"(cannot read the anchor key file: {exc.strerror})") from exc
        if not key:
            raise DsarError(f"앵커 키 파일 {path}이(가) 비어 있습니다 (the anchor key file is empty)")
        return key
    return _development_key(settings.secret_key)


@lru_cache
def _development_key(secret: str) -> bytes:
    log.warning("DSAR_ANCHOR_KEY is not set: audit anchors are signed with a development key derived from "
                "DSAR_SECRET_KEY (refused in production)")
    return hmac.new(secret.encode(), b"dsar audit anchor key (development)", hashlib.sha256).digest()


def heads(session: Session) -> list[dict[str, Any]]:
    """The last event of every chain, read in one statement (one consistent snapshot)."""
    last = (select(AuditEvent.chain, func.max(AuditEvent.seq).label("seq"))
            .group_by(col(AuditEvent.chain)).subquery())
    rows = session.exec(
        select(AuditEvent.chain, AuditEvent.seq, AuditEvent.hash)
        .join(last, and_(col(AuditEvent.chain) == last.c.chain, col(AuditEvent.seq) == last.c.seq))
        .order_by(col(AuditEvent.chain))
    )
    return [{"chain": chain, "seq": seq, "hash": digest} for chain, seq, digest in rows]


def write(session: Session, *, clock: Clock, path: Path | None = None) -> Anchor:
    """Append a signed anchor of every chain head now."""
    with _locked(path or log_path()) as (f, last):
        return _append(f, session, last, clock.now())


def write_if_due(session: Session, *, clock: Clock, every: timedelta, path: Path | None = None) -> Anchor | None:
    """Append an anchor unless the last one is younger than `every` (beat may fire often, or twice)."""
    with _locked(path or log_path()) as (f, last):
        if last is not None and clock.now() - last.taken_at < every:
            return None
        return _append(f, session, last, clock.now())


@contextmanager
def _locked(path: Path) -> Iterator[tuple[BinaryIO, Anchor | None]]:
    """The anchor file opened for appending under an exclusive lock (two writers never take the same number),
    with its last anchor."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+b") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield f, _last_anchor(f, path)


def _append(f: BinaryIO, session: Session, last: Anchor | None, now: datetime) -> Anchor:
    anchor = Anchor(
        n=last.n + 1 if last else 1, at=now.astimezone(UTC).strftime(AT_FORMAT),
        heads=heads(session), prev=last.mac if last else FIRST_PREV,
    ).signed(anchor_key())
    f.write((anchor.line() + "\n").encode())
    f.flush()
    os.fsync(f.fileno())
    return anchor


def _last_anchor(f: BinaryIO, path: Path) -> Anchor | None:
    f.seek(0, os.SEEK_END)
    pos, tail = f.tell(), b""
    while pos > 0 and tail.rstrip(b"\n").count(b"\n") == 0:
        step = min(pos, 1 << 16)
        pos -= step
        f.seek(pos)
        tail = f.read(step) + tail
    line = tail.rstrip(b"\n").rsplit(b"\n", 1)[-1]
    if not line.strip():
        return None
    anchor = _parse(line)
    if anchor is None:
        raise DsarError(f"앵커 기록 {path}의 마지막 줄을 읽을 수 없습니다: 파일을 확인하세요 "
                        "(the last line of the anchor log is unreadable)")
    return anchor


def _parse(line: bytes | str) -> Anchor | None:
    try:
        data = json.loads(line)
        heads = [{"chain": str(h["chain"]), "seq": int(h["seq"]), "hash": str(h["hash"])} for h in data["heads"]]
        datetime.strptime(str(data["at"]), AT_FORMAT)  # a time that does not parse makes the line unreadable
        return Anchor(int(data["n"]), str(data["at"]), heads, str(data["prev"]), str(data["mac"]))
    except (ValueError, KeyError, TypeError):
        return None


def read(path: Path | None = None) -> AnchorLog:
    """Read and check every anchor: readable, signed with our key, numbered and linked without a gap. Every
    signed anchor counts (its heads are authentic); after an unreadable or forged line the count restarts."""
    result = AnchorLog(path or log_path())
    if not result.path.exists():
        return result
    key, expected = anchor_key(), (1, FIRST_PREV)
    with result.path.open("rb") as f:
        fcntl.flock(f, fcntl.LOCK_SH)  # never read a line a writer is halfway through
        lines = f.read().splitlines()
    for number, raw in enumerate(lines, start=1):
        anchor = _parse(raw)
        reason = _fault(anchor, key, expected)
        if reason:
            result.problems.append({"line": number, "anchor": anchor.n if anchor else None, "reason": reason})
        if anchor is None or reason == BAD_SIGNATURE:
            expected = None
        else:
            result.anchors.append(anchor)
            expected = (anchor.n + 1, anchor.mac)
    return result


BAD_SIGNATURE = "서명이 맞지 않습니다 (bad signature: the line was edited or forged, or signed with another key)"


def _fault(anchor: Anchor | None, key: bytes, expected: tuple[int, str] | None) -> str | None:
    if anchor is None:
        return "읽을 수 없는 줄입니다 (unreadable line)"
    if not hmac.compare_digest(anchor.signed(key).mac, anchor.mac):
        return BAD_SIGNATURE
    if expected is None:
        return None
    n, prev = expected
    if anchor.n > n:
        gap = f"#{n}" if anchor.n == n + 1 else f"#{n}~#{anchor.n - 1}"
        return f"앵커 {gap}이(가) 없습니다 (anchors were removed from the file)"
    if anchor.n < n or anchor.prev != prev:
        return f"앵커 #{anchor.n}이(가) 앞 앵커와 이어지지 않습니다 (out of order or copied from elsewhere)"
    return None


def verify(session: Session, path: Path | None = None) -> audit.ChainReport:
    """The chains recomputed and held against every good anchor; problems of the anchor file itself added."""
    anchors = read(path)
    report = audit.verify(session, anchors.checkpoints())
    report.anchors, report.anchor_problems = len(anchors.anchors), anchors.problems
    report.ok = report.ok and not anchors.problems
    return report
