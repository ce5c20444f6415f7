"""The dashboard's session: a user's JWT in a cookie, resolved to the same `Caller` the API
gives that token.

Part of the web stage (beside the API in the HTTP layer). The cookie holds exactly what
`/login_` answered, so a session is a token: it expires with it, and a new password (a new
`jwt_secret`) ends it. Only user tokens open a session (a key of a fleet or a device is
no person). Forms carry a CSRF token derived from the session token, which a page of
another site cannot know; the cookie is also `SameSite=Strict`.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from fleetyard.api.callers import Authenticator, Caller, caller_for
from fleetyard.auth.principals import Principal, Unauthorized
from fleetyard.auth.tokens import LIFETIME_SECONDS
from fleetyard.web import forms

COOKIE = "fleetyard_session"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True)
class Session:
    token: str
    principal: Principal
    caller: Caller

    @property
    def actor(self) -> int:
        return self.principal.actor

    @property
    def username(self) -> str:
        return self.principal.username or ""

    @property
    def csrf(self) -> str:
        return csrf_token(self.token)


def csrf_token(token: str) -> str:
    return hashlib.sha256(b"fleetyard-csrf:" + token.encode()).hexdigest()[:32]


async def load(request: Request, authenticator: Authenticator) -> Session | None:
    """The request's session, or None when there is none or its token is no longer good."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        principal = await authenticator.credentials.principal(token)
    except Unauthorized:
        return None
    if principal is None or not principal.is_user:
        return None
    return Session(token, principal, caller_for(principal))


async def csrf_ok(request: Request, session: Session) -> bool:
    """A form field or the header htmx sends (`hx-headers` on the page's body)."""
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        given = (await forms.fields(request)).get(CSRF_FIELD)
    return given is not None and hmac.compare_digest(given, session.csrf)


def start(response: Response, request: Request, token: str) -> None:
    response.set_cookie(COOKIE, token, max_age=LIFETIME_SECONDS, path="/", httponly=True,
                        samesite="strict", secure=request.url.scheme == "https")


def end(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
