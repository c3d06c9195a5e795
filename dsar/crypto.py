"""Personal data at rest: field encryption with rotating keys, and keyed hashes for lookups.

Values are encrypted with Fernet (AES-128-CBC with HMAC-SHA256, from `cryptography`). The keys come from
`DSAR_ENCRYPTION_KEYS` (comma separated) or `DSAR_ENCRYPTION_KEY_FILE` (one per line), newest first: the first
encrypts, every one decrypts. To rotate, put a new key in front, restart, run `dsar keys rotate` (re-encrypts
every value under the new key), then drop the old key.

A stored value names its scheme and its key, so a later scheme can be told apart and `dsar keys status` can
count values per key without decrypting: text is `v1:<key id>:<Fernet token>`; bytes are the same 12-byte
header followed by the token's raw bytes (a third smaller than its base64). The key id is the first 8 hex
digits of the key's SHA-256.

Equality lookups ("the same requester again?") use an HMAC-SHA256 of the normalised value under a separate key
(`DSAR_LOOKUP_KEY`), which is not rotated: changing it orphans every stored hash.

Development and tests use keys derived from DEV_SECRET (like the other development secrets); production
refuses them. The keyring is built once per configuration: encrypting a value costs one Fernet call.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import LargeBinary, String, event
from sqlalchemy.orm import defer
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.types import TypeDecorator

from dsar.errors import DsarError
from dsar.settings import DEV_SECRET, get_settings

SCHEME = "v1"
HEADER_LENGTH = len(SCHEME) + 10  # "v1:" + 8 hex digits of key id + ":"


class CryptoError(DsarError):
    """Keys missing, malformed or not matching a stored value: an operator's problem, never the requester's."""

    code = "crypto_error"


def generate_key() -> str:
    return Fernet.generate_key().decode()


def key_id(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:8]


def _dev_secret(purpose: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(f"{DEV_SECRET}:{purpose}".encode()).digest()).decode()


DEV_ENCRYPTION_KEY = _dev_secret("encryption")
DEV_LOOKUP_KEY = _dev_secret("lookup")


class Keyring:
    """The Fernet keys (first encrypts, all decrypt) and the lookup key of one configuration."""

    def __init__(self, keys: list[str], lookup_key: str) -> None:
        if not keys:
            raise CryptoError("암호화 키가 없습니다: DSAR_ENCRYPTION_KEYS를 설정하세요 (no encryption key)")
        fernets = {}
        for n, key in enumerate(keys, 1):
            try:
                fernets[key_id(key)] = Fernet(key)
            except ValueError:
                raise CryptoError(
                    f"암호화 키 {n}번이 Fernet 키가 아닙니다(URL-safe base64 44자). `dsar keys generate`로 만드세요 "
                    f"(encryption key {n} is not a Fernet key)"
                ) from None
        self.key_ids = list(fernets)
        self.primary_id = self.key_ids[0]
        self._fernets = fernets
        self._primary = fernets[self.primary_id]
        self._lookup = lookup_key.encode()
        self.header = f"{SCHEME}:{self.primary_id}:"  # what every value encrypted now starts with

    def encrypt_text(self, value: str) -> str:
        return self.header + self._primary.encrypt(value.encode()).decode()

    def decrypt_text(self, stored: str) -> str:
        return self._decrypt(header_key_id(stored), stored[HEADER_LENGTH:].encode()).decode()

    def encrypt_bytes(self, value: bytes) -> bytes:
        return self.header.encode() + base64.urlsafe_b64decode(self._primary.encrypt(value))

    def decrypt_bytes(self, stored: bytes) -> bytes:
        return self._decrypt(header_key_id(stored), base64.urlsafe_b64encode(stored[HEADER_LENGTH:]))

    def lookup_hash(self, value: str) -> str:
        """HMAC-SHA256 (hex) of the value lower-cased and stripped: equal addresses give equal hashes."""
        return hmac.new(self._lookup, value.strip().lower().encode(), hashlib.sha256).hexdigest()

    def _decrypt(self, kid: str, token: bytes) -> bytes:
        fernet = self._fernets.get(kid)
        if fernet is None:
            raise CryptoError(
                f"값이 키 {kid}(으)로 암호화되어 있는데 그 키가 설정에 없습니다. 예전 키를 DSAR_ENCRYPTION_KEYS 뒤쪽에 "
                f"다시 넣으세요 (value encrypted with key {kid}, which is not configured)", key_id=kid,
            )
        try:
            return fernet.decrypt(token)
        except InvalidToken:
            raise CryptoError(f"키 {kid}(으)로 암호화된 값이 손상되었거나 변조되었습니다 (value does not "
                              f"authenticate)", key_id=kid) from None


def header_key_id(stored: str | bytes) -> str:
    """The key id in a stored value's header; refuses anything that is not an encrypted value."""
    header = stored[:HEADER_LENGTH]
    text = header.decode("ascii", "replace") if isinstance(header, bytes) else header
    if len(text) != HEADER_LENGTH or not text.startswith(f"{SCHEME}:") or not text.endswith(":"):
        raise CryptoError("저장된 값이 알려진 암호화 형식이 아닙니다 (stored value is not in a known encrypted format)")
    return text[len(SCHEME) + 1:-1]


