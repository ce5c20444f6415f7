"""Permissions as data: per resource and action, an OData `$filter` bound to the caller.

The resolver compiles a resource's predicate into every place that resource's rows are
read or written (spec/odata.md §13). A rule is `True` (every row), `False` or missing (no
row), or a filter string that may use `@__ACTOR_ID` and other `@__` context values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fleetyard.odata import ast

ACTIONS = ("read", "create", "update", "delete")


@dataclass(frozen=True)
class Permissions:
    """`rules[resource][action]`. `key` names the rule set in statement caches, so two
    callers with the same rules share compiled statements (their actor ids are binds);
    it must differ between rule sets. Without a key nothing is cached."""

    rules: dict[str, dict[str, bool | str]] = field(default_factory=dict)
    key: str | None = None
    everything: bool = False
    _parsed: dict[tuple[str, str], object] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def all(cls) -> "Permissions":
        """A superuser's: every row of every resource, for every action."""
        return cls(key="all", everything=True)

    def rule(self, resource: str, action: str) -> bool | ast.Request:
        """True, False, or the parsed filter (a Request whose options.filter is the
        predicate and whose binds hold its literals)."""
        if self.everything:
            return True
        cached = self._parsed.get((resource, action))
        if cached is not None:
            return cached  # type: ignore[return-value]
        per = self.rules.get(resource, {})
        value = per.get(action, per.get("all", False))
        if isinstance(value, str):
            from fleetyard.odata.parser import parse

            value = parse(f"/{resource}?$filter={value}")  # type: ignore[assignment]
        self._parsed[(resource, action)] = value
        return value  # type: ignore[return-value]
