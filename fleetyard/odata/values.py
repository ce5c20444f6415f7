"""Values: URL literals and request-body values checked against a field type and turned
into what each database stores.

Used by the compiler's parameter specs (literals) and by writes (bodies). Messages follow
the reference (spec/odata.md §11): `"cpu_temp" is not a number: abc`. Storage: SQLite
keeps booleans as 0/1 and dates as ISO-8601 text with milliseconds and `Z`; PostgreSQL
gets `bool` and aware `datetime` (spec/decisions.md, "Values").
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timezone

import orjson

from fleetyard.errors import ValueError_
from fleetyard.model.schema import DATE_TYPES, INTEGER_TYPES, TEXT_TYPES

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_INT = re.compile(r"[+-]?\d+\Z")
_NUM = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\Z")
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?"
    r"(Z|[+-]\d{2}:?\d{2})?\Z"
)
MAX_INT = {"Integer": 2**31 - 1, "Serial": 2**31 - 1}
MAX_BIG = 2**63 - 1


def _show(value: object) -> str:
    if isinstance(value, (dict, list)):
        return "[object Object]" if isinstance(value, dict) else ",".join(map(str, value))
    return str(value)


def parse_datetime(text: str) -> datetime | None:
    """An ISO-8601 date or date-time; no offset means UTC. None when it is not one."""
    m = _ISO.match(text.strip())
    if not m:
        return None
    y, mo, d, h, mi, s, frac, tz = m.groups()
    try:
        micro = int((frac or "0")[:6].ljust(6, "0"))
        dt = datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), micro)
    except ValueError:
        return None
    if tz and tz != "Z":
        sign = -1 if tz[0] == "-" else 1
        digits = tz[1:].replace(":", "")
        offset = sign * (int(digits[:2]) * 60 + int(digits[2:]))
        from datetime import timedelta

        return (dt - timedelta(minutes=offset)).replace(tzinfo=timezone.utc)
    return dt.replace(tzinfo=timezone.utc)


def iso(dt: datetime) -> str:
    """The one text form of a date-time: UTC, milliseconds, `Z`."""
    dt = dt.astimezone(timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def check(name: str, type_: str, value: object, *, max_length: int | None = None) -> object:
    """Check a body or literal value against a field type; return the canonical Python
    value (int, float, str, bool, aware datetime, dict/list) or raise ValueError_."""
    if type_ in INTEGER_TYPES:
        if isinstance(value, bool):
            raise ValueError_(f'"{name}" is not a number: {value}')
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, str) and _INT.match(value.strip()):
            value = int(value)
        if not isinstance(value, int):
            raise ValueError_(f'"{name}" is not an integer: {_show(value)}')
        limit = MAX_INT.get(type_, MAX_BIG)
        if not -limit - 1 <= value <= limit:
            raise ValueError_(f'"{name}" is out of range: {value}')
        return value
    if type_ == "Real":
        if isinstance(value, bool):
            raise ValueError_(f'"{name}" is not a number: {value}')
        if isinstance(value, str) and _NUM.match(value.strip()):
            return float(value)
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError_(f'"{name}" is not a number: {_show(value)}')
        return value
    if type_ in TEXT_TYPES:
        if not isinstance(value, str):
            raise ValueError_(f'"{name}" is not a string: {_show(value)}')
        text_limit = max_length or (255 if type_ == "Short Text" else None)
        if text_limit is not None and len(value) > text_limit:
            raise ValueError_(f'"{name}" must be at most {text_limit} characters long')
        if "\x00" in value:
            raise ValueError_(f'"{name}" must not contain a NUL character')
        return value
    if type_ == "Boolean":
        if isinstance(value, bool):
            return value
        if value in (0, 1) and not isinstance(value, float):
            return bool(value)
        if value in ("true", "1"):
            return True
        if value in ("false", "0"):
            return False
        kind = type(value).__name__.replace("str", "string")
        raise ValueError_(f'"{name}" is not a boolean: {orjson.dumps(value).decode()} ({kind})')
    if type_ in DATE_TYPES:
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                return datetime.fromtimestamp(value / 1000, timezone.utc)
            except (OverflowError, ValueError, OSError):
                pass
        elif isinstance(value, str):
            if _NUM.match(value.strip()):
                return check(name, type_, float(value))
            dt = parse_datetime(value)
            if dt is not None:
                return dt
        raise ValueError_(f'"{name}" is not a valid date: {_show(value)}')
    if type_ == "JSON":
        if not isinstance(value, (dict, list)):
            raise ValueError_(f'"{name}" is not an object/array: {_show(value)}')
        return value
    raise ValueError_(f'"{name}" has an unknown type {type_}')


def to_db(dialect: str, type_: str, value: object) -> object:
    """A checked value in the form the database driver takes."""
    if value is None:
        return None
    if type_ in DATE_TYPES:
        return iso(value) if dialect == "sqlite" else value  # type: ignore[arg-type]
    if type_ == "Boolean":
        return (1 if value else 0) if dialect == "sqlite" else bool(value)
    if type_ == "JSON":
        return orjson.dumps(value).decode()
    return value
