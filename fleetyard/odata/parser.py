"""The OData URL parser for the balena (Pine.js) dialect: URL text → `ast.Request`.

Stage 1 of the pipeline (parse → resolve → compile → render). A hand-written recursive
descent over the raw, still percent-encoded URL (spec/odata.md §2–§8). Every literal is
bound in order of appearance (`Request.binds`); the tree itself holds no values.
"""

from __future__ import annotations

import re
from dataclasses import fields, is_dataclass

from fleetyard.errors import ODataSyntaxError
from fleetyard.odata import lexer as L
from fleetyard.odata.ast import (
    AliasRef, BinOp, BindValue, Call, CountOf, ExpandItem, Expr, In, Key, Lambda, Literal, MethodCall,
    Not, Null, Options, OrderItem, Path, Request, Segment,
)
from fleetyard.odata.literals import MAX_DEPTH, LiteralScanner, number_value, pct_decode

_EMPTY_OPTIONS = Options()
_SPACE_STARTS = frozenset(" +%")  # first characters of a space: ' ', '+', '%20'
_PATH_GOES_ON = frozenset("(/")
_PLAIN_PATHS: dict[str, Path] = {}  # one-name paths are immutable: share them (bounded)
_NULL = Null()
_KEYWORD_VALUES = ("true", "false", "null")
_INTERNAL_ERRORS = (RecursionError, IndexError, KeyError, ValueError, TypeError, OverflowError, AttributeError)


def parse(url: str) -> Request:
    """Parse the path-and-query after the API version prefix, e.g.
    `/device?$filter=belongs_to__application/any(a:a/slug eq 'x')&$top=10`.

    Raises `ODataSyntaxError` (with the offset of the offending character) for anything
    the grammar refuses, and for nothing else never raises.
    """
    try:
        return _Parser(url).request()
    except ODataSyntaxError:
        raise
    except _INTERNAL_ERRORS as e:  # a bug: still a 400, never a 500 (tests run unguarded)
        raise ODataSyntaxError(url, 0, f"a URL the parser can read ({type(e).__name__})") from e


def parse_unguarded(url: str) -> Request:
    """`parse` without the last-resort guard: the fuzz tests use it to surface bugs."""
    return _Parser(url).request()


