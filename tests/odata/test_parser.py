"""Unit tests of `fleetyard.odata.parse`: the exact tree for every construct of the dialect
(spec/odata.md §2–§8) and the offsets of syntax errors."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from fleetyard.odata import ODataSyntaxError, parse
from fleetyard.odata.ast import (
    AliasRef,
    BinOp,
    BindValue,
    Call,
    CountOf,
    Duration,
    ExpandItem,
    In,
    Key,
    Lambda,
    Literal,
    MethodCall,
    Not,
    Null,
    Options,
    OrderItem,
    Path,
    Request,
    Segment,
)
from fleetyard.odata.parser import MAX_DEPTH

UTC = timezone.utc


def P(*names: str | Segment, tail: object = None) -> Path:
    return Path(tuple(Segment(n) if isinstance(n, str) else n for n in names), tail)  # type: ignore[arg-type]


def R(i: int) -> Literal:
    return Literal("Real", i)


def T(i: int) -> Literal:
    return Literal("Text", i)


def B(i: int) -> Literal:
    return Literal("Boolean", i)


def flt(expr: str) -> tuple[object, list[object]]:
    """The filter tree and the bound values of `/r?$filter=<expr>`."""
    req = parse("/r?$filter=" + expr)
    return req.options.filter, [b.value for b in req.binds]


def tree(expr: str) -> object:
    return flt(expr)[0]


def syntax_error(url: str) -> ODataSyntaxError:
    with pytest.raises(ODataSyntaxError) as info:
        parse(url)
    return info.value


# ---------------------------------------------------------------------------------------
# Resource paths (§3)
# ---------------------------------------------------------------------------------------


def test_collection():
    assert parse("/device") == Request("device")
    assert parse("/device?") == Request("device")  # a trailing `?` is allowed


def test_numeric_text_and_alias_keys():
    r = parse("/device(1)")
    assert r.key == Key(((None, R(0)),)) and r.binds == (BindValue("Real", 1),)
    r = parse("/device_type('raspberrypi4-64')")
    assert r.key == Key(((None, T(0)),)) and r.binds[0].value == "raspberrypi4-64"
    assert parse("/d(-1)").binds[0].value == -1
    assert parse("/d(1.5)").binds[0].value == 1.5
    r = parse("/device(@id)?@id=7")
    assert r.key == Key(((None, R(0)),)) and r.binds == (BindValue("Real", 7),)
    assert parse("/device(@id)").key == Key(((None, AliasRef("id")),))


def test_named_and_composite_keys():
    r = parse("/application(slug='myorg%2Fmyfleet')")
    assert r.key == Key((("slug", T(0)),)) and r.binds[0].value == "myorg/myfleet"
    r = parse("/device_tag(device=1,tag_key='env')")
    assert r.key == Key((("device", R(0)), ("tag_key", T(1))))
    assert [b.value for b in r.binds] == [1, "env"]
    r = parse("/device(uuid=@u)?@u='abc'")
    assert r.key == Key((("uuid", T(0)),)) and r.binds[0].value == "abc"


@pytest.mark.parametrize(
    "url",
    ["/d(true)", "/d(null)", "/d(datetime'2024-01-01')", "/d(abc)", "/d()", "/d(1,2)", "/d(a=1, b=2)", "/d( 1)"],
)
def test_bad_keys(url):
    syntax_error(url)


def test_navigation_only_after_a_keyed_segment():
    r = parse("/application(1)/owns__device(5)")
    assert r.navigation == (Segment("owns__device", Key(((None, R(1)),))),)
    r = parse("/device(1)/belongs_to__application/organization")
    assert r.navigation == (Segment("belongs_to__application"), Segment("organization"))
    assert parse("/device(1)/canAccess").navigation == (Segment("canAccess"),)
    assert syntax_error("/model/child").offset == 6


def test_count_path():
    assert parse("/device/$count") == Request("device", count=True)
    r = parse("/application(1)/owns__device/$count?$filter=is_online eq true")
    assert r.count and r.navigation == (Segment("owns__device"),) and r.options.filter is not None
    assert parse("/a(1)/b(2)/$count").count
    for bad in ("/pilot(5)/$count", "/pilot/$count/$count", "/a(1)/b/$count/c", "/d/$count(1)"):
        syntax_error(bad)


def test_links():
    r = parse("/pilot(1)/$links/licence(2)")
    assert r.links and r.navigation == (Segment("licence", Key(((None, R(1)),))),)
    r = parse("/model(1)/$links/child/$count")
    assert r.links and r.count and r.navigation == (Segment("child"),)
    syntax_error("/a(1)/$links/b/c")  # $links is only before the last segment
    syntax_error("/a(1)/$links/$count")


def test_special_paths():
    assert parse("/$metadata") == Request("$metadata", special="$metadata")
    assert parse("/") == Request("", special="/")
    r = parse("$1/child")
    assert r.special == "$1" and r.resource == "$1" and r.navigation == (Segment("child"),)
    for bad in ("/$batch", "/d/", "/d(1)/", "", "device", "/$metadata?x=1", "//"):
        syntax_error(bad)


# ---------------------------------------------------------------------------------------
# Literals and binds (§2, §5.3)
# ---------------------------------------------------------------------------------------


def test_numbers():
    assert flt("a eq 5") == (BinOp("eq", (P("a"), R(0))), [5])
    assert flt("a eq -2.5")[1] == [-2.5]
    assert flt("a eq +3")[1] == [3]  # `+` before the value is a space, then 3
    assert flt("+3 eq a")[1] == [3]  # at the start it is a sign
    assert flt("a eq %2B3")[1] == [3]
    assert flt("a eq 007")[1] == [7]
    v = flt("a eq 2")[1][0]
    assert type(v) is int
    assert type(flt("a eq 2.0")[1][0]) is float
    assert tree("a eq .5") == BinOp("eq", (P("a"), P(".5")))  # `.5` is a property name
    for bad in ("a eq 1e3", "a eq 1.", "a eq 2abc", "id eq 5/$count"):
        syntax_error("/r?$filter=" + bad)


def test_booleans_and_null():
    assert flt("a eq true") == (BinOp("eq", (P("a"), B(0))), [True])
    assert flt("a eq false")[1] == [False]
    assert tree("a eq null") == BinOp("eq", (P("a"), Null()))
    assert tree("a eq True") == BinOp("eq", (P("a"), P("True")))  # keywords are lowercase


def test_strings():
    assert flt("a eq 'x'") == (BinOp("eq", (P("a"), T(0))), ["x"])
    assert flt("a eq 'It''s'")[1] == ["It's"]
    assert flt("a eq ''''")[1] == ["'"]
    assert flt("a eq %27x%27")[1] == ["x"]  # the apostrophe may be %27
    assert flt("a eq %27It%27%27s%27")[1] == ["It's"]
    assert flt("a eq 'It'%27s'")[1] == ["It's"]  # a mix of both spellings
    assert flt("a eq 'a%20b'")[1] == ["a b"]  # decoded once, after un-quoting
    assert flt("a eq 'x%2Fy'")[1] == ["x/y"]
    assert flt("a eq '100%25'")[1] == ["100%"]
    assert flt("a eq 'a+b'")[1] == ["a+b"]  # `+` stays a plus inside a string
    assert flt("a eq 'a&b#c/d?e'")[1] == ["a&b#c/d?e"]
    assert flt("a eq 'caf%C3%A9'")[1] == ["café"]
    assert flt("a eq 'It''s%20100%25%20a%2Fb%20%26%20c%3F%23'")[1] == ["It's 100% a/b & c?#"]


@pytest.mark.parametrize(
    "expr,offset",
    [("a eq 'x%zz'", 18), ("a eq 'x%4'", 18), ("a eq 'ok%C3'", 19), ("a eq 'ok%C3%28'", 19), ("a eq 'x%'", 18)],
)
def test_bad_percent_escape_points_at_it(expr, offset):
    url = "/r?$filter=" + expr
    err = syntax_error(url)
    assert err.offset == offset and url[offset] == "%"


def test_unterminated_string():
    err = syntax_error("/r?$filter=a eq 'abc")
    assert err.offset == 16


def dt(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    "text,value",
    [
        ("2024-01-02T03:04:05.678Z", dt(2024, 1, 2, 3, 4, 5, 678000)),
        ("2024-01-02T03:04", dt(2024, 1, 2, 3, 4)),  # no offset: UTC (decisions.md)
        ("2024-01-02", dt(2024, 1, 2)),
        ("2024-01-02T03:04:05+01:00", dt(2024, 1, 2, 2, 4, 5)),
        ("2024-01-02T03:04:05-0130", dt(2024, 1, 2, 4, 34, 5)),
        ("2026-11-22T15%3A45%3A00.976Z", dt(2026, 11, 22, 15, 45, 0, 976000)),
        ("2024-01-02T03:04:05.7Z", dt(2024, 1, 2, 3, 4, 5, 700000)),  # pine-client's `.7Z`
        ("2024-01-02T03:04:05.07Z", dt(2024, 1, 2, 3, 4, 5, 70000)),
        ("2024-01-02T03:04:05.1239Z", dt(2024, 1, 2, 3, 4, 5, 123000)),
        ("2024-01-02%2003:04:05", dt(2024, 1, 2, 3, 4, 5)),
        ("2024", dt(2024, 1, 1)),
        ("2024-02-30", dt(2024, 3, 1)),  # rolls over, as V8 does
        ("2024-01-02T24:00Z", dt(2024, 1, 3)),
    ],
)
def test_datetime_literals(text, value):
    f, binds = flt(f"a gt datetime'{text}'")
    assert f == BinOp("gt", (P("a"), Literal("DateTime", 0)))
    assert binds == [value] and binds[0].tzinfo is not None


def test_date_literal_and_invalid_dates():
    f, binds = flt("a eq date'2024-01-02'")
    assert f == BinOp("eq", (P("a"), Literal("Date", 0))) and binds == [dt(2024, 1, 2)]
    # An unparseable date is not a date literal: it reads as a property name (§5.3).
    assert tree("a eq datetime'garbage'") == BinOp("eq", (P("a"), P("datetime'garbage'")))
    for bad in ("datetime'2024-13-01T00%3A00'", "datetime'2024-01-02T03%3A04%3A60Z'", "datetime'x y'"):
        syntax_error("/r?$filter=a eq " + bad)


@pytest.mark.parametrize(
    "text,value",
    [
        ("-P3DT4H5M6.7S", Duration(True, 3, 4, 5, 6.7)),
        ("P1D", Duration(False, 1, 0, 0, 0.0)),
        ("+P1D", Duration(False, 1, 0, 0, 0.0)),
        ("PT1.1S", Duration(False, 0, 0, 0, 1.1)),
        ("PT1M", Duration(False, 0, 0, 1, 0.0)),
        ("-P1DT2H3M4.5S", Duration(True, 1, 2, 3, 4.5)),
    ],
)
def test_durations(text, value):
    f, binds = flt(f"a eq duration'{text}'")
    assert f == BinOp("eq", (P("a"), value)) and binds == []  # kept inline, not bound


def test_invalid_durations_are_names_or_errors():
    assert tree("a eq duration'PT'") == BinOp("eq", (P("a"), P("duration'PT'")))
    assert tree("a eq duration'P'") == BinOp("eq", (P("a"), P("duration'P'")))
    syntax_error("/r?$filter=a eq duration'P1D%20'")


def test_binds_in_order_of_appearance():
    r = parse("/d(7)?$filter=a eq 'x' and b eq 2&$top=3&$skip=4")
    assert [b.kind for b in r.binds] == ["Real", "Text", "Real", "Real", "Real"]
    assert [b.value for b in r.binds] == [7, "x", 2, 3, 4]
    assert r.options.top == R(3) and r.options.skip == R(4)


def test_equal_shapes_compare_equal_whatever_the_values():
    a, b = parse("/d?$filter=a eq 'x'&$top=1"), parse("/d?$filter=a eq 'y'&$top=20")
    assert a == b and hash(a) == hash(b) and a.binds != b.binds


def test_top_and_skip():
    r = parse("/pilot?$top=5&$skip=100")
    assert r.options.top == R(0) and r.options.skip == R(1)
    assert [type(b.value) for b in r.binds] == [int, int]
    for bad in ("$top=-1", "$top=1.5", "$top=abc", "$skip=", "$top=+1"):
        syntax_error("/p?" + bad)


# ---------------------------------------------------------------------------------------
# Parameter aliases (§4)
# ---------------------------------------------------------------------------------------


def test_alias_values():
    cases = {
        "1": ("Real", 1),
        "-2.5": ("Real", -2.5),
        "true": ("Boolean", True),
        "false": ("Boolean", False),
        "'a%20b'": ("Text", "a b"),
        "datetime'2024-01-02T03%3A04Z'": ("DateTime", dt(2024, 1, 2, 3, 4)),
        "date'2024-01-02'": ("Date", dt(2024, 1, 2)),
    }
    for text, (kind, value) in cases.items():
        r = parse(f"/d?$filter=a eq @x&@x={text}")
        assert r.options.filter == BinOp("eq", (P("a"), Literal(kind, 0))), text
        assert r.binds == (BindValue(kind, value),)


def test_alias_defined_before_use_and_used_twice():
    r = parse("/pilot?@x='Amber'&$filter=name eq @x or favourite_colour eq @x")
    assert r.options.filter == BinOp("or", (BinOp("eq", (P("name"), T(0))), BinOp("eq", (P("favourite_colour"), T(0)))))
    assert len(r.binds) == 1
    r = parse("/pilot?$filter=name eq @x or favourite_colour eq @x&@x='Amber'")
    assert r.options.filter == BinOp("or", (BinOp("eq", (P("name"), T(0))), BinOp("eq", (P("favourite_colour"), T(0)))))


def test_alias_in_nested_places_is_replaced():
    r = parse("/a?$expand=b($filter=c/any(x:x/d eq @v))&$filter=e(k=@v)/f eq 1&@v=3")
    inner = r.options.expand[0].options.filter
    assert inner == P("c", tail=Lambda("any", "x", BinOp("eq", (P("x", "d"), R(1)))))
    assert r.options.filter == BinOp("eq", (P(Segment("e", Key((("k", R(1)),))), "f"), R(0)))


def test_undefined_alias_stays_a_reference():
    assert tree("id eq @missingParam") == BinOp("eq", (P("id"), AliasRef("missingParam")))


@pytest.mark.parametrize("url", ["/d?@x=null", "/d?@x=abc", "/d?@x=1&@x=2", "/d?@x=", "/d?@x=duration'P1D'", "/d?@x"])
def test_bad_alias_definitions(url):
    syntax_error(url)


def test_duplicate_alias_points_at_second_definition():
    assert syntax_error("/d?@x=1&@x=2").offset == 9


def test_pine_alias_bug_is_not_copied():
    # Pine turns %20 in strings into `+` when the URL has an alias (§2): we parse normally.
    r = parse("/d?$filter=a eq 'dev%20one' and b eq @u&@u='x'")
    assert [b.value for b in r.binds] == ["dev one", "x"]
    assert parse("/d?$filter=a eq 'x&y' and b eq @u&@u=1").binds[0].value == "x&y"


# ---------------------------------------------------------------------------------------
# Operators (§5.2)
# ---------------------------------------------------------------------------------------

a, b, c = P("a"), P("b"), P("c")


@pytest.mark.parametrize(
    "expr,expected",
    [
        # and/or share one level, left to right
        ("a eq 1 or b eq 2 and c eq 3",
         BinOp("and", (BinOp("or", (BinOp("eq", (a, R(0))), BinOp("eq", (b, R(1))))), BinOp("eq", (c, R(2)))))),
        ("a eq 1 and b eq 2 or c eq 3",
         BinOp("or", (BinOp("and", (BinOp("eq", (a, R(0))), BinOp("eq", (b, R(1))))), BinOp("eq", (c, R(2)))))),
        ("a sub 1 add 2", BinOp("sub", (a, BinOp("add", (R(0), R(1)))))),
        ("a div 2 mul 3", BinOp("div", (a, BinOp("mul", (R(0), R(1)))))),
        ("a add 1 mul 2", BinOp("add", (a, BinOp("mul", (R(0), R(1)))))),
        ("a mul 2 div 3", BinOp("div", (BinOp("mul", (a, R(0))), R(1)))),
        ("a mod 2 div 3", BinOp("mod", (a, BinOp("div", (R(0), R(1)))))),
        ("a add 1 mod 2", BinOp("add", (a, BinOp("mod", (R(0), R(1)))))),
        ("not a eq 1", BinOp("eq", (Not(a), R(0)))),
        ("a sub 1 sub 2", BinOp("sub", (a, R(0), R(1)))),
        ("a eq b eq c", BinOp("eq", (a, b, c))),
        ("a and b and c or a", BinOp("or", (BinOp("and", (a, b, c)), a))),
        ("a add 1 gt 2", BinOp("gt", (BinOp("add", (a, R(0))), R(1)))),
        ("(a sub 1) sub 2", BinOp("sub", (BinOp("sub", (a, R(0))), R(1)))),  # a group is kept
        ("a and (b and c)", BinOp("and", (a, BinOp("and", (b, c))))),
        ("a eq 1and b eq 2", BinOp("and", (BinOp("eq", (a, R(0))), BinOp("eq", (b, R(1)))))),
        ("a%20eq%201", BinOp("eq", (a, R(0)))),
        ("a+eq+1", BinOp("eq", (a, R(0)))),
        ("a eq(1)", BinOp("eq", (a, R(0)))),
        ("a  eq   1", BinOp("eq", (a, R(0)))),
    ],
)
def test_precedence(expr, expected):
    assert tree(expr) == expected


def test_not():
    assert tree("not(a eq 1)") == Not(BinOp("eq", (a, R(0))))
    assert tree("not (a eq 1)") == Not(BinOp("eq", (a, R(0))))
    assert tree("not not a") == Not(Not(a))
    assert tree("not%20a") == Not(a)
    assert tree("nota") == P("nota")  # a keyword needs a boundary
    assert tree("not/x") == P("not", "x")
    assert tree("a eq not(true)") == BinOp("eq", (a, Not(B(0))))


def test_in_lists():
    f, binds = flt("id in (1,2,3)")
    assert f == In(P("id"), (R(0), R(1), R(2))) and binds == [1, 2, 3]
    assert tree("id in (1, 2, 3)") == In(P("id"), (R(0), R(1), R(2)))  # pine-client's spaces
    assert tree("uuid in ('a','b''c')") == In(P("uuid"), (T(0), T(1)))
    assert tree("a in (null, 1)") == In(a, (Null(), R(0)))
    assert tree("a in ((1), ((2)))") == In(a, (R(0), R(1)))
    # non-literal primitives become Null, as Pine does (§5.3)
    assert tree("a in (b, 1)") == In(a, (Null(), R(0)))
    assert tree("a in (duration'P1D')") == In(a, (Null(),))
    assert tree("a in (true,datetime'2024-01-01')") == In(a, (B(0), Literal("DateTime", 1)))
    assert tree("a in(1)") == In(a, (R(0),))
    # `in` binds to the value just before it
    assert tree("a eq b in (1)") == BinOp("eq", (a, In(b, (R(0),))))
    assert tree("a in (1) eq true") == BinOp("eq", (In(a, (R(0),)), B(1)))
    for bad in ("a in ()", "a in (1 ,2)", "a in (1,2 )", "a in (@x)", "a in (tolower(b))", "a in 1"):
        syntax_error("/r?$filter=" + bad)


def test_whitespace_rules():
    for bad in (
        " a eq 1",  # leading spaces only before `not`
        "a eq 1 ",
        "a eq1",
        "a EQ 1",
        "any(d: d/x eq 1)",
        "b/any(d :d/x eq 1)",
        "b/any(d: d/x eq 1)",
    ):
        syntax_error("/r?$filter=" + bad)
    assert tree(" not a") == Not(a)
    assert tree("b/any( d:d/x eq 1 )") == P("b", tail=Lambda("any", "d", BinOp("eq", (P("d", "x"), R(0)))))


# ---------------------------------------------------------------------------------------
# Functions, lambdas, paths (§5.5, §5.6)
# ---------------------------------------------------------------------------------------


def test_functions():
    assert tree("contains(name,'et')") == Call("contains", (P("name"), T(0)))
    assert tree("substringof('Pete',name)") == Call("substringof", (T(0), P("name")))
    assert tree("now()") == Call("now", ())
    assert tree("now( )") == Call("now", ())
    assert tree("concat( a , 'x' ) eq 'y'") == BinOp("eq", (Call("concat", (a, T(0))), T(1)))
    assert tree("substring(a,1)") == Call("substring", (a, R(0)))
    assert tree("substring(a,1,2)") == Call("substring", (a, R(0), R(1)))
    assert tree("isof(a)") == Call("isof", (a,))
    assert tree("cast(a, 'Edm.String')") == Call("cast", (a, T(0)))
    assert tree("tolower(trained__pilot/name) eq 'pete'") == BinOp(
        "eq", (Call("tolower", (P("trained__pilot", "name"),)), T(0))
    )
    assert tree("(contains(name,'et'))") == Call("contains", (P("name"), T(0)))
    assert tree("year(created_at) eq 2024") == BinOp("eq", (Call("year", (P("created_at"),)), R(0)))


@pytest.mark.parametrize(
    "expr",
    ["concat(a,b,c)", "tolower(a,'X')", "now(1)", "contains(a)", "substring(a)", "Contains(a,'x')", "foo(a)", "has(a,b)", "length()"],
)
def test_bad_calls(expr):
    syntax_error("/r?$filter=" + expr)


def test_arity_error_points_at_function_name():
    err = syntax_error("/r?$filter=a eq concat(a,b,c)")
    assert err.offset == 16 and "concat" in err.expected


def test_resource_methods():
    assert tree("child/canAccess(test)") == P("child", tail=MethodCall("canAccess", (P("test"),)))
    assert tree("a/Auth.canAccess()") == P("a", tail=MethodCall("Auth.canAccess", ()))
    assert tree("a/any()") == P("a", tail=MethodCall("any", ()))  # not a lambda (§5.6)
    assert tree("a/b/m(1)") == P("a", "b", tail=MethodCall("m", (R(0),)))
    syntax_error("/r?$filter=Auth.canAccess()")  # only after a navigation


def test_lambdas():
    assert tree("device_tag/any(dt:dt/tag_key eq 'env' and dt/value eq 'prod')") == P(
        "device_tag",
        tail=Lambda("any", "dt", BinOp("and", (BinOp("eq", (P("dt", "tag_key"), T(0))), BinOp("eq", (P("dt", "value"), T(1)))))),
    )
    assert tree("identification_method/all(d:true)") == P("identification_method", tail=Lambda("all", "d", B(0)))
    nested = tree("owns__device/any(d:d/device_tag/any(t:t/value eq d/device_name))")
    assert nested == P(
        "owns__device",
        tail=Lambda("any", "d", P("d", "device_tag", tail=Lambda("any", "t", BinOp("eq", (P("t", "value"), P("d", "device_name")))))),
    )
    assert tree("child/grandchild/all(d:d/name eq 'cake')") == P(
        "child", "grandchild", tail=Lambda("all", "d", BinOp("eq", (P("d", "name"), T(0))))
    )
    assert tree("a/any(long_name:long_name/x)") == P("a", tail=Lambda("any", "long_name", P("long_name", "x")))
    assert tree("a/any(d:not d/x)") == P("a", tail=Lambda("any", "d", Not(P("d", "x"))))
    # python pine-client parenthesises every operand
    assert tree("a/any(d:(d/x eq 1) and (d/y eq 2))") == P(
        "a", tail=Lambda("any", "d", BinOp("and", (BinOp("eq", (P("d", "x"), R(0))), BinOp("eq", (P("d", "y"), R(1))))))
    )


def test_count_in_filters():
    assert tree("owns__device/$count eq 0") == BinOp("eq", (P("owns__device", tail=CountOf()), R(0)))
    assert tree("owns__device/$count($filter=is_online eq true) gt 5") == BinOp(
        "gt", (P("owns__device", tail=CountOf(BinOp("eq", (P("is_online"), B(0))))), R(1))
    )
    assert tree("a/$count(%24filter=b)") == P("a", tail=CountOf(P("b")))
    for bad in ("a/$count($top=1)", "a/$count()", "a/$count/b", "a/$count(filter=b)"):
        syntax_error("/r?$filter=" + bad)


def test_keys_inside_property_paths():
    r = parse("/pilot?$orderby=identification_method(identification_type='passport')/identification_number desc")
    key = Key((("identification_type", T(0)),))
    assert r.options.orderby == (OrderItem(P(Segment("identification_method", key), "identification_number"), "desc"),)
    assert tree("a(1)/b eq 2") == BinOp("eq", (P(Segment("a", Key(((None, R(0)),))), "b"), R(1)))
    assert tree("a/b(k='x')/c eq 1") == BinOp("eq", (P("a", Segment("b", Key((("k", T(0)),))), "c"), R(1)))
    r = parse("/r?$orderby=Products(partialkey='a')/Orders/$count asc")
    assert r.options.orderby == (
        OrderItem(P(Segment("Products", Key((("partialkey", T(0)),))), "Orders", tail=CountOf()), "asc"),
    )


def test_deep_paths_and_names():
    assert tree("belongs_to__application/organization/handle eq 'x'") == BinOp(
        "eq", (P("belongs_to__application", "organization", "handle"), T(0))
    )
    assert tree("a-b.c'd eq 1") == BinOp("eq", (P("a-b.c'd"), R(0)))  # name characters (§2)
    assert tree("caf\u00e9 eq 1") == BinOp("eq", (P("caf\u00e9"), R(0)))
    assert tree("trueish") == P("trueish")


# ---------------------------------------------------------------------------------------
# $select, $expand, $orderby (§6–§8)
# ---------------------------------------------------------------------------------------


def test_select():
    r = parse("/d?$select=id,uuid,device_name")
    assert r.options.select == (P("id"), P("uuid"), P("device_name")) and not r.options.select_all
    r = parse("/d?$select=*")
    assert r.options.select is None and r.options.select_all
    assert parse("/d?$select=belongs_to__application/slug").options.select == (P("belongs_to__application", "slug"),)
    assert parse("/d?$select=a(k=1)/b").options.select == (P(Segment("a", Key((("k", R(0)),))), "b"),)
    for bad in ("$select=", "$select=a,*", "$select=*,a", "$select=a,", "$select=a, b", "$select=a/any(x:x)"):
        syntax_error("/d?" + bad)


def test_expand_with_nested_options():
    r = parse(
        "/application?$expand=owns__device($select=id,uuid;$filter=is_online eq true;$orderby=device_name asc;"
        "$top=10;$skip=5;$expand=device_tag($select=tag_key,value))"
    )
    (item,) = r.options.expand
    assert item.name == "owns__device" and not item.count
    o = item.options
    assert o.select == (P("id"), P("uuid")) and o.filter == BinOp("eq", (P("is_online"), B(0)))
    assert o.orderby == (OrderItem(P("device_name"), "asc"),) and o.top == R(1) and o.skip == R(2)
    assert o.expand == (ExpandItem("device_tag", Options(select=(P("tag_key"), P("value")))),)
    # `&` also separates nested options; empty parentheses mean no options
    r = parse("/a?$expand=b($select=x&$top=1),c()")
    assert r.options.expand == (ExpandItem("b", Options(select=(P("x"),), top=R(0))), ExpandItem("c", Options()))


def test_expand_paths_are_normalised():
    assert parse("/a?$expand=b/c").options.expand == (ExpandItem("b", Options(expand=(ExpandItem("c", Options()),))),)
    assert parse("/a?$expand=b/c/d").options.expand == (
        ExpandItem("b", Options(expand=(ExpandItem("c", Options(expand=(ExpandItem("d", Options()),))),))),
    )
    assert parse("/a?$expand=b($select=x)/c").options.expand == (
        ExpandItem("b", Options(select=(P("x"),), expand=(ExpandItem("c", Options()),))),
    )
    assert parse("/r?$expand=Products($expand=Products/$count)").options.expand == (
        ExpandItem("Products", Options(expand=(ExpandItem("Products", Options(), count=True),))),
    )
    assert parse("/a?$expand=b/c/$count($filter=x eq 1)").options.expand == (
        ExpandItem("b", Options(expand=(ExpandItem("c", Options(filter=BinOp("eq", (P("x"), R(0)))), count=True),))),
    )
    for bad in ("$expand=a/b($select=c)", "$expand=a/$count/b", "$expand=a/b(1)", "$expand=a(1)", "$expand=*"):
        syntax_error("/d?" + bad)


def test_expand_count():
    r = parse("/application?$expand=owns__device/$count($filter=is_online eq true)")
    assert r.options.expand == (ExpandItem("owns__device", Options(filter=BinOp("eq", (P("is_online"), B(0)))), count=True),)
    assert parse("/p?$expand=licence/$count").options.expand == (ExpandItem("licence", Options(), count=True),)
    assert parse("/p?$expand=licence/$count($skip=10)").options.expand == (ExpandItem("licence", Options(skip=R(0)), count=True),)


@pytest.mark.parametrize("url", ["/r?$expand=test($expand=)", "/r?$expand=test($select=)", "/r?$expand=a(;)", "/r?$expand=", "/r?$expand=a,"])
def test_bad_expands(url):
    syntax_error(url)


def test_orderby():
    r = parse("/d?$orderby=name asc,age desc,id")
    assert r.options.orderby == (
        OrderItem(P("name"), "asc"),
        OrderItem(P("age"), "desc"),
        OrderItem(P("id"), "desc"),  # no direction: DESC, as Pine (§8)
    )
    assert parse("/d?$orderby=name%20asc").options.orderby == (OrderItem(P("name"), "asc"),)
    assert parse("/d?$orderby=name+asc").options.orderby == (OrderItem(P("name"), "asc"),)
    r = parse("/team?$orderby=includes__pilot/$count($filter=is_experienced eq true) desc")
    assert r.options.orderby == (
        OrderItem(P("includes__pilot", tail=CountOf(BinOp("eq", (P("is_experienced"), B(0))))), "desc"),
    )
    assert parse("/d?$orderby=a/b asc").options.orderby == (OrderItem(P("a", "b"), "asc"),)
    for bad in ("$orderby=", "$orderby=a ASC", "$orderby=a ascending", "$orderby=a asc ", "$orderby=a,", "$orderby=tolower(a)"):
        syntax_error("/d?" + bad)


# ---------------------------------------------------------------------------------------
# Other options (§4)
# ---------------------------------------------------------------------------------------


def test_count_inlinecount_format():
    assert parse("/r?$count=false").options.count is False
    assert parse("/r?$count=true").options.count is True
    assert parse("/r?$inlinecount=allpages").options.inlinecount == "allpages"
    assert parse("/r?$inlinecount=none").options.inlinecount == "none"
    assert parse("/r?$inlinecount=flibble").options.inlinecount == ""
    for f in ("json", "atom", "xml", "application/atom+xml", "json;metadata=minimal", "json;odata.metadata=full", "text/plain"):
        assert parse("/r?$format=" + f).options.format == f
    r = parse("/r?$expand=Products/$count($format=json;odata.metadata=none)")
    assert r.options.expand[0].options.format == "json;odata.metadata=none"
    for bad in ("$count=yes", "$count=True", "$format=jsonx", "$format=json;metadata=all", "$inlinecount=allpagesx"):
        syntax_error("/r?" + bad)


def test_custom_options():
    r = parse("/device?returnResource=false&foo=hello%20world&empty=")
    assert r.options.custom == (("returnResource", "false"), ("foo", "hello world"), ("empty", ""))
    assert parse("/d?a=1&a=2").options.custom == (("a", "2"),)
    assert parse("/d?caf%C3%A9=1").options.custom == (("café", "1"),)
    for bad in ("/d?foo", "/d?&$top=5", "/d?$top=5&", "/d?a=1&&b=2", "/d?a=%zz", "/d?a=b=c"):
        syntax_error(bad)


def test_unknown_system_options_are_errors():
    for opt in ("$search=x", "$apply=x", "$levels=2", "$skiptoken=x", "$foo=1", "$compute=x", "$Filter=a", "%24foo=1"):
        err = syntax_error("/d?" + opt)
        assert err.offset == (4 if opt.startswith("$") else 6)


def test_dollar_may_be_percent_encoded():
    r = parse("/d?%24top=5&%24filter=a eq 1")
    assert r.options.top == R(0) and r.options.filter == BinOp("eq", (a, R(1)))


def test_duplicate_options_last_wins_binds_kept():
    r = parse("/d?$filter=a eq 1&$filter=b eq 2")
    assert r.options.filter == BinOp("eq", (b, R(1))) and [x.value for x in r.binds] == [1, 2]
    assert parse("/d?$select=a&$select=*").options.select_all
    assert parse("/d?$select=*&$select=a").options.select == (a,)


def test_options_on_navigation_and_count_paths():
    r = parse("/pilot(1)/licence?$filter=created_at gt datetime'2026-11-22T15%3A45%3A01.024Z'")
    assert r.navigation == (Segment("licence"),) and r.binds[1].value == dt(2026, 11, 22, 15, 45, 1, 24000)
    r = parse("/model/$count?$filter=id eq 5 or id eq 10")
    assert r.count and r.options.filter == BinOp("or", (BinOp("eq", (P("id"), R(0))), BinOp("eq", (P("id"), R(1)))))


# ---------------------------------------------------------------------------------------
# Errors: offsets, expectations, caret lines, nesting
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url,offset",
    [
        ("/resource?$orderby=", 19),
        ("/pilot?$filter=id eq 5/$count", 22),
        ("/model/$count/$count", 13),
        ("/model/child", 6),
        ("/some%20thing?foo=hello%20world", 5),
        ("/resource?$expand=test($expand=)", 31),
        ("/pilot(5)/$count", 10),
        ("/d?$top=5&", 10),
        ("/d?$filter=a eq 1 or", 17),
    ],
)
def test_error_offsets(url, offset):
    assert syntax_error(url).offset == offset


def test_error_message_and_caret():
    err = syntax_error("/d?$filter=a eq 'x' and")
    assert err.status == 400 and err.body() == "Malformed url: '/d?$filter=a eq 'x' and'"
    assert err.caret() == "/d?$filter=a eq 'x' and\n" + " " * 19 + "^"
    assert "expected at offset 19" in str(err)
    err = syntax_error("/d?$search=x")
    assert err.caret().splitlines()[1] == "    ^" and "$select" in err.expected
    err = syntax_error("/d?$filter=a eq 'x")
    assert err.caret().splitlines()[1] == " " * 16 + "^" and "quote" in err.expected


@pytest.mark.parametrize(
    "filter_",
    [
        "(" * 5000 + "a" + ")" * 5000,
        "not " * 5000 + "a",
        "a/any(x:" * 2000 + "x" + ")" * 2000,
        "a in (" + "(" * 5000 + "1" + ")" * 5001,
        "tolower(" * 3000 + "a" + ")" * 3000,
        " and ".join(["a eq 1"] * 3000),  # long flat chains are fine…
    ],
)
def test_deep_nesting_is_a_syntax_error_not_a_crash(filter_):
    url = "/d?$filter=" + filter_
    if filter_.startswith("a eq 1 and"):
        assert len(parse(url).options.filter.args) == 3000  # …and stay flat
    else:
        assert "nesting" in syntax_error(url).expected


def test_alternating_operators_and_in_chains_are_bounded():
    syntax_error("/d?$filter=" + " or ".join(f"a eq {i} and b" for i in range(500)))
    syntax_error("/d?$filter=a" + " in (1)" * 500)
    parse("/d?$filter=a" + " in (1)" * 20)


def test_siblings_do_not_add_up_to_nesting():
    parse("/d?$filter=" + " and ".join(["(tolower(a) eq 'x')"] * 300))
    parse("/d?$expand=" + ",".join(f"a{i}($filter=(b eq {i}))" for i in range(300)))


def test_nesting_limit_is_generous_enough():
    depth = MAX_DEPTH // 2
    parse("/d?$filter=" + "(" * depth + "a" + ")" * depth)
    parse("/d?$expand=" + "a(".replace("(", "($expand=") * depth + "b" + ")" * depth)
    syntax_error("/d?$expand=" + "a($expand=" * 200 + "b" + ")" * 200)
    syntax_error("/d?$expand=" + "/".join(["a"] * 500))


def test_typical_sdk_urls():
    r = parse(
        "/device?$select=id,uuid,device_name,overall_status&$filter=belongs_to__application/any(a:a/slug eq"
        " 'org%2Ffleet-7')&$expand=device_tag($select=tag_key,value;$orderby=tag_key asc)&$top=100"
    )
    assert r.options.filter == P("belongs_to__application", tail=Lambda("any", "a", BinOp("eq", (P("a", "slug"), T(0)))))
    assert [x.value for x in r.binds] == ["org/fleet-7", 100]
    # the JS SDK sends %20 for spaces and %27 for apostrophes
    r = parse("/device?$filter=device_name%20eq%20%27x%27%20and%20is_online%20eq%20true")
    assert r.options.filter == BinOp("and", (BinOp("eq", (P("device_name"), T(0))), BinOp("eq", (P("is_online"), B(1)))))
