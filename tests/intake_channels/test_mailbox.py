"""Mailbox polling: a real Maildir in tmp_path and a real IMAP server (a private Dovecot). Every message is
stored before it is marked taken, never taken twice, and a crash between the two loses and doubles nothing."""

from __future__ import annotations

import hashlib
import mailbox as stdlib_mailbox
import os
import re
from pathlib import Path

import pytest

from dsar.clock import SystemClock
from dsar.errors import ServiceUnavailable
from dsar.intake import mailbox
from tests.intake_channels.helpers import all_cases, all_inbound, message, wait_until

CLOCK = SystemClock()


def _maildir(path: Path) -> stdlib_mailbox.Maildir:
    return stdlib_mailbox.Maildir(path, create=True)


def _names(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def test_maildir_messages_in_new_and_cur_are_stored_raw_and_moved_to_the_taken_folder(db: str, tmp_path: Path) -> None:
    box = _maildir(tmp_path / "Maildir")
    fresh = message(message_id="<md-1@example.com>")
    key_new = box.add(fresh)
    seen = stdlib_mailbox.MaildirMessage(message(message_id="<md-2@example.com>", subject="삭제 요청"))
    seen.set_subdir("cur")
    seen.add_flag("F")
    key_cur = box.add(seen)

    taken = mailbox.poll_maildir(tmp_path / "Maildir", clock=CLOCK)
    assert sorted(t.ref for t in taken) == sorted([key_new, key_cur]) and all(t.created for t in taken)
    stored = {m.message_id: m for m in all_inbound()}
    assert set(stored) == {"md-1@example.com", "md-2@example.com"}
    assert stored["md-1@example.com"].raw == fresh and stored["md-1@example.com"].source == "maildir"
    assert stored["md-1@example.com"].status == "stored"  # taking is not processing: the intake queue does that

    root = tmp_path / "Maildir"
    assert _names(root / "new") == [] and _names(root / "cur") == []
    moved = _names(root / ".dsar-taken" / "cur")
    assert sorted(n.split(":")[0] for n in moved) == sorted([key_new, key_cur])
    assert all(re.search(r":2,[A-Z]*S", n) for n in moved) and any(n.endswith(":2,FS") for n in moved)
    assert (root / ".dsar-taken" / "cur" / f"{key_new}:2,S").read_bytes() == fresh

    assert mailbox.poll_maildir(root, clock=CLOCK) == []  # nothing is taken twice
    assert len(all_inbound()) == 2


def test_maildir_message_put_back_after_a_crash_is_not_stored_again(db: str, tmp_path: Path) -> None:
    root = tmp_path / "Maildir"
    box = _maildir(root)
    no_id = message(message_id=None, body="메시지 ID가 없는 요청입니다. 제 정보를 열람하고 싶습니다.")
    with_id = message(message_id="<md-3@example.com>")
    box.add(no_id)
    box.add(with_id)
    assert len(mailbox.poll_maildir(root, clock=CLOCK)) == 2
    # A crash after storing and before moving leaves the files where they were: simulate it with copies.
    box.add(no_id)
    box.add(with_id)
    again = mailbox.poll_maildir(root, clock=CLOCK)
    assert len(again) == 2 and not any(t.created for t in again)
    assert len(all_inbound()) == 2 and _names(root / "new") == []
    assert len(_names(root / ".dsar-taken" / "cur")) == 4


def test_a_path_that_is_not_a_maildir_is_a_clear_error(db: str, tmp_path: Path) -> None:
    with pytest.raises(ServiceUnavailable, match="Maildir"):
        mailbox.poll_maildir(tmp_path / "nowhere", clock=CLOCK)


def test_the_beat_task_polls_the_maildir_and_a_real_worker_opens_the_cases(
    db: str, testorg: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redis_db,  # type: ignore[no-untyped-def]
    request: pytest.FixtureRequest,
) -> None:
    root = tmp_path / "Maildir"
    box = _maildir(root)
    for i in range(3):
        box.add(message(message_id=f"<beat-{i}@example.com>", sender=f"user{i}@example.com"))
    monkeypatch.setenv("DSAR_MAILDIR_PATH", str(root))
    from dsar.settings import get_settings

    get_settings.cache_clear()
    request.getfixturevalue("celery_worker_process")  # started now, so it inherits DSAR_MAILDIR_PATH
    from tasks import app
    from tasks.mailbox import poll

    app.conf.task_always_eager = False
    try:
        poll.delay()  # what beat sends every DSAR_POLL_SECONDS
        wait_until(lambda: len(all_cases()) == 3, timeout=60, what="three cases from the Maildir")
    finally:
        app.conf.task_always_eager = True
    assert {m.source for m in all_inbound()} == {"maildir"} and _names(root / "new") == []
    assert {c.requester_email for c in all_cases()} == {f"user{i}@example.com" for i in range(3)}


def test_the_poll_task_runs_once_at_a_time(db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           redis_db) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "Maildir"
    _maildir(root).add(message())
    monkeypatch.setenv("DSAR_MAILDIR_PATH", str(root))
    from dsar.settings import get_settings

    get_settings.cache_clear()
    from tasks.mailbox import poll

    held = redis_db.lock("dsar:mailbox:poll", timeout=30)
    assert held.acquire(blocking=False)
    assert poll() == {"skipped": 1} and all_inbound() == []
    held.release()
    assert poll() == {"maildir": 1} and len(all_inbound()) == 1


# -- IMAP against a real server ---------------------------------------------------------------------------------


def _account(server) -> mailbox.ImapAccount:  # type: ignore[no-untyped-def]
    return mailbox.ImapAccount(server.host, server.port, server.user, server.password, ssl=False)


def _flags(server) -> dict[int, bytes]:  # type: ignore[no-untyped-def]
    conn = server.connect()
    try:
        conn.select("INBOX")
        typ, data = conn.uid("FETCH", "1:*", "(FLAGS)")
        out = {}
        for line in data:
            if isinstance(line, bytes) and b"UID" in line:
                out[int(re.search(rb"UID (\d+)", line).group(1))] = re.search(rb"FLAGS \(([^)]*)\)", line).group(1)
        return out
    finally:
        conn.logout()


def test_imap_messages_are_stored_then_flagged_taken_and_never_taken_twice(
    db: str, dovecot, redis_db  # type: ignore[no-untyped-def]
) -> None:
    state = mailbox.RedisUidState(redis_db)
    first, second = message(message_id="<imap-1@example.com>"), message(message_id="<imap-2@example.com>")
    dovecot.append(first)
    dovecot.append(second)

    taken = mailbox.poll_imap(_account(dovecot), clock=CLOCK, state=state)
    assert [t.ref for t in taken] == ["1", "2"] and all(t.created for t in taken)
    rows = all_inbound()
    assert [r.raw for r in rows] == [first, second] and {r.source for r in rows} == {"imap"}
    flags = _flags(dovecot)
    assert all(b"\\Seen" in f and b"$DsarTaken" in f for f in flags.values())
    assert state.get(_account(dovecot).key)[1] == 2

    assert mailbox.poll_imap(_account(dovecot), clock=CLOCK, state=state) == []
    third = message(message_id="<imap-3@example.com>", subject="처리정지 요청")
    dovecot.append(third)
    later = mailbox.poll_imap(_account(dovecot), clock=CLOCK, state=state)
    assert [t.ref for t in later] == ["3"] and all_inbound()[-1].raw == third
    assert len(all_inbound()) == 3


def test_imap_leaves_messages_unread_until_they_are_stored(db: str, dovecot, redis_db) -> None:  # type: ignore[no-untyped-def]
    """A message someone already read in a mail client is still taken: UNSEEN alone is not trusted."""
    dovecot.append(message(message_id="<read-by-a-person@example.com>"))
    conn = dovecot.connect()
    conn.select("INBOX")
    conn.uid("STORE", "1", "+FLAGS", "(\\Seen)")
    conn.logout()
    taken = mailbox.poll_imap(_account(dovecot), clock=CLOCK, state=mailbox.RedisUidState(redis_db))
    assert len(taken) == 1 and all_inbound()[0].message_id == "read-by-a-person@example.com"


def test_imap_after_a_crash_or_a_lost_state_stores_nothing_twice(db: str, dovecot, redis_db) -> None:  # type: ignore[no-untyped-def]
    state = mailbox.RedisUidState(redis_db)
    no_id = message(message_id=None, body="ID 없는 메일입니다. 제 개인정보를 삭제해 주세요.")
    dovecot.append(no_id)
    dovecot.append(message(message_id="<imap-crash@example.com>"))
    assert len(mailbox.poll_imap(_account(dovecot), clock=CLOCK, state=state)) == 2
    # Crash between storing and flagging: the flags and the remembered UID are gone, the rows are not.
    conn = dovecot.connect()
    conn.select("INBOX")
    conn.uid("STORE", "1:*", "-FLAGS", "(\\Seen $DsarTaken)")
    conn.logout()
    redis_db.flushdb()
    again = mailbox.poll_imap(_account(dovecot), clock=CLOCK, state=state)
    assert len(again) == 2 and not any(t.created for t in again)
    assert len(all_inbound()) == 2 and all(b"$DsarTaken" in f for f in _flags(dovecot).values())
    assert {r.sha256 for r in all_inbound()} >= {hashlib.sha256(no_id).hexdigest()}


def test_imap_with_a_wrong_password_is_a_clear_error(db: str, dovecot, redis_db) -> None:  # type: ignore[no-untyped-def]
    account = mailbox.ImapAccount(dovecot.host, dovecot.port, dovecot.user, "wrong", ssl=False)
    with pytest.raises(ServiceUnavailable, match="IMAP"):
        mailbox.poll_imap(account, clock=CLOCK, state=mailbox.RedisUidState(redis_db))
    assert all_inbound() == []


def test_the_poll_task_takes_imap_mail_and_the_intake_queue_opens_the_cases(
    db: str, testorg: int, dovecot, redis_db, smtp_server, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    for name, value in {"IMAP_HOST": dovecot.host, "IMAP_PORT": str(dovecot.port), "IMAP_USER": dovecot.user,
                        "IMAP_PASSWORD": dovecot.password, "IMAP_SSL": "false"}.items():
        monkeypatch.setenv(f"DSAR_{name}", value)
    from dsar.settings import get_settings

    get_settings.cache_clear()
    from tasks.mailbox import poll

    dovecot.append(message(message_id="<imap-task@example.com>", sender="task.user@example.com"))
    assert poll() == {"imap": 1}  # tasks run inline in tests: taken, queued, processed, acknowledged
    (case,) = all_cases()
    assert case.requester_email == "task.user@example.com" and case.right == "열람"
    assert all_inbound()[0].source == "imap" and all_inbound()[0].status == "processed"
    assert len(smtp_server.wait_for(1)) == 1
    assert poll() == {"imap": 0}
