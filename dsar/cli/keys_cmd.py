"""`dsar keys generate|status|rotate`: the encryption keys of personal data at rest (dsar/crypto.py).

Rotation: put a new key first in DSAR_ENCRYPTION_KEYS (or the key file), keep the old ones after it, restart the
services, run `dsar keys rotate`, check `dsar keys status` shows only the new key, then drop the old keys.
`rotate` re-encrypts a batch of rows per transaction and skips values already under the first key, so it can be
interrupted and run again; a value changed by the application meanwhile is left to the application (which wrote
it with the new key already).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import typer
from sqlalchemy import Column, Table, func, literal, type_coerce, update
from sqlmodel import Session, SQLModel, select

import dsar.auth.models  # noqa: F401  (registers the tables with encrypted columns)
import dsar.models  # noqa: F401
from dsar.cli import emit
from dsar.crypto import (
    ENCRYPTED_TYPES,
    HEADER_LENGTH,
    CryptoError,
    EncryptedBytes,
    Keyring,
    generate_key,
    header_key_id,
    keyring,
)
from dsar.db import session_scope, upgrade

UNKNOWN = "unknown"  # a stored value without a known header (status counts it; rotate stops on it)
keys_app = typer.Typer(help="개인정보 암호화 키 (encryption keys of personal data)", no_args_is_help=True)


def encrypted_columns() -> Iterator[tuple[Table, Column[Any]]]:
    for table in SQLModel.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, ENCRYPTED_TYPES):
                yield table, column


def _stored(column: Column[Any]) -> Any:
    """The column as stored (ciphertext), without the decrypting type."""
    return type_coerce(column, column.type.impl_instance)  # type: ignore[attr-defined]


def key_counts(session: Session) -> dict[str, Counter[str]]:
    """{"table.column": {key id: values}} read from the stored headers, without decrypting anything."""
    out = {}
    for table, column in encrypted_columns():
        header = func.substr(_stored(column), 1, HEADER_LENGTH)
        counts: Counter[str] = Counter()
        for value, n in session.exec(select(header, func.count()).where(column.is_not(None)).group_by(header)):
            counts[_key_of(value)] += n
        out[f"{table.name}.{column.name}"] = counts
    return out


def key_totals(session: Session) -> Counter[str]:
    """{key id: values} over every encrypted column."""
    return sum(key_counts(session).values(), Counter())


def _key_of(header: str | bytes) -> str:
    try:
        return header_key_id(header)
    except CryptoError:
        return UNKNOWN


def rotate(ring: Keyring, *, batch: int = 500) -> int:
    """Re-encrypt every value not under the first key; returns how many were rewritten."""
    total = 0
    for table, column in encrypted_columns():
        total += _rotate_column(ring, table, column, batch)
    return total


def _rotate_column(ring: Keyring, table: Table, column: Column[Any], batch: int) -> int:
    stored, done, last = _stored(column), 0, 0
    binary = isinstance(column.type, EncryptedBytes)
    current = ring.header.encode() if binary else ring.header
    while True:
        with session_scope() as session:
            rows = session.exec(
                select(table.c.id, stored).where(stored.is_not(None), table.c.id > last,
                                                 func.substr(stored, 1, HEADER_LENGTH) != current)
                .order_by(table.c.id).limit(batch)
            ).all()
            for row_id, value in rows:
                fresh = ring.encrypt_bytes(ring.decrypt_bytes(bytes(value))) if binary else \
                    ring.encrypt_text(ring.decrypt_text(value))
                change = update(table).where(table.c.id == row_id, stored == value) \
                    .values({column.name: literal(fresh, column.type.impl_instance)})  # type: ignore[attr-defined]
                done += session.exec(change).rowcount  # type: ignore[call-overload]
        if len(rows) < batch:
            return done
        last = rows[-1][0]


@keys_app.command("generate")
def generate_cmd(as_json: bool = typer.Option(False, "--json")) -> None:
    """Print a new Fernet key (put it first in DSAR_ENCRYPTION_KEYS, then run `dsar keys rotate`)."""
    key = generate_key()
    emit({"key": key}, as_json, key)


@keys_app.command("status")
def status_cmd(as_json: bool = typer.Option(False, "--json")) -> None:
    """How many stored values are encrypted with which key."""
    ring = keyring()
    upgrade()
    with session_scope() as session:
        columns = key_counts(session)
    totals: Counter[str] = sum(columns.values(), Counter())
    data = {"primary": ring.primary_id, "configured": ring.key_ids, "totals": dict(totals),
            "columns": {name: dict(c) for name, c in columns.items() if c}}
    lines = [f"암호화 키: {', '.join(ring.key_ids)} (첫 번째 {ring.primary_id}로 암호화)"]
    for kid, n in sorted(totals.items()):
        state = "현재 키" if kid == ring.primary_id else ("이전 키" if kid in ring.key_ids else "설정에 없는 키!")
        lines.append(f"  키 {kid} ({state}): 값 {n}개")
    if set(totals) - {ring.primary_id}:
        lines.append("예전 키로 암호화된 값이 있습니다: dsar keys rotate를 실행하세요")
    emit(data, as_json, "\n".join(lines))


@keys_app.command("rotate")
def rotate_cmd(
    batch: int = typer.Option(500, "--batch", min=1, help="Rows per transaction"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Re-encrypt every stored value with the first key (safe to interrupt and run again)."""
    ring = keyring()
    upgrade()
    rewritten = rotate(ring, batch=batch)
    emit({"primary": ring.primary_id, "rewritten": rewritten}, as_json,
         f"값 {rewritten}개를 키 {ring.primary_id}로 다시 암호화했습니다")


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
