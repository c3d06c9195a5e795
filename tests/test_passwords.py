"""Staff password hashes: argon2id with the configured costs; a hash made with other costs still verifies and is
flagged for rehashing."""

from __future__ import annotations

from argon2 import PasswordHasher

from dsar.auth import passwords
from dsar.settings import Settings


def test_hashes_use_the_configured_costs_and_older_costs_still_verify() -> None:
    stored = passwords.hash_password("correct horse battery")
    assert stored.startswith("$argon2id$") and "m=1024,t=1," in stored  # the tests' cheap costs (conftest)
    assert passwords.verify_password(stored, "correct horse battery")
    assert not passwords.verify_password(stored, "wrong horse battery")
    assert not passwords.needs_rehash(stored)
    production = PasswordHasher().hash("correct horse battery")  # the library's (and our default) costs
    assert passwords.verify_password(production, "correct horse battery") and passwords.needs_rehash(production)


def test_production_defaults_are_argon2s_recommended_costs() -> None:
    defaults = Settings.model_fields
    assert defaults["password_time_cost"].default == PasswordHasher().time_cost == 3
    assert defaults["password_memory_kib"].default == PasswordHasher().memory_cost == 65536