class _Parser(LiteralScanner):
    """The grammar: resource path (§3), query options (§4, §6–§8), expressions (§5)."""

    __slots__ = ()

    # --- the resource path (§3) ----------------------------------------------------------

    def request(self) -> Request:
        s, n = self.s, self.n
        if s == "/$metadata":
            return Request(resource="$metadata", special="$metadata")
        if s == "/":
            return Request(resource="", special="/")
        key: Key | None = None
        navigation: tuple[Segment, ...] = ()
        links = count = False
        special: str | None = None
        if s.startswith("$"):  # `$1/child`: a content reference inside a $batch changeset
            m = L.NAME(s, 1)
            if m is None:
                self.fail(1, "a content id")
            resource = special = "$" + m.group()
            navigation, links, count, i = self.sub_path(m.end())
        else:
            i = self.expect(0, "/")
            m = L.NAME(s, 1)
            if m is None:
                self.fail(1, "a resource name")
            resource, i = m.group(), m.end()
            if s.startswith("(", i):
                key, i = self.key(i)
                navigation, links, count, i = self.sub_path(i)
            elif s.startswith("/$count", i):  # only directly after an unkeyed collection
                count, i = True, i + 7
        options = _EMPTY_OPTIONS
        if i < n:
            if s[i] != "?":
                self.fail(i, "'(', '/$count', '?' or end of input" if key is None and not count else "'?' or end of input")
            i += 1
            if i < n:
                options, i = self.options(i, nested=False)
                if i < n:
                    self.fail(i, "'&' or end of input")
        if self.pending and self.aliases:
            key, navigation, options = _substitute((key, navigation, options), self.aliases)  # type: ignore[misc]
        return Request(
            resource=resource,
            key=key,
            navigation=navigation,
            count=count,
            links=links,
            options=options,
            binds=tuple(self.binds),
            special=special,
        )

    def sub_path(self, i: int) -> tuple[tuple[Segment, ...], bool, bool, int]:
        """`/nav[(key)]…[/$links/nav[(key)]][/$count]` after a keyed segment (§3.1)."""
        s = self.s
        nav: list[Segment] = []
        links_at = -1
        count = False
        while s.startswith("/", i):
            j = i + 1
            if s.startswith("$count", j):
                if not nav:  # `/device(5)/$count` is refused (§3.1)
                    self.fail(j, "a navigation name")
                count, i = True, j + 6
                break
            if s.startswith("$links/", j) and links_at < 0:
                links_at = len(nav)
                j += 7
            m = L.NAME(s, j)
            if m is None:
                self.fail(j, "a navigation name")
            i = m.end()
            key = None
            if s.startswith("(", i):
                key, i = self.key(i)
            nav.append(Segment(m.group(), key))
        # `$links` is kept as a flag meaning "before the last navigation segment".
        if links_at >= 0 and links_at != len(nav) - 1:
            self.fail(i, "end of the path after the one navigation following $links")
        return tuple(nav), links_at >= 0, count, i

    # --- query options (§4, §6–§8) -------------------------------------------------------

    def options(self, i: int, nested: bool) -> tuple[Options, int]:
        """`option{&option}` (top level) or `option{(;|&)option}` inside `$expand=x(…)`.
        Stops before the first character that is not a separator; the last of duplicate
        options wins (§4)."""
        s, n = self.s, self.n
        vals: dict[str, object] = {}
        custom: dict[str, str] = {}
        while True:
            c = s[i : i + 1]
            if c == "$" or (c == "%" and s.startswith("%24", i)):
                j = i + 1 if c == "$" else i + 3
                m = L.SYSTEM_OPTION(s, j)
                if m is None:
                    self.fail(j, "a system query option ($select, $filter, $expand, $orderby, $top, $skip, $count, $inlinecount or $format)")
                i = self.system_option(m.group(1), m.end(), vals)
            elif c == "@":
                i = self.alias_definition(i)
            else:  # a custom option `name=value`, kept as decoded text
                m = L.TEXT(s, i)
                assert m is not None  # TEXT matches the empty string
                j = self.expect(m.end(), "=", "'=' after the option name")
                v = L.TEXT(s, j)
                assert v is not None
                custom[pct_decode(m.group(), s, i)] = pct_decode(v.group(), s, j)
                i = v.end()
            if i < n and (s[i] == "&" or (nested and s[i] == ";")):
                i += 1
                continue
            break
        if custom:
            vals["custom"] = tuple(custom.items())
        return (Options(**vals) if vals else _EMPTY_OPTIONS), i  # type: ignore[arg-type]

    def system_option(self, name: str, i: int, vals: dict[str, object]) -> int:
        s = self.s
        if name == "filter":
            vals["filter"], i = self.expr(i)
        elif name == "select":
            if s.startswith("*", i):  # `*` only alone (§6)
                vals["select"], vals["select_all"] = None, True
                return i + 1
            m = L.NAME_LIST(s, i)  # fast path: plain names only
            if m is not None and s[m.end() : m.end() + 1] not in _PATH_GOES_ON:
                vals["select"], vals["select_all"] = tuple([_plain_path(x) for x in m.group().split(",")]), False
                return m.end()
            items = []
            while True:
                path, i = self.property_path(i, lambdas=False)
                items.append(path)
                if not s.startswith(",", i):
                    break
                i += 1
            vals["select"], vals["select_all"] = tuple(items), False
        elif name == "expand":
            expand = []
            while True:
                item, i = self.expand_item(i)
                expand.append(item)
                if not s.startswith(",", i):
                    break
                i += 1
            vals["expand"] = tuple(expand)
        elif name == "orderby":
            order = []
            while True:
                path, i = self.property_path(i, lambdas=False)
                m = L.ORDER_DIR(s, i)
                if m is not None:
                    order.append(OrderItem(path, m.group(1)))
                    i = m.end()
                else:  # no direction written: Pine sorts DESC (§8)
                    order.append(OrderItem(path, "desc"))
                if not s.startswith(",", i):
                    break
                i += 1
            vals["orderby"] = tuple(order)
        elif name in ("top", "skip"):
            m = L.UINT(s, i)
            if m is None:
                self.fail(i, "an unsigned integer")
            vals[name] = self.bind("Real", number_value(None, m.group(), None, s, i))
            i = m.end()
        elif name == "count":
            if s.startswith("true", i):
                vals["count"], i = True, i + 4
            elif s.startswith("false", i):
                vals["count"], i = False, i + 5
            else:
                self.fail(i, "true or false")
        elif name == "inlinecount":
            # allpages | none | any other text, read as '' (§4).
            if s.startswith("allpages", i):
                vals["inlinecount"], i = "allpages", i + 8
            elif s.startswith("none", i):
                vals["inlinecount"], i = "none", i + 4
            else:
                m = L.TEXT(s, i)
                assert m is not None
                pct_decode(m.group(), s, i)  # the reference decodes (and may throw on) it
                vals["inlinecount"], i = "", m.end()
        else:  # format
            m = L.FORMAT(s, i)
            if m is None:
                self.fail(i, "a format: json, atom, xml or type/subtype")
            vals["format"], i = m.group(), m.end()
        return i

    def alias_definition(self, i: int) -> int:
        """`@name=value`: a number, true/false, a quoted string or datetime'…'/date'…'
        (null and bare words are refused, §4). Defining a name twice is an error."""
        s = self.s
        m = L.TEXT(s, i + 1)
        assert m is not None
        name = pct_decode(m.group(), s, i + 1)
        if name in self.aliases:
            self.fail(i + 1, f"a parameter alias not defined before (@{name} is)")
        j = self.expect(m.end(), "=")
        lit: Literal | None = None
        if s.startswith("true", j):
            lit, j = self.bind("Boolean", True), j + 4
        elif s.startswith("false", j):
            lit, j = self.bind("Boolean", False), j + 5
        else:
            got = self.literal(j)
            if got is not None and isinstance(got[0], Literal):  # not a duration
                lit, j = got  # type: ignore[assignment]
        if lit is None:
            self.fail(j, "an alias value: a number, true, false, a quoted string, datetime'…' or date'…'")
        self.aliases[name] = lit
        return j

    def expand_item(self, i: int) -> tuple[ExpandItem, int]:
        """`nav[/$count][(options)][/nav…]`; `a/b` is stored as `a($expand=b)` (§7)."""
        s = self.s
        m = L.NAME(s, i)
        if m is None:
            self.fail(i, "a navigation name to expand")
        name, j = m.group(), m.end()
        count = s.startswith("/$count", j)
        if count:
            j += 7
        options = _EMPTY_OPTIONS
        if s.startswith("(", j):
            self.enter(j)
            j += 1
            if not s.startswith(")", j):  # `()` is allowed and means no options
                options, j = self.options(j, nested=True)
            j = self.expect(j, ")", "';', '&' or ')'")
            self.depth -= 1
        if s.startswith("/", j):
            if count:
                self.fail(j, "',' or '&' after an expanded $count")
            sub, j = self.expand_path(j + 1)
            options = _replace_options(options, expand=(options.expand or ()) + (sub,))
        return ExpandItem(name, options, count), j

    def expand_path(self, i: int) -> tuple[ExpandItem, int]:
        """The `b/c[/$count[($filter=…)]]` after `$expand=a/`: names only, no options."""
        s = self.s
        names: list[str] = []
        count_filter: CountOf | None = None
        while True:
            m = L.NAME(s, i)
            if m is None:
                self.fail(i, "a navigation name")
            names.append(m.group())
            i = m.end()
            if s.startswith("/$count", i):
                count_filter, i = self.count_of(i + 7)
                break
            if not s.startswith("/", i):
                break
            i += 1
        if len(names) + self.depth > MAX_DEPTH:
            self.fail(i, f"at most {MAX_DEPTH} levels of nesting")
        last = names.pop()
        if count_filter is not None:
            opts = Options(filter=count_filter.filter) if count_filter.filter is not None else _EMPTY_OPTIONS
            item = ExpandItem(last, opts, True)
        else:
            item = ExpandItem(last, _EMPTY_OPTIONS)
        for name in reversed(names):
            item = ExpandItem(name, Options(expand=(item,)))
        return item, i

    # --- $filter expressions (§5) --------------------------------------------------------

    def expr(self, i: int) -> tuple[Expr, int]:
        """An expression with Pine's precedence (§5.2), by operator precedence parsing
        (no recursion per operator, so long chains cost no stack). A run of one operator
        becomes one n-ary BinOp; a parenthesised group is never merged into a run."""
        s = self.s
        prec_of = L.PRECEDENCE
        value, i = self.value(i)
        if s[i : i + 1] in _SPACE_STARTS:
            value, i = self.postfix_in(value, i)
        operands: list[Expr] = [value]
        runs: list[bool] = [False]  # operand is a BinOp built here (may absorb its operator)
        heights: list[int] = [0]  # nesting added by this expression, bounded with depth
        ops: list[str] = []
        while True:
            m = L.BINARY_OP(s, i)
            if m is None:
                break
            op = m.group(1)
            prec = prec_of[op]
            while ops and prec_of[ops[-1]] >= prec:
                self.reduce(ops, operands, runs, heights, i)
            ops.append(op)
            value, i = self.value(m.end())
            if s[i : i + 1] in _SPACE_STARTS:
                value, i = self.postfix_in(value, i)
            operands.append(value)
            runs.append(False)
            heights.append(0)
        while ops:
            self.reduce(ops, operands, runs, heights, i)
        return operands[0], i

    def reduce(self, ops: list[str], operands: list[Expr], runs: list[bool], heights: list[int], i: int) -> None:
        op = ops.pop()
        rhs = operands.pop()
        runs.pop()
        h = heights.pop()
        lhs = operands[-1]
        if runs[-1] and lhs.op == op:  # type: ignore[union-attr]
            operands[-1] = BinOp(op, lhs.args + (rhs,))  # type: ignore[union-attr]
            heights[-1] = max(heights[-1], h + 1)
        else:
            operands[-1] = BinOp(op, (lhs, rhs))
            runs[-1] = True
            heights[-1] = max(heights[-1], h) + 1
        if heights[-1] + self.depth > MAX_DEPTH:
            self.fail(i, f"at most {MAX_DEPTH} levels of nesting")

    def postfix_in(self, value: Expr, i: int) -> tuple[Expr, int]:
        """Any `in (…)` after a value: `in` binds to the value just before it (§5.1)."""
        m = L.IN_OP(self.s, i)
        if m is None:
            return value, i
        depth = self.depth
        while m is not None:
            self.enter(i)
            items, i = self.in_list(m.end())
            value = In(value, items)
            m = L.IN_OP(self.s, i)
        self.depth = depth
        return value, i

    def value(self, i: int) -> tuple[Expr, int]:
        s = self.s
        c = s[i : i + 1]
        if c == "(":  # a parenthesised expression
            self.enter(i)
            j = L.SPACES(s, i + 1).end()  # type: ignore[union-attr]
            e, j = self.expr(j)
            j = L.SPACES(s, j).end()  # type: ignore[union-attr]
            self.depth -= 1
            return e, self.expect(j, ")", "an operator or ')'")
        if c == "n" or c in _SPACE_STARTS:
            m = L.NOT_OP(s, i)
            if m is not None:  # `not` applies to ONE operand: `not a eq 1` is `(not a) eq 1`
                self.enter(i)
                v, j = self.value(m.end())
                self.depth -= 1
                return Not(v), j
        elif c == "@":
            return self.alias_ref(i)
        return self.primitive(i, in_filter=True)

    def primitive(self, i: int, in_filter: bool) -> tuple[Expr, int]:
        """A literal, a function call (`in_filter`) or a property path."""
        lit = self.literal(i)
        if lit is not None:
            return lit
        s = self.s
        m = L.NAME(s, i)
        if m is None:
            self.fail(i, "a value, property path or function call")
        name, j = m.group(), m.end()
        if name in _KEYWORD_VALUES:
            if name == "null":
                return _NULL, j
            return self.bind("Boolean", name == "true"), j
        if in_filter and name in L.FUNCTIONS and s.startswith("(", j):
            return self.call(name, i, j)
        return self.path(name, j, lambdas=True)

    def call(self, name: str, start: int, i: int) -> tuple[Call, int]:
        """`fname(args)` with the arity checked (§5.5); spaces around arguments allowed."""
        self.enter(i)
        args, i = self.arguments(i)
        self.depth -= 1
        if len(args) not in L.FUNCTIONS[name]:
            arities = " or ".join(str(a) for a in L.FUNCTIONS[name])
            self.fail(start, f"{name}() with {arities} argument{'s' if arities != '1' else ''}")
        return Call(name, args), i

    def arguments(self, i: int) -> tuple[tuple[Expr, ...], int]:
        """`( [expr {, expr}] )` from the `(` at i."""
        s = self.s
        i = L.SPACES(s, i + 1).end()  # type: ignore[union-attr]
        args: list[Expr] = []
        if not s.startswith(")", i):
            while True:
                e, i = self.expr(i)
                args.append(e)
                i = L.SPACES(s, i).end()  # type: ignore[union-attr]
                if not s.startswith(",", i):
                    break
                i = L.SPACES(s, i + 1).end()  # type: ignore[union-attr]
        return tuple(args), self.expect(i, ")", "',' or ')'")

    def in_list(self, i: int) -> tuple[tuple[Literal | Null, ...], int]:
        """`(item, item…)` after `in`: spaces after `(` and `,` only (§2). Items that are
        not literal values (paths, durations) become Null, as Pine does (§5.3)."""
        s = self.s
        i = self.expect(i, "(", "'(' after in")
        i = L.SPACES(s, i).end()  # type: ignore[union-attr]
        items: list[Literal | Null] = []
        while True:
            item, i = self.list_item(i)
            items.append(item if isinstance(item, Literal) else _NULL)
            if not s.startswith(",", i):
                break
            i = L.SPACES(s, i + 1).end()  # type: ignore[union-attr]
        return tuple(items), self.expect(i, ")", "',' or ')'")

    def list_item(self, i: int) -> tuple[Expr, int]:
        s = self.s
        if s.startswith("(", i):  # a primitive may be parenthesised any number of times
            self.enter(i)
            j = L.SPACES(s, i + 1).end()  # type: ignore[union-attr]
            item, j = self.list_item(j)
            j = L.SPACES(s, j).end()  # type: ignore[union-attr]
            self.depth -= 1
            return item, self.expect(j, ")")
        if s.startswith("@", i):
            self.fail(i, "a literal value (aliases are not allowed in an in list)")
        return self.primitive(i, in_filter=False)

    # --- property paths (§5.6) -----------------------------------------------------------

    def property_path(self, i: int, lambdas: bool) -> tuple[Path, int]:
        m = L.NAME(self.s, i)
        if m is None:
            self.fail(i, "a property name")
        return self.path(m.group(), m.end(), lambdas)

    def path(self, name: str, j: int, lambdas: bool) -> tuple[Path, int]:
        """`name[(key)]{/name[(key)]}` ending optionally in `/$count[($filter=…)]` or, in a
        filter (`lambdas`), `/any(v:…)`, `/all(v:…)` or a resource method `/m(args)`.
        A key is allowed on any segment (§3.2 `identification_method(…)/…`)."""
        s = self.s
        c = s[j : j + 1]
        if c != "(" and c != "/":  # fast path: a plain name, the common case
            return _plain_path(name), j
        if c == "/":  # fast path: `a/b/c` with no key, tail or method
            m = L.NAME_TAIL(s, j)
            e = m.end()  # type: ignore[union-attr]
            c = s[e : e + 1]
            if e > j and c != "(" and c != "/":
                names = m.group().split("/")  # type: ignore[union-attr]
                names[0] = name
                return Path(tuple([Segment(x) for x in names])), e
        segments: list[Segment] = []
        while True:
            key = None
            if s.startswith("(", j):
                if lambdas and segments:
                    # After a `/`: a lambda, a keyed segment followed by `/`, or else a
                    # resource method call (the grammar tries the method first, §5.1).
                    if name in ("any", "all"):
                        m = L.LAMBDA_HEAD(s, j)
                        if m is not None:
                            return self.lambda_(segments, name, m)
                    mark = len(self.binds)
                    keyed = self.try_key(j)
                    if keyed is not None and s.startswith("/", keyed[1]):
                        key, j = keyed
                    else:
                        del self.binds[mark:]
                        self.enter(j)
                        args, j = self.arguments(j)
                        self.depth -= 1
                        return Path(tuple(segments), MethodCall(name, args)), j
                else:
                    key, j = self.key(j)
            segments.append(Segment(name, key))
            if not s.startswith("/", j):
                return Path(tuple(segments)), j
            j += 1
            if s.startswith("$count", j):
                tail, j = self.count_of(j + 6)
                return Path(tuple(segments), tail), j
            m = L.NAME(s, j)
            if m is None:
                self.fail(j, "a property name, $count" + (", any( or all(" if lambdas else ""))
            name, j = m.group(), m.end()

    def try_key(self, i: int) -> tuple[Key, int] | None:
        try:
            return self.key(i)
        except ODataSyntaxError:
            return None

    def lambda_(self, segments: list[Segment], kind: str, head: re.Match[str]) -> tuple[Path, int]:
        """`nav/any(v:expr)`: no space around the colon (§2); nests to any depth."""
        s = self.s
        self.enter(head.start())
        body, i = self.expr(head.end())
        i = L.SPACES(s, i).end()  # type: ignore[union-attr]
        self.depth -= 1
        return Path(tuple(segments), Lambda(kind, head.group(1), body)), self.expect(i, ")", "an operator or ')'")

    def count_of(self, i: int) -> tuple[CountOf, int]:
        """After `/$count`: optionally `($filter=…)`, the only option allowed there."""
        s = self.s
        if not s.startswith("(", i):
            return CountOf(), i
        j = i + 1
        if s.startswith("$filter=", j):
            j += 8
        elif s.startswith("%24filter=", j):
            j += 10
        else:
            self.fail(j, "$filter= (the only option of a $count)")
        self.enter(i)
        e, j = self.expr(j)
        self.depth -= 1
        return CountOf(e), self.expect(j, ")", "an operator or ')'")


