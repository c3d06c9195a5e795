"""Signed cookies of the web console: the session, and the CSRF token forms repeat (double submit).

The session cookie carries the account id, when it was issued and a fingerprint of the password hash, signed
with `settings.secret_key`: changing the password, deactivating or locking the account ends every session.
The CSRF cookie carries a random token, also signed; each console form repeats the token in a hidden field and
the server refuses a post whose field does not match the cookie. Both cookies are HttpOnly and SameSite=Lax.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

from dsar.auth.models import StaffUser
from dsar.settings import get_settings

SESSION_COOKIE = "dsar_session"
CSRF_COOKIE = "dsar_csrf"


def _serializer(salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(get_settings().secret_key, salt=salt)


def _fingerprint(user: StaffUser) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def issue_session(user: StaffUser, now: datetime) -> str:
    return str(_serializer("dsar-session").dumps({"u": user.id, "t": int(now.timestamp()), "f": _fingerprint(user)}))


def session_user_id(cookie: str | None, now: datetime) -> tuple[int, str] | None:
    """(account id, password fingerprint) of a valid, unexpired session cookie."""
    if not cookie:
        return None
    try:
        data = _serializer("dsar-session").loads(cookie)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int) or not isinstance(data.get("t"), int):
        return None
    issued = datetime.fromtimestamp(data["t"], tz=now.tzinfo)
    if now - issued > timedelta(hours=get_settings().session_hours) or issued - now > timedelta(minutes=5):
        return None
    return data["u"], str(data.get("f", ""))


def session_matches(user: StaffUser, fingerprint: str) -> bool:
    return hmac.compare_digest(_fingerprint(user), fingerprint)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)


def sign_csrf(token: str) -> str:
    return str(_serializer("dsar-csrf").dumps(token))


def csrf_from_cookie(cookie: str | None) -> str | None:
    if not cookie:
        return None
    try:
        token = _serializer("dsar-csrf").loads(cookie)
    except BadSignature:
        return None
    return token if isinstance(token, str) else None


def csrf_ok(cookie: str | None, submitted: str | None) -> bool:
    token = csrf_from_cookie(cookie)
    return bool(token and submitted) and hmac.compare_digest(token.encode(), (submitted or "").encode())
