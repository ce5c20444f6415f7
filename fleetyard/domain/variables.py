"""Variables and tags: what their names and values may be (spec/model.md §6.3, §1.24-1.29;
decisions.md: build variables follow the fleet's environment variables).

Checked on every write that carries a name or a value (POST, PATCH, PUT), before it
reaches the database.
"""

from __future__ import annotations

import re

from fleetyard.domain.common import RuleViolation
from fleetyard.odata.hooks import Hooks, Write

ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
CONFIG_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_:]*\Z")
RESERVED = ("RESIN", "BALENA", "USER")
NAMESPACES = ("RESIN_", "BALENA_")
VALUE_LIMIT = 100_000
DEVICE_TAG_LIMIT = 10_000


def _size_rule(resource: str, limit: int) -> str:
    """The field-size rule's sentence, as the reference words it (§6.3)."""
    return (f"It is necessary that each {resource.replace('_', ' ')} has a value that has a Length (Type) "
            f"that is less than or equal to {limit}.")


def _value(resource: str, v: object, limit: int, *, one_line: bool) -> None:
    if not isinstance(v, str):
        return  # the engine's type check answers for it
    if one_line and ("\n" in v or "\r" in v):
        raise RuleViolation("Variable values cannot contain line break characters")
    if len(v) > limit:
        raise RuleViolation(_size_rule(resource, limit))


def env_name(name: object) -> None:
    if not isinstance(name, str):
        return
    if not ENV_NAME.match(name):
        raise RuleViolation("Environment variable names can only contain alphanumeric characters and underscores.")
    if name in RESERVED:
        raise RuleViolation("Environment variables RESIN, BALENA, USER are reserved")
    if name.startswith(NAMESPACES):
        raise RuleViolation("Environment variables beginning with RESIN_, BALENA_ are reserved.")


def config_name(name: object) -> None:
    if not isinstance(name, str):
        return
    if not CONFIG_NAME.match(name):
        raise RuleViolation(
            "Configuration variable names can only contain alphanumeric characters, underscores or a colon")
    if name in RESERVED:
        raise RuleViolation("Configuration variables RESIN, BALENA, USER are reserved")
    if not name.startswith(NAMESPACES):
        raise RuleViolation("Configuration variables must be part of one of the following namespaces: RESIN_, BALENA_")


def tag_key(key: object) -> None:
    if not isinstance(key, str):
        return
    if re.search(r"\s", key):
        raise RuleViolation("Tag keys cannot contain whitespace.")
    for prefix in ("io.resin.", "io.balena."):
        if key.startswith(prefix):
            raise RuleViolation(f"Tag keys beginning with {prefix} are reserved.")


class Checked(Hooks):
    """A variable or tag resource: `check_key` on its key field, a size limit (and for
    variables, one line) on its value."""

    def __init__(self, resource: str, key: str, check_key, limit: int | None, *, variable: bool):
        self.resource, self.key, self.check_key = resource, key, check_key
        self.limit, self.variable = limit, variable

    def _check(self, data: dict) -> dict:
        if self.key in data:
            self.check_key(data[self.key])
        if "value" in data and (self.limit is not None or self.variable):
            _value(self.resource, data["value"], self.limit or 10**12, one_line=self.variable)
        return data

    async def before_post(self, w: Write, data: dict) -> dict:
        return self._check(data)

    async def before_patch(self, w: Write, ids: list, data: dict) -> dict:
        return self._check(data)


def _env(resource: str) -> Checked:
    return Checked(resource, "name", env_name, VALUE_LIMIT, variable=True)


def _config(resource: str) -> Checked:
    return Checked(resource, "name", config_name, VALUE_LIMIT, variable=True)


VARIABLES: dict[str, Hooks] = {
    "application_environment_variable": _env("application_environment_variable"),
    "build_environment_variable": _env("build_environment_variable"),
    "device_environment_variable": _env("device_environment_variable"),
    "service_environment_variable": _env("service_environment_variable"),
    "device_service_environment_variable": _env("device_service_environment_variable"),
    "application_config_variable": _config("application_config_variable"),
    "device_config_variable": _config("device_config_variable"),
    "application_tag": Checked("application_tag", "tag_key", tag_key, None, variable=False),
    "device_tag": Checked("device_tag", "tag_key", tag_key, DEVICE_TAG_LIMIT, variable=False),
    "release_tag": Checked("release_tag", "tag_key", tag_key, None, variable=False),
}
