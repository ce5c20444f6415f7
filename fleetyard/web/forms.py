"""The dashboard's form bodies: URL-encoded fields (what its forms and htmx send), read
once per request and kept on it, without a multipart parser (no dependency for that)."""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.requests import Request

MAX_FORM = 64 * 1024


class FormTooLarge(Exception):
    pass


async def fields(request: Request) -> dict[str, str]:
    """The first value of each field; an empty dict for a body of another kind."""
    cached = getattr(request.state, "form_fields", None)
    if cached is not None:
        return cached
    data = b""
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_FORM:
            raise FormTooLarge()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    found: dict[str, str] = {}
    if content_type == "application/x-www-form-urlencoded":
        parsed = parse_qs(data.decode("utf-8", "replace"), keep_blank_values=True)
        found = {k: v[0] for k, v in parsed.items()}
    request.state.form_fields = found
    return found
