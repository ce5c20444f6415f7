"""URL literals: reading them at a position and the values they bind.

Stage 1 helper (parse). `LiteralScanner` (the parser's base) reads strings, numbers, dates,
durations, alias references and keys; the functions turn a literal's text into the value
bound for it (`ast.BindValue`), raising `ODataSyntaxError` at the offending offset where
the reference would have thrown (a URIError, answered 500, §2).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from typing import NoReturn, Union

from fleetyard.errors import ODataSyntaxError
from fleetyard.odata.ast import AliasRef, BindValue, Duration, Key, Literal
from fleetyard.odata.lexer import DURATION, NAME, NUMBER, QUOTE_PAIR, STRING, TYPED_PREFIX

_PCT_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2})+")

# Longest digit run accepted in a number: Python refuses to convert > 4300 digits, and no
# column holds such a value anyway.
MAX_DIGITS = 1000


def pct_decode(text: str, url: str, base: int) -> str:
    """`decodeURIComponent(text)`, strict like JavaScript's: a `%` not followed by two hex
    digits, or escapes that are not UTF-8, raise at their offset (`base` is the offset of
    `text` in `url`). JavaScript throws a URIError there, which Pine answers 500 (§2)."""
    if "%" not in text:
        return text
    out: list[str] = []
    pos = 0
    for m in _PCT_RUN.finditer(text):
        start = m.start()
        if start > pos:
            _check_no_percent(text, pos, start, url, base)
            out.append(text[pos:start])
        run = m.group()
        try:
            out.append(bytes.fromhex(run.replace("%", "")).decode("utf-8"))
        except UnicodeDecodeError as e:
            raise ODataSyntaxError(url, base + start + 3 * e.start, "percent escapes of UTF-8 text") from None
        pos = m.end()
    _check_no_percent(text, pos, len(text), url, base)
    out.append(text[pos:])
    return "".join(out)


def _check_no_percent(text: str, start: int, end: int, url: str, base: int) -> None:
    k = text.find("%", start, end)
    if k >= 0:
        raise ODataSyntaxError(url, base + k, "a percent escape '%XX'")


def string_value(raw: str, url: str, base: int) -> str:
    """The value of a quoted string whose body is `raw` (at offset `base`): pairs of
    apostrophes become one, then the text is percent-decoded (§2)."""
    if "'" not in raw and "%27" not in raw:
        return pct_decode(raw, url, base)
    parts: list[str] = []
    pos = 0
    for m in QUOTE_PAIR.finditer(raw):
        parts.append(pct_decode(raw[pos : m.start()], url, base + pos))
        pos = m.end()
    parts.append(pct_decode(raw[pos:], url, base + pos))
    return "'".join(parts)


def number_value(sign: str | None, digits: str, fraction: str | None, url: str, offset: int) -> int | float:
    """A number literal: an int when written without a fraction (§5.3), else a float."""
    if len(digits) > MAX_DIGITS:
        raise ODataSyntaxError(url, offset, f"a number of at most {MAX_DIGITS} digits")
    negative = sign == "-"
    if fraction is None:
        n = int(digits)
        return -n if negative else n
    f = float(digits + fraction)
    return -f if negative else f


# ---------------------------------------------------------------------------------------
# Dates: the ISO forms JavaScript's Date.parse accepts (§5.3), plus the space separator and
# unpadded month/day its fallback parser takes. Python pine-client writes milliseconds
# without zero padding (`.7Z`), which JS reads as a decimal fraction (700 ms): so do we.
# A date-time without an offset is UTC (decisions.md "Values"), not server local time.
# ---------------------------------------------------------------------------------------

_DATE = re.compile(
    r"([+-][0-9]{6}|[0-9]{4})"  # year, or expanded year
    r"(?:-([0-9]{1,2})(?:-([0-9]{1,2}))?)?"  # month, day
    r"(?:[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]+))?)?)?"  # time
    r"(?:([Zz])|([+-])([0-9]{2}):?([0-9]{2}))?"  # offset
).fullmatch

_UTC = timezone.utc


def date_value(text: str) -> datetime | None:
    """The instant `text` denotes, timezone-aware in UTC, or None when it is not a date
    (the reference then reads the whole literal as a property name, §5.3)."""
    m = _DATE(text)
    if m is None:
        return None
    year_s, month_s, day_s, hh, mm, ss, frac, _z, osign, oh, om = m.groups()
    year = int(year_s)
    month = int(month_s) if month_s else 1
    day = int(day_s) if day_s else 1
    hour = int(hh) if hh else 0
    minute = int(mm) if mm else 0
    second = int(ss) if ss else 0
    # JS keeps milliseconds: a fraction's first three digits, right-padded.
    ms = int((frac + "00")[:3]) if frac else 0
    if not (1 <= month <= 12 and 1 <= day <= 31 and minute <= 59 and second <= 59):
        return None
    if hour > 24 or (hour == 24 and (minute or second or ms)):
        return None
    try:
        # Days past the month's end roll over, as V8 does (`2024-02-30` is March 1st).
        value = datetime(year, month, 1, tzinfo=_UTC) + timedelta(
            days=day - 1, hours=hour, minutes=minute, seconds=second, milliseconds=ms
        )
        if osign:
            oh_i, om_i = int(oh), int(om)
            if oh_i > 23 or om_i > 59:
                return None
            offset = timedelta(hours=oh_i, minutes=om_i)
            value = value - offset if osign == "+" else value + offset
    except (OverflowError, ValueError):
        return None  # outside Python's years 1–9999
    return value


def duration_value(groups: tuple[str | None, ...]) -> Duration | None:
    """A `duration'…'` from the DURATION pattern's groups, or None when it has no part
    (`P` alone, or `T` without an hour, minute or second)."""
    sign, days, t, hours, minutes, seconds = groups
    if t is not None and hours is None and minutes is None and seconds is None:
        return None
    if days is None and t is None:
        return None
    for part in (days, hours, minutes, seconds):
        if part is not None and len(part) > MAX_DIGITS:
            return None
    return Duration(
        negative=sign == "-",
        days=int(days) if days else 0,
        hours=int(hours) if hours else 0,
        minutes=int(minutes) if minutes else 0,
        seconds=float(seconds) if seconds else 0.0,
    )


# ---------------------------------------------------------------------------------------
# The scanner: position-level reading the parser builds on. It fails at an offset, binds
# literal values in order of appearance, and reads literals, alias references and keys.
# ---------------------------------------------------------------------------------------

# Nesting deeper than this (parentheses, `not`, lambdas, `$expand`s…) is refused with a
# syntax error rather than risking a RecursionError here or in the later stages.
MAX_DEPTH = 100

_NUMBER_STARTS = frozenset("0123456789+-%")

KeyValue = Union[Literal, AliasRef]


class LiteralScanner:
    __slots__ = ("s", "n", "binds", "aliases", "pending", "depth")

    def __init__(self, url: str) -> None:
        self.s = url
        self.n = len(url)
        self.binds: list[BindValue] = []
        self.aliases: dict[str, Literal] = {}  # `@name` definitions seen so far
        self.pending = False  # an AliasRef was emitted before its alias may be defined
        self.depth = 0

    def fail(self, i: int, expected: str) -> NoReturn:
        raise ODataSyntaxError(self.s, min(i, self.n), expected)

    def expect(self, i: int, ch: str, expected: str | None = None) -> int:
        if self.s.startswith(ch, i):
            return i + len(ch)
        self.fail(i, expected or f"'{ch}'")

    def enter(self, i: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail(i, f"at most {MAX_DEPTH} levels of nesting")

    def bind(self, kind: str, value: object) -> Literal:
        binds = self.binds
        binds.append(BindValue(kind, value))
        return Literal(kind, len(binds) - 1)

    def number(self, m: re.Match[str]) -> Literal:
        return self.bind("Real", number_value(m.group(1), m.group(2), m.group(3), self.s, m.start()))

    def literal(self, i: int) -> tuple[Literal | Duration, int] | None:
        """A string, number, `datetime'…'`, `date'…'` or `duration'…'` at `i`, or None
        when a name starts there (`datetime'garbage'` is a property name, §2)."""
        s = self.s
        c = s[i : i + 1]
        if c == "'" or c == "%":
            m = STRING(s, i)
            if m is not None:
                return self.bind("Text", string_value(m.group(1), s, m.start(1))), m.end()
            if c == "'" or s.startswith("%27", i):
                self.fail(i, "a closing quote for this string")
        if c in _NUMBER_STARTS:
            m = NUMBER(s, i)
            if m is not None:
                return self.number(m), m.end()
        m = TYPED_PREFIX(s, i) if c == "d" else None
        if m is None:
            return None
        kind = m.group(1)
        if kind == "duration":
            d = DURATION(s, i)
            dur = duration_value(d.groups()) if d is not None else None
            if dur is not None:
                return dur, d.end()  # type: ignore[union-attr]
            end = _literal_end(s, m.end())
        else:
            lit, end = self.date_literal(kind, m.end(), fallback=True)
            if lit is not None:
                return lit, end
        # Not a valid date or duration: the reference reads the whole literal as a
        # property name when it is made of name characters only (§2).
        whole = NAME(s, i)
        if whole is None or whole.end() < end:
            self.fail(i + len(kind), f"a valid {kind} literal")
        return None

    def date_literal(self, kind: str, i: int, fallback: bool) -> tuple[Literal | None, int]:
        """`datetime'…'`/`date'…'` from its opening quote at `i`; (None, end) if the text
        is not a date and `fallback` allows reading it as a name instead."""
        s = self.s
        m = STRING(s, i)
        if m is None:
            if fallback:
                return None, _literal_end(s, i)
            self.fail(i, "a closing quote for this date")
        value = date_value(string_value(m.group(1), s, m.start(1)))
        if value is None:
            if fallback:
                return None, m.end()
            self.fail(m.start(1), "an ISO 8601 date")
        return self.bind("DateTime" if kind == "datetime" else "Date", value), m.end()

    def alias_ref(self, i: int) -> tuple[KeyValue, int]:
        """`@name`: the alias's Literal when defined so far, else an AliasRef (replaced
        at the end if the definition comes later in the query string)."""
        m = NAME(self.s, i + 1)
        if m is None:
            self.fail(i + 1, "a parameter alias name")
        name = m.group()
        lit = self.aliases.get(name)
        if lit is not None:
            return lit, m.end()
        self.pending = True
        return AliasRef(name), m.end()

    def key(self, i: int) -> tuple[Key, int]:
        """`(1)`, `('x')`, `(@a)`, `(name=value,…)` (§3.1). No spaces anywhere."""
        s = self.s
        mark = len(self.binds)
        value, j = self.key_value(i + 1)
        if value is not None and s.startswith(")", j):
            return Key(((None, value),)), j + 1
        # Not a plain key: try named parts, as the grammar does (so `(1=2)` names field "1").
        del self.binds[mark:]
        parts: list[tuple[str | None, KeyValue]] = []
        j = i + 1
        while True:
            m = NAME(s, j)
            if m is None:
                self.fail(j, "a key: a number, a quoted string, @alias or name=value")
            j = self.expect(m.end(), "=")
            value, j = self.key_value(j)
            if value is None:
                self.fail(j, "a key value: a number, a quoted string or @alias")
            parts.append((m.group(), value))
            if not s.startswith(",", j):
                return Key(tuple(parts)), self.expect(j, ")", "',' or ')'")
            j += 1

    def key_value(self, i: int) -> tuple[KeyValue | None, int]:
        s = self.s
        if s.startswith("@", i):
            return self.alias_ref(i)
        m = STRING(s, i)
        if m is not None:
            return self.bind("Text", string_value(m.group(1), s, m.start(1))), m.end()
        m = NUMBER(s, i)
        if m is not None:
            return self.number(m), m.end()
        return None, i


def _literal_end(s: str, i: int) -> int:
    """Where a typed literal whose quote opens at `i` ends (past the end if unterminated)."""
    m = STRING(s, i)
    return m.end() if m is not None else len(s) + 1
