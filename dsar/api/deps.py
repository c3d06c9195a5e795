"""Dependencies every route shares: the database session, the clock, and who is asking.

A request is one unit of work: the session commits when the route returns without error (before the response
is sent, so a view and its audit event are stored before anyone sees the data) and rolls back otherwise.

Machine clients send `Authorization: Bearer <token>`. The console's session cookie also works on the API; an
unsafe method (POST, PUT, PATCH, DELETE) authenticated by the cookie must repeat the CSRF token in the
`X-CSRF-Token` header, so another site cannot make a signed-in browser change anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from dsar.auth import sessions
from dsar.auth.accounts import active_user, token_principal, user_principal
from dsar.auth.roles import Forbidden, Principal, Unauthenticated
from dsar.clock import Clock, clock_from_settings
from dsar.db import session_scope

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_bearer = HTTPBearer(auto_error=False, description="An API token made by an admin (`dsar users token`)")


def get_session() -> Iterator[Session]:
    with session_scope() as session:
        yield session


def get_clock(request: Request) -> Clock:
    return getattr(request.app.state, "clock", None) or clock_from_settings()


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
ClockDep = Annotated[Clock, Depends(get_clock)]


def cookie_principal(request: Request, session: Session, clock: Clock) -> Principal | None:
    found = sessions.session_user_id(request.cookies.get(sessions.SESSION_COOKIE), clock.now())
    if found is None:
        return None
    user = active_user(session, found[0], clock.now())
    if user is None or not sessions.session_matches(user, found[1]):
        return None
    return user_principal(user)


def current_principal(
    request: Request, session: SessionDep, clock: ClockDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is not None:
        principal = token_principal(session, credentials.credentials, clock.now())
        if principal is None:
            raise Unauthenticated("API 토큰이 없거나 폐기되었습니다 (invalid or revoked token)")
        return principal
    principal = cookie_principal(request, session, clock)
    if principal is None:
        raise Unauthenticated("로그인하거나 Authorization: Bearer 토큰을 보내세요 (not signed in)")
    if request.method not in SAFE_METHODS and not sessions.csrf_ok(
        request.cookies.get(sessions.CSRF_COOKIE), request.headers.get("x-csrf-token")
    ):
        raise Forbidden("CSRF 토큰이 없거나 맞지 않습니다: 페이지를 새로 고친 뒤 다시 시도하세요 (CSRF check failed)")
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]
