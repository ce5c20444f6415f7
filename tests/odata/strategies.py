"""Hypothesis strategies for well-formed OData request URLs over a small model.

`odata_urls(model)` builds URLs the way the balena SDKs do (spec/pinejs-client-urls.md):
real resource, field and navigation names, type-correct literals, nested lambdas,
`$expand`s with nested options, `$orderby`, `$top`, `$skip`, `$select`, in the spellings
the clients put on the wire (`%20`/`+`/space, `'`/`%27`). Any stage after the parser can
use it to check that random well-formed queries never crash it.

The model is a plain dict: resource → {"fields": {name: type}, "navs": {name: (target,
to_many)}}. Types are the model's (`Integer`, `Text`, `Date Time`, …; see FIELD_TYPES).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Callable
from urllib.parse import quote

from hypothesis import strategies as st

Model = dict[str, dict[str, Any]]
Draw = Callable[[st.SearchStrategy[Any]], Any]

INTEGER = {"Serial", "Big Serial", "Integer", "Big Integer", "ForeignKey"}
REAL = {"Real", "Decimal", "Number"}
TEXT = {"Text", "Short Text", "Long Text", "Hashed", "Color"}
DATE = {"Date Time", "DateTime", "Date"}
BOOLEAN = {"Boolean"}
COMPARABLE = INTEGER | REAL | TEXT | DATE | BOOLEAN

# A model to use when a test does not bring its own (Pine's test model, in small).
EXAMPLE_MODEL: Model = {
    "pilot": {
        "fields": {
            "id": "Serial",
            "name": "Text",
            "age": "Integer",
            "is_experienced": "Boolean",
            "hire_date": "Date Time",
            "favourite_colour": "Short Text",
            "licence": "Integer",
            "rating": "Real",
        },
        "navs": {
            "licence": ("licence", False),
            "trained__pilot": ("pilot", True),
            "can_fly__plane": ("pilot__can_fly__plane", True),
        },
    },
    "licence": {
        "fields": {"id": "Serial", "name": "Text", "created_at": "Date Time"},
        "navs": {"is_of__pilot": ("pilot", True)},
    },
    "plane": {
        "fields": {"id": "Serial", "name": "Text", "created_at": "Date Time"},
        "navs": {"can_be_flown_by__pilot": ("pilot__can_fly__plane", True)},
    },
    "pilot__can_fly__plane": {
        "fields": {"id": "Serial", "pilot": "Integer", "can_fly__plane": "Integer"},
        "navs": {"pilot": ("pilot", False), "plane": ("plane", False)},
    },
}

_VARIABLES = ("a", "d", "t", "x", "bta", "dt", "long_name")


def odata_urls(model: Model, max_depth: int = 2) -> st.SearchStrategy[str]:
    """Well-formed request URLs (the part after `/v7`) over `model`."""
    return st.composite(lambda draw: _url(draw, model, max_depth))()


def filter_exprs(model: Model, resource: str, max_depth: int = 2) -> st.SearchStrategy[str]:
    """Well-formed `$filter` expressions on `resource` (unencoded: spaces and quotes raw)."""
    return st.composite(lambda draw: _filter(draw, model, resource, "", max_depth, 0))()


# --- the URL --------------------------------------------------------------------------


def _url(draw: Draw, model: Model, depth: int) -> str:
    resource = draw(st.sampled_from(sorted(model)))
    fields = model[resource]["fields"]
    form = draw(st.sampled_from(["collection", "collection", "collection", "key", "count"]))
    path = "/" + resource
    if form == "key" and "id" in fields:
        path += f"({draw(st.integers(0, 10**6))})"
    if form == "count":
        path += "/$count"
        options = [f"$filter={_filter(draw, model, resource, '', depth, 0)}"] if draw(st.booleans()) else []
    else:
        options = _options(draw, model, resource, depth, top_level=True)
    url = path + ("?" + "&".join(options) if options else "")
    return _transport(draw, url)


def _transport(draw: Draw, url: str) -> str:
    """How clients put the URL on the wire (pinejs-client-urls.md §4): JS fetch sends %20
    and %27, Python requests %20 and raw apostrophes; `+` is a space too."""
    space = draw(st.sampled_from([" ", "%20", "+"]))
    url = url.replace(" ", space)
    if draw(st.booleans()):
        url = url.replace("'", "%27")
    return url


def _options(draw: Draw, model: Model, resource: str, depth: int, top_level: bool) -> list[str]:
    fields = model[resource]["fields"]
    navs = model[resource]["navs"]
    makers: dict[str, Callable[[], str]] = {
        "$select": lambda: _select(draw, fields),
        "$filter": lambda: _filter(draw, model, resource, "", depth, 0),
        "$orderby": lambda: _orderby(draw, model, resource),
        "$top": lambda: str(draw(st.integers(0, 1000))),
        "$skip": lambda: str(draw(st.integers(0, 1000))),
    }
    if navs and depth > 0:
        makers["$expand"] = lambda: _expand(draw, model, resource, depth - 1)
    chosen = draw(st.lists(st.sampled_from(sorted(makers)), unique=True, max_size=len(makers)))
    options = [f"{name}={makers[name]()}" for name in chosen]
    if top_level and draw(st.integers(0, 9)) == 0:
        options.append(draw(st.sampled_from(["returnResource=false", "$format=json", "$count=true"])))
    return options


def _select(draw: Draw, fields: dict[str, str]) -> str:
    if draw(st.integers(0, 5)) == 0:
        return "*"
    return ",".join(draw(st.lists(st.sampled_from(sorted(fields)), min_size=1, unique=True)))


def _orderby(draw: Draw, model: Model, resource: str) -> str:
    fields = model[resource]["fields"]
    navs = model[resource]["navs"]
    sortable = sorted(f for f, t in fields.items() if t in COMPARABLE)
    items: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.integers(0, 5))
        if kind == 0 and navs:
            nav = draw(st.sampled_from(sorted(navs)))
            target = model[navs[nav][0]]
            if navs[nav][1]:  # to-many: order by a count
                path = f"{nav}/$count"
            else:
                path = f"{nav}/{draw(st.sampled_from(sorted(target['fields'])))}"
        elif sortable:
            path = draw(st.sampled_from(sortable))
        else:
            continue
        items.append(path + draw(st.sampled_from([" asc", " desc", ""])))
    return ",".join(items) or "id desc"


def _expand(draw: Draw, model: Model, resource: str, depth: int) -> str:
    navs = model[resource]["navs"]
    chosen = draw(st.lists(st.sampled_from(sorted(navs)), min_size=1, max_size=3, unique=True))
    items = []
    for nav in chosen:
        target = navs[nav][0]
        if draw(st.integers(0, 4)) == 0:
            count = f"{nav}/$count"
            if draw(st.booleans()):
                count += f"($filter={_filter(draw, model, target, '', depth, 0)})"
            items.append(count)
            continue
        nested = _options(draw, model, target, depth, top_level=False)
        items.append(nav + (f"({';'.join(nested)})" if nested else ""))
    return ",".join(items)


# --- $filter --------------------------------------------------------------------------


def _filter(draw: Draw, model: Model, resource: str, prefix: str, depth: int, level: int) -> str:
    """An expression on `resource`, whose names are written after `prefix` (`v/` inside a
    lambda over variable v). `level` numbers nested lambdas, for unique variables."""
    kind = draw(st.integers(0, 9 if depth > 0 else 5 if level < 4 else 4))
    if kind <= 4:
        return _comparison(draw, model, resource, prefix)
    if kind == 5:
        return _nav_predicate(draw, model, resource, prefix, level)
    left = _filter(draw, model, resource, prefix, depth - 1, level)
    if kind == 6:
        return f"not({left})"
    right = _filter(draw, model, resource, prefix, depth - 1, level)
    op = draw(st.sampled_from(["and", "or"]))
    return f"({left}) {op} ({right})" if kind == 7 else f"({left} {op} {right})"


def _nav_predicate(draw: Draw, model: Model, resource: str, prefix: str, level: int) -> str:
    navs = model[resource]["navs"]
    if not navs:
        return _comparison(draw, model, resource, prefix)
    nav = draw(st.sampled_from(sorted(navs)))
    target, many = navs[nav]
    kind = draw(st.integers(0, 3))
    if kind == 0:
        op = draw(st.sampled_from(["eq", "ne", "gt", "ge", "lt", "le"]))
        count = f"{prefix}{nav}/$count"
        if draw(st.booleans()):
            count += f"($filter={_comparison(draw, model, target, '')})"
        return f"{count} {op} {draw(st.integers(0, 5))}"
    if kind == 1 and not many:  # a to-one path
        return _comparison(draw, model, target, f"{prefix}{nav}/")
    var = f"{_VARIABLES[level % len(_VARIABLES)]}{level}"
    body = _filter(draw, model, target, f"{var}/", 1 if level < 2 else 0, level + 1)
    return f"{prefix}{nav}/{draw(st.sampled_from(['any', 'all']))}({var}:{body})"


def _comparison(draw: Draw, model: Model, resource: str, prefix: str) -> str:
    fields = {f: t for f, t in model[resource]["fields"].items() if t in COMPARABLE}
    if not fields:
        return "true"
    name = draw(st.sampled_from(sorted(fields)))
    typ = fields[name]
    ref = prefix + name
    kind = draw(st.integers(0, 6))
    if typ in BOOLEAN:
        return draw(st.sampled_from([ref, f"{ref} eq {_literal(draw, typ)}", f"not {ref}", f"{ref} ne null"]))
    if kind == 0:
        return f"{ref} {draw(st.sampled_from(['eq', 'ne']))} null"
    if kind == 1:
        sep = draw(st.sampled_from([",", ", "]))
        return f"{ref} in ({sep.join(_literal(draw, typ) for _ in range(draw(st.integers(1, 4))))})"
    if kind == 2 and typ in TEXT:
        fn = draw(st.sampled_from(["contains", "startswith", "endswith"]))
        return f"{fn}({ref},{_literal(draw, typ)})"
    if kind == 3 and typ in TEXT:
        fn = draw(st.sampled_from(["tolower", "toupper", "trim"]))
        return f"{fn}({ref}) eq {_literal(draw, typ)}"
    if kind == 3 and typ in DATE:
        fn = draw(st.sampled_from(["year", "month", "day", "hour"]))
        return f"{fn}({ref}) eq {draw(st.integers(0, 2030))}"
    if kind == 4 and typ in INTEGER:
        op = draw(st.sampled_from(["add", "sub", "mul"]))
        return f"{ref} {op} {draw(st.integers(0, 100))} gt {draw(st.integers(-1000, 1000))}"
    if kind == 4 and typ in DATE:
        return f"{ref} lt now()"
    op = draw(st.sampled_from(["eq", "ne", "gt", "ge", "lt", "le"]))
    return f"{ref} {op} {_literal(draw, typ)}"


def _literal(draw: Draw, typ: str) -> str:
    if typ in INTEGER:
        return str(draw(st.integers(-1000, 10**9)))
    if typ in REAL:
        whole, frac = draw(st.integers(-1000, 1000)), draw(st.integers(0, 999))
        return f"{whole}.{frac}"
    if typ in BOOLEAN:
        return draw(st.sampled_from(["true", "false"]))
    if typ in DATE:
        moment = datetime(2000, 1, 1, tzinfo=timezone.utc) + timedelta(
            milliseconds=draw(st.integers(0, 30 * 365 * 86400 * 1000))
        )
        text = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
        if draw(st.booleans()):
            text = text.replace(":", "%3A")
        return f"datetime'{text}'"
    text = draw(st.text(max_size=12))
    # pinejs-client: double the apostrophes, then encodeURIComponent (which keeps them).
    return "'" + quote(text.replace("'", "''"), safe="-_.!~*'()") + "'"

