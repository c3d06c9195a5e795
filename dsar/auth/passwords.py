"""Passwords are stored only as argon2id hashes (PIPC 안전성 확보조치 기준: one-way encryption)."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from dsar.errors import InvalidInput
from dsar.settings import get_settings

MIN_LENGTH = 10


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    settings = get_settings()  # an older hash with other costs still verifies, and needs_rehash says so
    return PasswordHasher(time_cost=settings.password_time_cost, memory_cost=settings.password_memory_kib)


def check_strength(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"비밀번호는 {MIN_LENGTH}자 이상이어야 합니다 (password too short)", field="password")


def hash_password(password: str) -> str:
    check_strength(password)
    return _hasher().hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher().check_needs_rehash(stored_hash)


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """Verified against when the account does not exist, so timing does not tell which e-mails have accounts."""
    return _hasher().hash("not-a-real-password-at-all")
