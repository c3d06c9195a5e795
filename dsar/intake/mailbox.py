"""Taking mail from a mailbox: a Maildir on disk, or a folder on an IMAP server.

Both pollers follow the intake rule: a message is stored (and committed) before the mailbox is told it was
taken, so a crash in between loses nothing; it only means the message is seen again on the next poll, and then
it is recognised (same Message-ID, or the same bytes from the same source) and not stored a second time.

- **Maildir**: every message in new/ and cur/ is stored with source "maildir", then moved into the
  `.dsar-taken` subfolder (marked seen). What is in the subfolder is never looked at again.
- **IMAP**: the messages with a UID above the last one taken (kept per account and folder in Redis, reset when
  the folder's UIDVALIDITY changes) that do not carry the `$DsarTaken` keyword are fetched with BODY.PEEK
  (which leaves them unread), stored with source "imap", then flagged `\\Seen $DsarTaken`. UNSEEN alone is
  not trusted: a person reading the mailbox in a mail client marks messages seen before we poll.

Polling takes the messages; processing them is the intake queue's job (`tasks.mailbox.poll` queues them).
"""

from __future__ import annotations

import hashlib
import imaplib
import logging
import mailbox
import os
import re
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sqlmodel import select

from dsar.clock import Clock
from dsar.db import session_scope
from dsar.errors import ServiceUnavailable
from dsar.intake import service
from dsar.models import InboundMessage
from dsar.settings import Settings

log = logging.getLogger(__name__)
TAKEN_FOLDER = "dsar-taken"  # Maildir++ folder: <maildir>/.dsar-taken
TAKEN_KEYWORD = "$DsarTaken"


@dataclass(frozen=True)
class Taken:
    """One message taken from a mailbox: its row, whether this poll stored it, and its place in the mailbox."""

    inbound_id: int
    created: bool
    status: str
    ref: str  # the Maildir key or the IMAP UID


def store_once(raw: bytes, *, source: str, clock: Clock) -> tuple[InboundMessage, bool]:
    """Store and commit, unless the same bytes already came from the same source (a message without
    Message-ID seen again after a crash between storing and marking it taken)."""
    digest = hashlib.sha256(raw).hexdigest()
    with session_scope() as session:
        existing = session.exec(
            select(InboundMessage).where(InboundMessage.sha256 == digest, InboundMessage.source == source)
        ).first()
        if existing is not None:
            return existing, False
        return service.store(session, raw, source=source, clock=clock)


# -- Maildir --------------------------------------------------------------------------------------------------


def poll_maildir(path: Path, *, clock: Clock, limit: int = 500) -> list[Taken]:
    """Take up to `limit` messages from the Maildir at `path` (oldest key first)."""
    if not (path / "new").is_dir() or not (path / "cur").is_dir():
        raise ServiceUnavailable(f"Maildir {path}에 new/와 cur/ 폴더가 없습니다: DSAR_MAILDIR_PATH를 확인하세요 "
                                 "(not a Maildir)", path=str(path))
    box = mailbox.Maildir(path, factory=None, create=False)
    if TAKEN_FOLDER not in box.list_folders():
        box.add_folder(TAKEN_FOLDER)
    taken_cur = path / f".{TAKEN_FOLDER}" / "cur"  # Maildir++ names a folder's directory with a leading dot
    out: list[Taken] = []
    for key in sorted(box.keys())[:limit]:
        try:
            meta = box.get_message(key)
            raw = box.get_bytes(key)
        except (KeyError, FileNotFoundError):  # another poller took it meanwhile
            continue
        inbound, created = store_once(raw, source="maildir", clock=clock)
        info = meta.get_info()
        source = path / meta.get_subdir() / (key + (box.colon + info if info else ""))
        flags = "".join(sorted(set(meta.get_flags()) | {"S"}))
        try:
            os.replace(source, taken_cur / f"{key}{box.colon}2,{flags}")
        except FileNotFoundError:
            continue  # moved by another poller after we stored it: that poller reports it
        out.append(Taken(inbound.id or 0, created, inbound.status, key))
    return out


# -- IMAP -----------------------------------------------------------------------------------------------------


class UidState(Protocol):
    """Where the IMAP poller remembers the last UID it took, per account and folder."""

    def get(self, mailbox_key: str) -> tuple[int, int] | None: ...  # (uidvalidity, last uid)

    def set(self, mailbox_key: str, uidvalidity: int, last_uid: int) -> None: ...