def keyring() -> Keyring:
    s = get_settings()
    return _keyring(s.env, s.encryption_keys, _path(s.encryption_key_file), s.lookup_key, _path(s.lookup_key_file))


def _path(path: Path | None) -> str:
    return "" if str(path or "") in ("", ".") else str(path)


@lru_cache(maxsize=8)
def _keyring(env: str, keys: str, key_file: str, lookup: str, lookup_file: str) -> Keyring:
    configured = _split(keys, ",") or _split(_read(key_file, "DSAR_ENCRYPTION_KEY_FILE"), "\n")
    lookup_key = lookup.strip() or next(iter(_split(_read(lookup_file, "DSAR_LOOKUP_KEY_FILE"), "\n")), "")
    if env == "production":
        if not configured or DEV_ENCRYPTION_KEY in configured:
            raise CryptoError("운영 환경에서는 개발용 암호화 키를 쓸 수 없습니다: DSAR_ENCRYPTION_KEYS(또는 "
                              "DSAR_ENCRYPTION_KEY_FILE)에 `dsar keys generate`로 만든 키를 넣으세요 "
                              "(production refuses the development encryption key)")
        if len(lookup_key) < 32 or lookup_key == DEV_LOOKUP_KEY:
            raise CryptoError("운영 환경에는 32자 이상의 무작위 DSAR_LOOKUP_KEY(또는 DSAR_LOOKUP_KEY_FILE)가 "
                              "필요합니다 (production needs its own lookup key)")
    return Keyring(configured or [DEV_ENCRYPTION_KEY], lookup_key or DEV_LOOKUP_KEY)


def _split(text: str, sep: str) -> list[str]:
    lines = (part.strip() for part in text.split(sep))
    return [p for p in lines if p and not p.startswith("#")]


def _read(path: str, name: str) -> str:
    if not path:
        return ""
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CryptoError(f"{name} 파일 {path}을(를) 읽을 수 없습니다: {exc.strerror} (cannot read key file)") from exc


def lookup_hash(value: str | None) -> str | None:
    return keyring().lookup_hash(value) if value else None


def keep_lookup_hash(model: type, attribute: str, hash_attribute: str) -> None:
    """Before every INSERT and UPDATE of `model`, set `hash_attribute` to the lookup hash of `attribute`, so
    callers (dsar.engine.open_case, staff entry) never compute it and it can never go stale."""

    def _fill(_mapper: Any, _connection: Any, target: Any) -> None:
        setattr(target, hash_attribute, lookup_hash(getattr(target, attribute)))

    event.listen(model, "before_insert", _fill)
    event.listen(model, "before_update", _fill)


class _NoSqlComparison(TypeDecorator.Comparator):  # type: ignore[type-arg]
    """Comparing an encrypted column with a value in SQL can never match (each encryption differs): refuse it
    loudly. NULL tests and the ORM's own column-to-column expressions pass."""

    def operate(self, op: Any, *other: Any, **kwargs: Any) -> Any:
        if any(o is not None and not isinstance(o, ClauseElement) for o in other):
            raise CryptoError(f"암호화된 열은 SQL에서 값과 비교할 수 없습니다; 조회용 해시 열을 쓰세요 "
                              f"(encrypted column cannot be compared with a value: {op.__name__})")
        return super().operate(op, *other, **kwargs)

    def reverse_operate(self, op: Any, other: Any, **kwargs: Any) -> Any:
        return self.operate(op, other, **kwargs)


class EncryptedText(TypeDecorator[str]):
    """A text column stored encrypted; callers read and write plain strings."""

    impl = String
    cache_ok = True
    comparator_factory = _NoSqlComparison

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else keyring().encrypt_text(value)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else keyring().decrypt_text(value)


class EncryptedBytes(TypeDecorator[bytes]):
    """A binary column (a raw message) stored encrypted."""

    impl = LargeBinary
    cache_ok = True
    comparator_factory = _NoSqlComparison

    def process_bind_param(self, value: bytes | None, dialect: Any) -> bytes | None:
        return None if value is None else keyring().encrypt_bytes(bytes(value))

    def process_result_value(self, value: bytes | None, dialect: Any) -> bytes | None:
        return None if value is None else keyring().decrypt_bytes(bytes(value))


class EncryptedJSON(TypeDecorator[Any]):
    """A JSON document (dict or list) stored as encrypted text."""

    impl = String
    cache_ok = True
    comparator_factory = _NoSqlComparison

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        return keyring().encrypt_text(json.dumps(value, ensure_ascii=False, separators=(",", ":")))

    def process_result_value(self, value: str | None, dialect: Any) -> Any:
        return None if value is None else json.loads(keyring().decrypt_text(value))


ENCRYPTED_TYPES = (EncryptedText, EncryptedBytes, EncryptedJSON)


def unread_secrets(model: type) -> list[Any]:
    """Loader options that leave a model's encrypted columns unread (so undecrypted): for lists that show none."""
    table = model.__table__  # type: ignore[attr-defined]
    return [defer(getattr(model, c.key)) for c in table.columns if isinstance(c.type, ENCRYPTED_TYPES)]

