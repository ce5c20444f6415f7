"""The dashboard's API-key page: a user's keys, a new one shown once, revocation.

Part of the web stage. A key is made the way the API makes a user's named key
(`POST /api-key/user/full`, spec/device-api.md §2): when that route is served it is called
in process with the session's token, so its checks (a fresh login, the name's length)
apply; otherwise the key is made as that route would, for the caller's own actor, by
`auth.api_keys` (which keeps only its hash). Listing and revoking are OData reads and
deletes with the caller's rights: a user sees and ends their own keys only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from fleetyard.auth import api_keys
from fleetyard.errors import FleetyardError
from fleetyard.web import forms, internal
from fleetyard.web.session import Session

if TYPE_CHECKING:
    from fleetyard.web.routes import WebRoutes

KEY_ROUTE = "/api-key/user/full"
MAX_NAME, MAX_DESCRIPTION = 50, 150  # the reference's field-size limits (device-api.md §2)


class KeyPages:
    def __init__(self, web: WebRoutes):
        self.web = web

    async def _page(self, request: Request, s: Session, *, new_key: str | None = None,
                    new_name: str | None = None, error: str | None = None, status: int = 200) -> Response:
        keys = await self.web.reader(s).keys(s.actor)
        return self.web.render(request, s, "keys.html", {"keys": keys, "new_key": new_key, "new_name": new_name,
                                                         "error": error}, status=status)

    async def list(self, request: Request, s: Session) -> Response:
        return await self._page(request, s)

    async def create(self, request: Request, s: Session) -> Response:
        form = await forms.fields(request)
        name = str(form.get("name") or "").strip()
        description = str(form.get("description") or "").strip() or None
        if not name:
            return await self._page(request, s, error="A key needs a name.", status=400)
        if internal.serves(request.app, "POST", KEY_ROUTE):
            answer = await internal.call(request.app, request, "POST", KEY_ROUTE, token=s.token,
                                         json={"name": name, "description": description})
            if answer.status != 200:
                return await self._page(request, s, error=answer.message() or f"Refused ({answer.status}).",
                                        status=answer.status)
            key = answer.message()
        else:
            if len(name) > MAX_NAME or (description and len(description) > MAX_DESCRIPTION):
                return await self._page(request, s, status=400, error=(
                    f"A key's name holds at most {MAX_NAME} characters, its description {MAX_DESCRIPTION}."))
            assert self.web.engine is not None
            key = await api_keys.create(self.web.engine, s.actor, name=name, description=description)
        return await self._page(request, s, new_key=key, new_name=name)

    async def revoke(self, request: Request, s: Session) -> Response:
        try:
            await self.web.actions(s).revoke_key(request.path_params["key"], s.actor)
        except FleetyardError as e:
            return await self._page(request, s, error=e.message, status=e.status)
        if self.web.authenticator is not None:  # this process forgets it at once, others within 5 s
            self.web.authenticator.credentials.forget()
        return RedirectResponse(request.url.path.rsplit("/", 2)[0], 303)  # back to /keys
