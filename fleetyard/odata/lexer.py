"""Lexical rules of the URL dialect: the token patterns the parser matches in place.

Stage 1 helper (parse). The URL is read raw and still percent-encoded (odata.md §2), so a
few encodings are tokens of their own: `%20` and `+` are spaces, `%27` an apostrophe, `%24`
a dollar at the start of an option name, `%2B` a plus sign before a number.
All patterns are compiled once; the parser calls their bound `match` at a position.
"""

from __future__ import annotations

import re

# One unit of whitespace between tokens: a space, `%20` or `+` (§2).
_SP = r"(?: |%20|\+)"

# `Name` (§2): anything but the reserved characters, space and `%`. Apostrophes, dots,
# dashes, digits and non-ASCII are allowed, so `.5` and `True` are names.
NAME = re.compile(r"[^:/?#\[\]@!$*&()+,;= %]+").match
# `/name/name…` continuing a path (a leading `/` kept on each; split on `/` to read).
NAME_LIST = re.compile(r"[^:/?#\[\]@!$*&()+,;= %]+(?:,[^:/?#\[\]@!$*&()+,;= %]+)*").match
NAME_TAIL = re.compile(r"(?:/[^:/?#\[\]@!$*&()+,;= %]+)*").match

# Custom option names and values, alias names: like Name but spaces and `%` are allowed
# (the text is percent-decoded afterwards) and it may be empty (§4).
TEXT = re.compile(r"[^:/?#\[\]@!$*&()+,;=]*").match

SPACES = re.compile(_SP + "*").match

# A binary operator: optional spaces, the keyword, then a boundary (one or more spaces,
# or a `(` left in place) — §2 "a keyword must be followed by whitespace or `(`".
BINARY_OP = re.compile(
    _SP + r"*(eq|ne|gt|ge|lt|le|and|or|sub|add|mod|div|mul)(?:(?=\()|" + _SP + "+)"
).match

# `in` needs whitespace before it (a `(` cannot precede the keyword itself).
IN_OP = re.compile(_SP + r"+in(?:(?=\()|" + _SP + "+)").match

# `not` may be preceded by spaces where a value starts (§5.1 FilterNegateExpression).
NOT_OP = re.compile(_SP + r"*not(?:(?=\()|" + _SP + "+)").match

# `asc`/`desc` after an `$orderby` path.
ORDER_DIR = re.compile(_SP + r"+(asc|desc)").match

# Numbers: optional sign (`+`, `%2B`, `-`), digits, optional fraction. No exponent, no
# leading dot (§5.3).
NUMBER = re.compile(r"(\+|%2B|-)?([0-9]+)(\.[0-9]+)?").match
UINT = re.compile(r"[0-9]+").match

# A quoted string: `'` or `%27` on both sides, `''` (in any mix of the two spellings) for
# one apostrophe. Possessive repeats make it behave like the PEG rule: no backtracking
# into the body, so `'ab''` is unterminated rather than `'ab'` followed by `'`.
STRING = re.compile(r"(?:'|%27)((?:[^'%]++|%(?!27)|(?:'|%27)(?:'|%27))*+)(?:'|%27)").match
QUOTE_PAIR = re.compile(r"(?:'|%27)(?:'|%27)")

# `datetime'…'`, `date'…'` and `duration'…'`: the prefix of a typed literal.
TYPED_PREFIX = re.compile(r"(datetime|date|duration)(?='|%27)").match

# `duration'[sign]P[nD][T[nH][nM][n[.n]S]]'`, read on the raw text like the reference.
DURATION = re.compile(
    r"duration(?:'|%27)(\+|%2B|-)?P(?:([0-9]+)D)?"
    r"(T(?:([0-9]+)H)?(?:([0-9]+)M)?(?:([0-9]+(?:\.[0-9]+)?)S)?)?(?:'|%27)"
).match

# The head of a lambda: `(` spaces variable `:`. No space before or after the colon (§2).
LAMBDA_HEAD = re.compile(r"\(" + _SP + r"*([^:/?#\[\]@!$*&()+,;= %]+):").match

# A system query option name after `$`/`%24` (§4).
SYSTEM_OPTION = re.compile(
    r"(select|filter|expand|orderby|top|skip|count|inlinecount|format)="
).match

# `$format` values (§4): a media type or json/atom/xml, then optionally
# `;metadata=` / `;odata.metadata=` none|minimal|full.
FORMAT = re.compile(
    r"(?:[A-Za-z]+/[A-Za-z]+(?:\+[A-Za-z]+)?|json|atom|xml)"
    r"(?:;(?:odata\.)?metadata=(?:none|minimal|full))?"
).match

# Functions and their arities (§5.5). Names are lowercase only.
FUNCTIONS: dict[str, tuple[int, ...]] = {
    "cast": (1, 2),
    "ceiling": (1,),
    "concat": (2,),
    "contains": (2,),
    "date": (1,),
    "day": (1,),
    "endswith": (2,),
    "floor": (1,),
    "fractionalseconds": (1,),
    "hour": (1,),
    "indexof": (2,),
    "isof": (1, 2),
    "length": (1,),
    "maxdatetime": (0,),
    "mindatetime": (0,),
    "minute": (1,),
    "month": (1,),
    "now": (0,),
    "replace": (3,),
    "round": (1,),
    "second": (1,),
    "startswith": (2,),
    "substringof": (2,),
    "substring": (2, 3),
    "time": (1,),
    "tolower": (1,),
    "totaloffsetminutes": (1,),
    "totalseconds": (1,),
    "toupper": (1,),
    "trim": (1,),
    "year": (1,),
}

# Operator precedence, low to high (§5.2): `and`/`or` share one level; sub < add < mod <
# div < mul, unlike standard OData.
PRECEDENCE: dict[str, int] = {
    "or": 0,
    "and": 0,
    "eq": 1,
    "ne": 1,
    "gt": 1,
    "ge": 1,
    "lt": 1,
    "le": 1,
    "sub": 2,
    "add": 3,
    "mod": 4,
    "div": 5,
    "mul": 6,
}