def _plain_path(name: str) -> Path:
    path = _PLAIN_PATHS.get(name)
    if path is None:
        path = Path((Segment(name),))
        if len(_PLAIN_PATHS) < 4096:
            _PLAIN_PATHS[name] = path
    return path


def _replace_options(options: Options, **changes: object) -> Options:
    values = {f.name: getattr(options, f.name) for f in fields(Options)}
    values.update(changes)
    return Options(**values)  # type: ignore[arg-type]


def _substitute(node: object, aliases: dict[str, Literal]) -> object:
    """Replace the AliasRefs whose alias was defined after their use (rare: only when an
    `@x=` option follows the `$filter` or key that uses it)."""
    if isinstance(node, AliasRef):
        return aliases.get(node.name, node)
    if isinstance(node, tuple):
        items = tuple(_substitute(x, aliases) for x in node)
        return node if all(a is b for a, b in zip(items, node)) else items
    if is_dataclass(node) and not isinstance(node, (Literal, Null, BindValue, type)):
        changed = {}
        for f in fields(node):
            old = getattr(node, f.name)
            new = _substitute(old, aliases)
            if new is not old:
                changed[f.name] = new
        if changed:
            values = {f.name: getattr(node, f.name) for f in fields(node)}
            values.update(changed)
            return type(node)(**values)
    return node
