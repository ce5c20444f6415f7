"""Typed errors, raised low in the pipeline and turned into HTTP answers in one place.

Each error carries an HTTP status, a stable code grouped by pipeline stage (sent in the
`X-Fleetyard-Error` header and the log line) and the message a client sees — the JSON
string body the balena clients match on (spec/odata.md §11, spec/decisions.md).
"""

from __future__ import annotations


class FleetyardError(Exception):
    status: int = 400
    code: str = "request.invalid"

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code

    def body(self) -> str | None:
        """The response body's JSON string value, or None for an empty body."""
        return self.message


# --- parse stage ------------------------------------------------------------------------


class ODataSyntaxError(FleetyardError):
    """A URL the dialect's grammar rejects. Carries the offset and a caret line."""

    status = 400
    code = "parse.syntax"

    def __init__(self, url: str, offset: int, expected: str):
        self.url = url
        self.offset = offset
        self.expected = expected
        found = repr(url[offset]) if offset < len(url) else "end of input"
        self.detail = f"{expected} expected at offset {offset}, {found} found"
        super().__init__(f"Malformed url: '{url}'")

    def caret(self) -> str:
        """Two lines: the URL, and a caret under the offending character."""
        return f"{self.url}\n{' ' * self.offset}^"

    def __str__(self) -> str:
        return f"Malformed url: {self.detail}\n{self.caret()}"


# --- resolve stage ----------------------------------------------------------------------


class UnknownResource(FleetyardError):
    """A resource name the model does not have: 401, as the reference answers."""

    status = 401
    code = "resolve.unknown_resource"

    def __init__(self, name: str):
        self.name = name
        super().__init__(f"Unknown resource '{name}'")


class UnknownName(FleetyardError):
    """An unknown field or navigation in $select/$expand/$filter/$orderby or a body."""

    status = 400
    code = "resolve.unknown_name"

    def __init__(self, kind: str, name: str, resource: str, suggestion: str | None = None):
        self.kind, self.name, self.resource, self.suggestion = kind, name, resource, suggestion
        hint = f"; did you mean '{suggestion}'?" if suggestion else ""
        super().__init__(f"unknown {kind} '{name}' on resource '{resource}'{hint}")


class ResolveError(FleetyardError):
    """A request that parses but means nothing against the model (bad key, bad lambda
    variable, wrong operand types, unsupported function, …)."""

    status = 400
    code = "resolve.invalid"


# --- values -----------------------------------------------------------------------------


class ValueError_(FleetyardError):
    """A value of the wrong type for its field, in a URL literal or a request body.

    Messages follow the reference: `"cpu_temp" is not a number: abc`.
    """

    status = 400
    code = "value.invalid"


# --- write stage ------------------------------------------------------------------------


class ConstraintError(FleetyardError):
    """A unique (409), foreign key (409) or check (400) violation."""

    status = 409
    code = "write.constraint"


class PermissionDenied(FleetyardError):
    status = 401
    code = "auth.denied"