class RedisUidState:
    """The IMAP poller's memory in Redis (the broker): one small hash per account and folder."""

    def __init__(self, client: object, prefix: str = "dsar:imap:") -> None:
        self.client, self.prefix = client, prefix

    def get(self, mailbox_key: str) -> tuple[int, int] | None:
        data = self.client.hgetall(self.prefix + mailbox_key)  # type: ignore[attr-defined]
        if not data:
            return None
        return int(data[b"uidvalidity"]), int(data[b"last_uid"])

    def set(self, mailbox_key: str, uidvalidity: int, last_uid: int) -> None:
        self.client.hset(self.prefix + mailbox_key,  # type: ignore[attr-defined]
                         mapping={"uidvalidity": uidvalidity, "last_uid": last_uid})


@dataclass(frozen=True)
class ImapAccount:
    host: str
    port: int
    user: str
    password: str
    ssl: bool = True
    folder: str = "INBOX"

    @classmethod
    def from_settings(cls, s: Settings) -> ImapAccount:
        return cls(s.imap_host, s.imap_port, s.imap_user, s.imap_password, s.imap_ssl, s.imap_folder or "INBOX")

    @property
    def key(self) -> str:
        return f"{self.user}@{self.host}:{self.port}/{self.folder}"


def _connect(account: ImapAccount) -> imaplib.IMAP4:
    conn: imaplib.IMAP4 | None = None
    try:
        if account.ssl:
            context = ssl.create_default_context()
            conn = imaplib.IMAP4_SSL(account.host, account.port, ssl_context=context, timeout=30)
        else:
            conn = imaplib.IMAP4(account.host, account.port, timeout=30)
        conn.login(account.user, account.password)
    except (OSError, imaplib.IMAP4.error) as exc:
        if conn is not None:
            conn.shutdown()
        raise ServiceUnavailable(
            f"IMAP 서버 {account.host}:{account.port}에 접속하거나 로그인할 수 없습니다: {exc}. DSAR_IMAP_* 설정을 "
            "확인하세요 (IMAP connection or login failed)", host=account.host,
        ) from exc
    return conn


def _check(typ: str, data: list, what: str) -> list:  # type: ignore[type-arg]
    if typ != "OK":
        detail = b" ".join(d for d in data if isinstance(d, bytes)).decode("utf-8", "replace")
        raise ServiceUnavailable(f"IMAP {what} 실패: {detail} (IMAP {what} failed)")
    return data


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _number(response: list) -> int:  # type: ignore[type-arg]
    match = re.search(rb"\d+", response[0] if response and isinstance(response[0], bytes) else b"")
    return int(match.group(0)) if match else 0


def poll_imap(account: ImapAccount, *, clock: Clock, state: UidState, limit: int = 200) -> list[Taken]:
    """Take up to `limit` new messages from the account's folder, oldest UID first."""
    conn = _connect(account)
    out: list[Taken] = []
    try:
        _check(*conn.select(_quote(account.folder)), f"SELECT {account.folder}")
        uidvalidity = _number(conn.response("UIDVALIDITY")[1])
        permanent = b" ".join(x for x in conn.response("PERMANENTFLAGS")[1] if isinstance(x, bytes))
        keywords = b"\\*" in permanent or TAKEN_KEYWORD.encode() in permanent
        saved = state.get(account.key)
        last = saved[1] if saved and saved[0] == uidvalidity else 0
        criteria = ["UID", f"{last + 1}:*"] + (["NOT", "KEYWORD", TAKEN_KEYWORD] if keywords else [])
        found = _check(*conn.uid("SEARCH", *criteria), "UID SEARCH")
        uids = sorted(u for u in (int(x) for x in (found[0] or b"").split()) if u > last)[:limit]
        flags = f"(\\Seen {TAKEN_KEYWORD})" if keywords else "(\\Seen)"
        for uid in uids:
            data = _check(*conn.uid("FETCH", str(uid), "(BODY.PEEK[])"), "UID FETCH")
            raw = next((part[1] for part in data if isinstance(part, tuple) and len(part) == 2), None)
            if raw is None:  # expunged meanwhile
                continue
            inbound, created = store_once(raw, source="imap", clock=clock)
            _check(*conn.uid("STORE", str(uid), "+FLAGS.SILENT", flags), "UID STORE")
            state.set(account.key, uidvalidity, uid)
            out.append(Taken(inbound.id or 0, created, inbound.status, str(uid)))
    except (OSError, imaplib.IMAP4.error) as exc:
        raise ServiceUnavailable(f"IMAP 연결이 끊겼습니다: {exc} (IMAP connection lost); 가져온 메일은 보관되었고 "
                                 "나머지는 다음 확인 때 가져옵니다", taken=len(out)) from exc
    finally:
        try:
            conn.logout()
        except (OSError, imaplib.IMAP4.error):
            pass
    return out
