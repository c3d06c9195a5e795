"""Personal data is stored encrypted (SQLite and PostgreSQL), found again by keyed hash, and survives key
rotation; migration 0004 encrypts what earlier versions stored in clear; production refuses development keys."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from pydantic import ValidationError
from sqlalchemy import text
from sqlmodel import SQLModel, select

from dsar import crypto, engine
from dsar.auth.models import Note
from dsar.cli import keys_cmd
from dsar.clock import FixedClock
from dsar.crypto import CryptoError, Keyring, generate_key
from dsar.db import get_engine, session_scope
from dsar.models import InboundMessage, Notice, Organisation, Request
from dsar.settings import get_settings
from tests.cli import dsar_json
from tests.schema import migrate

RECEIVED = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
RAW = "From: 홍길동 <hong.gildong@example.com>\r\nSubject: 열람 요청\r\n\r\n주민번호 900101-1234567\r\n".encode()


def _use_keys(monkeypatch: pytest.MonkeyPatch, *keys: str) -> None:
    monkeypatch.setenv("DSAR_ENCRYPTION_KEYS", ",".join(keys))
    get_settings.cache_clear()


def _open_case(org_id: int, email: str = "Hong.Gildong@Example.com") -> int:
    with session_scope() as s:
        inbound = InboundMessage(source="test", sha256="0" * 64, raw=RAW, summary={"sender": email.lower()})
        s.add(inbound)
        s.flush()
        case = engine.open_case(
            s, org=s.get(Organisation, org_id), right="열람", received_at=RECEIVED, actor="test",
            clock=FixedClock(RECEIVED), inbound_id=inbound.id, requester_email=email, requester_name="홍길동",
            requester_phone="010-1234-5678", subject="열람 요청", details="홍길동의 가입 정보를 보여 주세요",
        )
        s.add(Note(request_id=case.id or 0, author="staff", body="홍길동 님과 통화함"))
        return case.id or 0


def _key_totals() -> dict[str, int]:
    with session_scope() as s:
        return dict(keys_cmd.key_totals(s))


def _raw(sql: str) -> list[tuple]:
    with get_engine().connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def test_personal_data_reads_back_as_written_and_is_stored_encrypted(testorg: int) -> None:
    case_id = _open_case(testorg)
    with session_scope() as s:
        case = s.get(Request, case_id)
        inbound = s.get(InboundMessage, case.inbound_id)
        notice = s.exec(select(Notice).where(Notice.request_id == case_id)).one()
        assert (case.requester_email, case.requester_name, case.requester_phone) == \
            ("Hong.Gildong@Example.com", "홍길동", "010-1234-5678")
        assert case.details == "홍길동의 가입 정보를 보여 주세요" and inbound.raw == RAW
        assert inbound.summary == {"sender": "hong.gildong@example.com"}
        assert notice.recipient == "Hong.Gildong@Example.com" and "홍길동" in notice.text
        assert notice.context["json"] and "홍길동" in notice.context["json"]

    stored = _raw("SELECT requester_email, requester_name, requester_phone, subject, details FROM request")
    stored += _raw("SELECT recipient, subject, html, text, context FROM notice")
    stored += _raw("SELECT summary, problem_message FROM inboundmessage") + _raw("SELECT body FROM note")
    values = [v for row in stored for v in row if v is not None]
    assert len(values) == 12 and all(v.startswith("v1:") for v in values)
    assert not any(clear in v for v in values for clear in ("홍길동", "hong.gildong", "010-1234", "열람"))
    (raw,) = _raw("SELECT raw FROM inboundmessage")[0]
    assert bytes(raw).startswith(b"v1:") and b"900101" not in bytes(raw) and b"hong" not in bytes(raw)


def test_the_lookup_hash_finds_the_same_address_whatever_its_case(testorg: int) -> None:
    first = _open_case(testorg, "Hong.Gildong@Example.com")
    _open_case(testorg, "  hong.gildong@example.COM ")
    _open_case(testorg, "someone.else@example.com")
    with session_scope() as s:
        wanted = crypto.lookup_hash("hong.gildong@example.com")
        found = s.exec(select(Request.id).where(Request.requester_email_hmac == wanted).order_by(Request.id)).all()
        assert len(found) == 2 and found[0] == first
        case = s.get(Request, first)
        case.requester_email = None
        s.add(case)
    assert _raw(f"SELECT requester_email_hmac FROM request WHERE id = {first}") == [(None,)]
    (stored,) = _raw(f"SELECT requester_email_hmac FROM request WHERE id <> {first} ORDER BY id LIMIT 1")[0]
    assert len(stored) == 64 and "hong" not in stored


def test_an_encrypted_column_cannot_be_compared_in_sql_by_mistake() -> None:
    with pytest.raises(CryptoError, match="requester_email_hmac|조회용 해시"):
        select(Request).where(Request.requester_email == "hong@example.com")
    assert "IS NULL" in str(select(Request).where(Request.requester_email.is_(None)))


def test_rotation_moves_every_value_to_the_new_key_and_the_old_key_can_go(
    testorg: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = generate_key(), generate_key()
    _use_keys(monkeypatch, old)
    case_id = _open_case(testorg)
    counts = _key_totals()
    assert counts == {crypto.key_id(old): 13}

    _use_keys(monkeypatch, new, old)  # the new key encrypts, the old one still decrypts
    with session_scope() as s:
        assert s.get(Request, case_id).requester_name == "홍길동"
    assert keys_cmd.rotate(crypto.keyring(), batch=2) == counts[crypto.key_id(old)]
    assert set(_key_totals()) == {crypto.key_id(new)}
    assert keys_cmd.rotate(crypto.keyring(), batch=2) == 0  # a second run finds nothing left to do

    _use_keys(monkeypatch, new)
    with session_scope() as s:
        case = s.get(Request, case_id)
        assert (case.requester_name, s.get(InboundMessage, case.inbound_id).raw) == ("홍길동", RAW)
        assert s.get(Request, case_id).details == "홍길동의 가입 정보를 보여 주세요"

    _use_keys(monkeypatch, generate_key())  # a key the data was never encrypted with
    with session_scope() as s, pytest.raises(CryptoError, match=crypto.key_id(new)):
        s.get(Request, case_id)


def test_an_interrupted_rotation_finishes_when_run_again(testorg: int, monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = generate_key(), generate_key()
    _use_keys(monkeypatch, old)
    for _ in range(3):
        _open_case(testorg)
    _use_keys(monkeypatch, new, old)
    table, column = next((t, c) for t, c in keys_cmd.encrypted_columns() if c.name == "requester_name")
    assert keys_cmd._rotate_column(crypto.keyring(), table, column, batch=2) == 3  # stopped after one column
    mixed = _key_totals()
    assert mixed[crypto.key_id(new)] == 3 and mixed[crypto.key_id(old)] > 0
    assert keys_cmd.rotate(crypto.keyring(), batch=2) == mixed[crypto.key_id(old)]
    assert set(_key_totals()) == {crypto.key_id(new)}


def test_keys_commands_generate_and_report(testorg: int) -> None:
    key = dsar_json("keys", "generate")["key"]
    Keyring([key], "x" * 32)  # a valid Fernet key
    _open_case(testorg)
    env = {"DSAR_DATABASE_URL": get_settings().resolved_database_url, "DSAR_ENCRYPTION_KEYS": key}
    status = dsar_json("keys", "status", env=env)  # the case was written with the development key
    dev = crypto.key_id(crypto.DEV_ENCRYPTION_KEY)
    assert status["primary"] == crypto.key_id(key) and set(status["totals"]) == {dev}
    env["DSAR_ENCRYPTION_KEYS"] = f"{key},{crypto.DEV_ENCRYPTION_KEY}"
    assert dsar_json("keys", "rotate", env=env)["rewritten"] == sum(status["totals"].values())
    assert dsar_json("keys", "status", env=env)["totals"] == {crypto.key_id(key): sum(status["totals"].values())}


def test_keys_come_from_a_file_and_bad_keys_are_refused_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = generate_key(), generate_key()
    key_file = tmp_path / "keys"
    key_file.write_text(f"# newest first\n{first}\n\n{second}\n", encoding="utf-8")
    monkeypatch.setenv("DSAR_ENCRYPTION_KEY_FILE", str(key_file))
    get_settings.cache_clear()
    ring = crypto.keyring()
    assert ring.key_ids == [crypto.key_id(first), crypto.key_id(second)] and ring.primary_id == crypto.key_id(first)
    assert ring.decrypt_text(Keyring([second], "x").encrypt_text("홍길동")) == "홍길동"

    _use_keys(monkeypatch, first, "not-a-key")
    with pytest.raises(CryptoError, match="2번"):
        crypto.keyring()
    monkeypatch.setenv("DSAR_ENCRYPTION_KEYS", "")
    monkeypatch.setenv("DSAR_ENCRYPTION_KEY_FILE", str(tmp_path / "missing"))
    get_settings.cache_clear()
    with pytest.raises(CryptoError, match="missing"):
        crypto.keyring()
    with pytest.raises(CryptoError, match="알려진 암호화 형식"):
        Keyring([first], "x").decrypt_text("홍길동")
    tampered = Keyring([first], "x").encrypt_text("홍길동")[:-3] + "AAA"
    with pytest.raises(CryptoError, match="변조"):
        Keyring([first], "x").decrypt_text(tampered)
    get_settings.cache_clear()


def test_production_refuses_the_development_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DSAR_ENV", "production")
    monkeypatch.setenv("DSAR_SECRET_KEY", "a-long-random-production-secret")
    monkeypatch.setenv("DSAR_ANCHOR_KEY", "a-long-random-anchor-key-for-production")
    get_settings.cache_clear()
    with pytest.raises(ValidationError, match="DSAR_ENCRYPTION_KEYS"):
        get_settings()
    _use_keys(monkeypatch, crypto.DEV_ENCRYPTION_KEY)
    with pytest.raises(ValidationError, match="DSAR_LOOKUP_KEY"):
        get_settings()
    monkeypatch.setenv("DSAR_LOOKUP_KEY", "l" * 40)
    get_settings.cache_clear()
    with pytest.raises(CryptoError, match="개발용 암호화 키"):
        crypto.keyring()
    _use_keys(monkeypatch, generate_key())
    dev_hash = Keyring([generate_key()], crypto.DEV_LOOKUP_KEY).lookup_hash("a@b.c")
    assert crypto.keyring().lookup_hash("a@b.c") != dev_hash
    get_settings.cache_clear()


def test_migration_0004_encrypts_rows_stored_in_clear_and_the_downgrade_restores_them(testorg: int) -> None:
    migrate("0003", down=True)
    with get_engine().begin() as conn:
        conn.execute(text(
            "INSERT INTO inboundmessage (received_at, source, sha256, raw, status, problem_message, summary) "
            "VALUES (:at, 'test', :sha, :raw, 'processed', NULL, :summary)"),
            {"at": RECEIVED, "sha": "0" * 64, "raw": RAW, "summary": '{"sender": "hong.gildong@example.com"}'})
        conn.execute(text(
            "INSERT INTO request (number, org_id, inbound_id, rights, stage, closed, not_a_request, channel, "
            "received_at, due_basis, pauses, extensions, requester_name, requester_email, subject, details, "
            "classification, row_version, created_at, updated_at) VALUES ('DSAR-2026-000001', :org, 1, '[]', "
            "'received', false, false, 'email', :at, '{}', '[]', '[]', '홍길동', 'Hong.Gildong@example.com', "
            "'열람 요청', '홍길동입니다', '{}', 1, :at, :at)"), {"org": testorg, "at": RECEIVED})
        conn.execute(text(
            "INSERT INTO notice (request_id, kind, seq, recipient, message_id, subject, html, text, sha256, "
            "template_version, context, status, requires_approval, attempts, created_at) VALUES (1, "
            "'acknowledgement', 1, 'Hong.Gildong@example.com', '<m@x>', '접수', '<p>홍길동 님</p>', '홍길동 님', "
            ":sha, '1', '{\"json\": \"{}\"}', 'sent', false, 1, :at)"), {"sha": "0" * 64, "at": RECEIVED})
        conn.execute(text(  # a child row of the notice: SQLite rebuilds the notice table under it
            "INSERT INTO verificationchallenge (request_id, method, salt, code_hash, status, attempts, max_attempts, "
            "created_at, expires_at, notice_id) VALUES (1, 'email_code', 's', 'h', 'pending', 0, 5, :at, :at, 1)"),
            {"at": RECEIVED})
        conn.execute(text("INSERT INTO note (request_id, author, body, created_at) VALUES (1, 'staff', '통화함', :at)"),
                     {"at": RECEIVED})
    migrate("head")

    with session_scope() as s:
        case = s.exec(select(Request)).one()
        assert (case.requester_name, case.details) == ("홍길동", "홍길동입니다")
        assert case.requester_email_hmac == crypto.lookup_hash("hong.gildong@example.com")
        assert s.get(InboundMessage, case.inbound_id).summary == {"sender": "hong.gildong@example.com"}
        assert s.get(InboundMessage, case.inbound_id).raw == RAW
        notice = s.exec(select(Notice)).one()
        assert (notice.recipient, notice.context) == ("Hong.Gildong@example.com", {"json": "{}"})
        assert s.exec(select(Note)).one().body == "통화함"
    clear = _raw("SELECT requester_name, details FROM request") + _raw("SELECT recipient, text FROM notice")
    assert all(v.startswith("v1:") for row in clear for v in row)
    if get_engine().dialect.name == "sqlite":  # the rebuild of the tables switched key checks off for a moment
        assert _raw("PRAGMA foreign_keys") == [(1,)] and _raw("PRAGMA foreign_key_check") == []

    migrate("0003", down=True)
    assert _raw("SELECT requester_name, requester_email FROM request") == [("홍길동", "Hong.Gildong@example.com")]
    assert _raw("SELECT body FROM note") == [("통화함",)]
    migrate("head")


def test_the_migrated_schema_matches_the_models(db: str) -> None:
    with get_engine().connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []
