"""Resolve a parsed request against a model: names, types, scopes and permissions.

Stage 2 of the pipeline (parse → *resolve* → compile → render). Every name is looked up
(unknown ones are a 400 naming them, with the nearest name), every literal is given the
type of what it is compared with, and every place a resource's rows are read gets that
resource's permission predicate — through `Resolver.source`, the one door to rows.
Expressions come out as SQL-tree nodes; `compile.py` assembles the statements.
"""

from __future__ import annotations

from dataclasses import dataclass

from fleetyard.errors import PermissionDenied, ResolveError, UnknownName, ValueError_
from fleetyard.model.schema import (
    DATE_TYPES,
    INTEGER_TYPES,
    NUMERIC_TYPES,
    TEXT_TYPES,
    ComputeContext,
    Field,
    Model,
    Navigation,
    Resource,
)
from fleetyard.odata import ast
from fleetyard.odata.parser import parse
from fleetyard.odata.permissions import Permissions
from fleetyard.odata.plan import (
    Collection,
    Expansion,
    Level,
    ParamSpec,
    Plan,
    Source,
    _and,
    row_alias,
)
from fleetyard.sql import ir

# --- typed expressions ------------------------------------------------------------------

# Type classes: values of one class compare with each other.
def type_class(t: str) -> str:
    if t in NUMERIC_TYPES:
        return "number"
    if t in TEXT_TYPES:
        return "text"
    if t in DATE_TYPES:
        return "date"
    return {"Boolean": "boolean", "JSON": "json"}.get(t, t)


_NATURAL = {"Real": "Real", "Text": "Text", "Boolean": "Boolean", "DateTime": "Date Time", "Date": "Date Time"}
# Literal kinds a typed operand accepts (the value is converted, or refused, when bound).
_ACCEPTS = {
    "number": {"Real", "Text"},
    "text": {"Text"},
    "boolean": {"Boolean"},
    "date": {"DateTime", "Date", "Text"},
    "json": set(),
}


@dataclass(frozen=True)
class Typed:
    """An operand: its SQL expression and type, or a literal still waiting for one."""

    sql: ir.Expr | None
    type: str  # a field type, 'Null', 'Duration', or 'Literal'
    literal: tuple[str, str, object] | None = None  # (kind, spec kind, ref)
    nullable: bool = True
    seconds: float = 0.0  # for a Duration

    @property
    def is_literal(self) -> bool:
        return self.literal is not None


_CMP = {"eq": "=", "ne": "<>", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}
_ARITH = {"add": "+", "sub": "-", "mul": "*", "div": "/"}
_UNSUPPORTED = {"cast", "isof", "totaloffsetminutes", "maxdatetime", "mindatetime"}


@dataclass
class Scope:
    """Where names are looked up: the default source and the lambda variables in reach."""

    source: Source
    variables: dict[str, Source]


class Resolver:
    def __init__(
        self,
        model: Model,
        permissions: Permissions,
        binds: tuple[ast.BindValue, ...] = (),
        *,
        lenient: bool = False,
    ):
        self.model = model
        # Lenient (v6): unknown names in $select and $expand are dropped, not refused.
        self.lenient = lenient
        self.permissions = permissions
        self.binds = binds
        self.params: list[ParamSpec] = []
        self._aliases = 0
        # Permission predicates are trusted server text: the rows they read are not
        # filtered again (that would recurse through the rules).
        self._trusted = False

    # --- the one door to rows ----------------------------------------------------------

    def alias(self) -> str:
        self._aliases += 1
        return f"t{self._aliases}"

    def source(self, resource: Resource, level: Level, action: str = "read") -> tuple[Source, ir.Expr | None]:
        """A new source of `resource` rows and the predicate over it (None when every
        row is allowed): the caller's permission rule (the resource's own, or that of
        the resource it borrows its rules from) and the resource's own `where`."""
        src = Source(resource, self.alias(), level)
        conds: list[ir.Expr] = []
        if resource.where is not None:
            conds.append(self._permission(self._parsed_where(resource), src))
        if not self._trusted:
            rule = self.permissions.rule(resource.rules_from or resource.name, action)
            if rule is False:
                return src, ir.Const(False)
            if rule is not True:
                conds.append(self._permission(rule, src))  # type: ignore[arg-type]
        return src, (_and(conds) if conds else None)

    def navigation(self, r: Resource, name: str) -> Navigation | None:
        """`r`'s navigation `name` as this text may name it: a hidden one only in the
        server's own filters (permission rules, a view's filter)."""
        nav = r.navigation(name)
        return None if nav is None or (nav.hidden and not self._trusted) else nav

    _wheres: dict[str, ast.Request] = {}

    def _parsed_where(self, resource: Resource) -> ast.Request:
        key = f"{resource.name}?{resource.where}"
        parsed = Resolver._wheres.get(key)
        if parsed is None:
            parsed = Resolver._wheres[key] = parse(f"/{resource.name}?$filter={resource.where}")
        return parsed

    def _permission(self, rule: ast.Request, src: Source) -> ir.Expr:
        saved_binds, saved_trusted = self.binds, self._trusted
        self.binds, self._trusted = rule.binds, True
        try:
            expr = rule.options.filter
            assert expr is not None
            return self.boolean(expr, Scope(src, {}), const_binds=True)
        finally:
            self.binds, self._trusted = saved_binds, saved_trusted

    # --- parameters ---------------------------------------------------------------------

    def param(self, kind: str, ref: object, type_: str, name: str) -> ir.Param:
        self.params.append(ParamSpec(kind, ref, type_, name))
        return ir.Param(len(self.params) - 1, type_)

    def literal(self, lit: ast.Literal, const: bool) -> Typed:
        if const:
            return Typed(None, "Literal", (lit.kind, "const", self.binds[lit.index].value))
        return Typed(None, "Literal", (lit.kind, "bind", lit.index))

    def settle(self, t: Typed, target: str | None, name: str) -> Typed:
        """Give a waiting literal the type of what it meets (or its own natural type)."""
        if t.literal is None:
            return t
        kind, spec_kind, ref = t.literal
        if target is None:
            target = _NATURAL[kind]
        elif kind not in _ACCEPTS.get(type_class(target), set()):
            raise ResolveError(f"'{name}' is {target} and cannot be compared with a {kind} value")
        return Typed(self.param(spec_kind, ref, target, name), target, nullable=False)

    # --- requests -----------------------------------------------------------------------

    def resolve(self, req: ast.Request, method: str = "GET") -> Plan:
        if req.special is not None:
            from fleetyard.errors import UnknownResource

            raise UnknownResource(req.special)
        if req.links:
            raise ResolveError("$links is not supported; use $expand")
        resource = self.model.resource(req.resource)
        action = {"GET": "read", "POST": "create", "DELETE": "delete"}.get(method, "update")
        if self.permissions.rule(resource.rules_from or resource.name, action) is False:
            # No right at all to this action on this resource: 401, as the reference.
            raise PermissionDenied(f"not allowed to {action} '{resource.name}'")
        if req.navigation:
            return self._resolve_navigation(req, resource, method)
        level = Level()
        src, perm = self.source(resource, level, action)
        level.base = src
        where: list[ir.Expr] = [perm] if perm is not None else []
        key_values: list[ir.Expr] = []
        if req.key is not None:
            cond, key_values = self.key(req.key, src, None)
            where.append(cond)
        coll = self.collection(src, level, req.options, where, top_level=True)
        return Plan(method, resource, coll, self.params, count=req.count, permission=perm,
                    keyed=req.key is not None, key_values=key_values)

    def _resolve_navigation(self, req: ast.Request, root: Resource, method: str) -> Plan:
        """`/a(1)/nav(…)/…`: the rows of the last navigation that are reachable from the
        keyed row through rows the caller may read (one EXISTS per step)."""
        if method != "GET":
            raise ResolveError("writes through a navigation path are not supported; address the resource directly")
        chain: list[tuple[Resource, ast.Key | None, Navigation | None]] = [(root, req.key, None)]
        current = root
        for seg in req.navigation:
            nav = self.navigation(current, seg.name)
            if nav is None:
                raise UnknownName("navigation", seg.name, current.name, current.suggest(seg.name))
            current = self.model.resource(nav.target)
            chain.append((current, seg.key, nav))
        level = Level()
        src, perm = self.source(current, level)
        level.base = src
        where = [perm] if perm is not None else []
        last_key, last_nav = chain[-1][1], chain[-1][2]
        if last_key is not None:
            where.append(self.key(last_key, src, last_nav.remote if last_nav else None)[0])
        where.append(self._reachable(chain, len(chain) - 1, src))
        coll = self.collection(src, level, req.options, where, top_level=True)
        return Plan(method, current, coll, self.params, count=req.count)

    def _reachable(self, chain: list, i: int, child: Source) -> ir.Expr:
        """EXISTS a readable chain[i-1] row that leads to `child` through chain[i]'s
        navigation (and, recursively, is reachable from the keyed root)."""
        _, _, nav = chain[i]
        parent_res, parent_key, parent_nav = chain[i - 1]
        level = Level()
        parent, perm = self.source(parent_res, level)
        level.base = parent
        conds: list[ir.Expr] = [ir.Op("=", (self.column(parent, nav.local), self.column(child, nav.remote)))]
        if perm is not None:
            conds.append(perm)
        if parent_key is not None:
            navigated = parent_nav.remote if parent_nav is not None else None
            conds.append(self.key(parent_key, parent, navigated)[0])
        if i - 1 > 0:
            conds.append(self._reachable(chain, i - 1, parent))
        return ir.Exists(ir.Select(((ir.Const(1), None),), level.from_item(), _and(conds)))

    def key(self, key: ast.Key, src: Source, navigated: str | None) -> tuple[ir.Expr, list[ir.Expr]]:
        """The condition a key puts on `src`'s rows; `navigated` is a field the key may
        leave out because the path already fixes it (odata.md §3.2)."""
        r = src.resource
        names: list[str] = []
        conds: list[ir.Expr] = []
        values: list[ir.Expr] = []
        for name, value in key.parts:
            fname = r.id_field if name is None else name
            f = _visible(r, fname)
            if f is None:
                raise UnknownName("key field", fname, r.name, r.suggest(fname))
            if fname == navigated:
                raise ResolveError(f"key field '{fname}' is already fixed by the navigation")
            if isinstance(value, ast.AliasRef):
                raise ResolveError(f"Missing binding: @{value.name}")
            t = self.settle(self.literal(value, self._trusted), f.type, fname)
            names.append(fname)
            assert t.sql is not None
            conds.append(ir.Op("=", (self.column(src, fname), t.sql)))
            values.append(t.sql)
        unique = frozenset(names) | ({navigated} if navigated else set())
        if not (r.is_unique_set(frozenset(names)) or (navigated and r.is_unique_set(unique))):
            raise ResolveError(
                f"the key fields {', '.join(names)} do not identify one '{r.name}'")
        return _and(conds), values

    # --- collections --------------------------------------------------------------------

    def collection(self, src: Source, level: Level, opts: ast.Options, where: list[ir.Expr],
                   top_level: bool = False) -> Collection:
        r = src.resource
        scope = Scope(src, {})
        if opts.filter is not None:
            where.append(self.boolean(opts.filter, scope))
        items = opts.expand or ()
        if self.lenient:
            items = tuple(i for i in items if self.navigation(r, i.name) is not None)
        expansions = [self.expansion(item, src) for item in items]
        expanded = {e.name for e in expansions}
        fields: list[Field] = []
        if opts.select is None or opts.select_all:
            fields = [f for f in r.fields if f.readable and f.name not in expanded]
        else:
            for path in opts.select:
                if path.tail is not None or len(path.segments) != 1 or path.segments[0].key:
                    raise ResolveError(
                        f"$select takes field names of '{r.name}'; use $expand for related resources")
                name = path.segments[0].name
                f = _visible(r, name)
                if f is None and self.lenient and self.navigation(r, name) is None:
                    continue
                if f is None:
                    if self.navigation(r, name) is not None:
                        raise ResolveError(f"'{name}' is a navigation of '{r.name}'; use $expand to read it")
                    raise UnknownName("field", name, r.name, r.suggest(name))
                if name not in expanded and f not in fields:
                    fields.append(f)
        order = [self.order_item(o, scope) for o in (opts.orderby or ())]
        # Without $orderby rows come in id order, and ids break ties (decisions.md).
        order.append(ir.OrderBy(self.column(src, r.id_field)))
        top = self.count_option(opts.top, "$top")
        skip = self.count_option(opts.skip, "$skip")
        columns: dict[str, ir.Expr] = {}
        for name in [e.nav.local for e in expansions] + [f.name for f in fields] or [r.id_field]:
            if name not in columns:
                columns[name] = self.column(src, name)
        return Collection(level, where, fields, expansions, order, top, skip, columns)

    def count_option(self, lit: ast.Literal | None, name: str) -> ir.Expr | None:
        """$top / $skip as a constant, not a parameter: PostgreSQL's cached plan for
        `ORDER BY id LIMIT $n` cannot see n and may walk the whole id index to fill a
        page (bench/api_reads.py read b). Statement caches key on these values."""
        if lit is None:
            return None
        value = self.binds[lit.index].value
        if not isinstance(value, int) or not 0 <= value <= 2**62:
            raise ValueError_(f"{name} must be a whole number from 0 to {2**62}: {value}")
        return ir.Const(value)

    def expansion(self, item: ast.ExpandItem, parent: Source) -> Expansion:
        r = parent.resource
        nav = self.navigation(r, item.name)
        if nav is None:
            raise UnknownName("navigation", item.name, r.name, r.suggest(item.name))
        target = self.model.resource(nav.target)
        level = Level()
        src, perm = self.source(target, level)
        level.base = src
        # The expansion is read per row of the parent's rendered rows (compile.py).
        where: list[ir.Expr] = [ir.Op("=", (self.column(src, nav.remote), ir.Col(row_alias(parent), nav.local)))]
        if perm is not None:
            where.append(perm)
        if item.count:
            if item.options.filter is not None:
                where.append(self.boolean(item.options.filter, Scope(src, {})))
            return Expansion(item.name, nav, Collection(level, where, [], [], []), count=True)
        return Expansion(item.name, nav, self.collection(src, level, item.options, where))

    def order_item(self, item: ast.OrderItem, scope: Scope) -> ir.OrderBy:
        t = self.operand(item.path, scope)
        if t.is_literal or t.type in ("Null", "Duration", "JSON"):
            raise ResolveError("$orderby takes fields, navigation paths or counts")
        return ir.OrderBy(t.sql, desc=item.direction == "desc",  # type: ignore[arg-type]
                          text=type_class(t.type) == "text")

    # --- columns ------------------------------------------------------------------------

    def column(self, src: Source, name: str) -> ir.Expr:
        f = src.resource.field(name)
        assert f is not None, name
        if f.computed is not None:
            ctx = ComputeContext(col=lambda n: self.column(src, n),
                                 alias=lambda hint: f"{src.alias}_{hint}_{self.alias()}")
            return f.computed(ctx)
        return ir.Col(src.alias, name)

    # --- expressions --------------------------------------------------------------------

    def boolean(self, expr: ast.Expr, scope: Scope, const_binds: bool = False) -> ir.Expr:
        t = self.operand(expr, scope, const_binds)
        if t.is_literal:
            t = self.settle(t, None, "$filter")
        if t.type != "Boolean":
            raise ResolveError(f"$filter needs a true/false condition, not a {t.type} value")
        return t.sql  # type: ignore[return-value]

    def operand(self, e: ast.Expr, scope: Scope, const: bool | None = None) -> Typed:
        const = self._trusted if const is None else const
        if isinstance(e, ast.Literal):
            return self.literal(e, const)
        if isinstance(e, ast.Null):
            return Typed(ir.Const(None), "Null")
        if isinstance(e, ast.Duration):
            return Typed(None, "Duration", seconds=e.total_seconds())
        if isinstance(e, ast.AliasRef):
            if e.name.startswith("__") and self._trusted:
                return Typed(self.param("context", e.name, "Integer", "@" + e.name), "Integer")
            raise ResolveError(f"Missing binding: @{e.name}")
        if isinstance(e, ast.Path):
            return self.path(e, scope)
        if isinstance(e, ast.Not):
            inner = self.operand(e.operand, scope)
            if inner.is_literal:
                inner = self.settle(inner, None, "not")
            if inner.type != "Boolean":
                raise ResolveError(f"'not' needs a true/false operand, not a {inner.type} value")
            return Typed(ir.Not(inner.sql), "Boolean", nullable=False)  # type: ignore[arg-type]
        if isinstance(e, ast.BinOp):
            return self.binop(e, scope)
        if isinstance(e, ast.In):
            return self.in_list(e, scope)
        if isinstance(e, ast.Call):
            return self.call(e, scope)
        raise ResolveError(f"unsupported expression {type(e).__name__}")

    def binop(self, e: ast.BinOp, scope: Scope) -> Typed:
        if e.op in ("and", "or"):
            parts = [self.boolean(a, scope) for a in e.args]
            return Typed(ir.Op(e.op.upper(), tuple(parts)), "Boolean")
        if e.op in _CMP:
            if len(e.args) != 2:
                raise ResolveError(f"'{e.op}' compares two values; write 'a {e.op} b and b {e.op} c'")
            return self.compare(e.op, self.operand(e.args[0], scope), self.operand(e.args[1], scope))
        if e.op == "mod":
            return self.arith("mod", [self.operand(a, scope) for a in e.args])
        return self.arith(e.op, [self.operand(a, scope) for a in e.args])

    def compare(self, op: str, a: Typed, b: Typed) -> Typed:
        if a.type == "Duration" or b.type == "Duration":
            raise ResolveError("a duration can only be added to or subtracted from a date")
        if a.type == "Null" or b.type == "Null":
            other = b if a.type == "Null" else a
            if other.type == "Null":
                return Typed(ir.Const(op in ("eq", "le", "ge")), "Boolean")
            other = self.settle(other, None, "null comparison")
            if op not in ("eq", "ne"):
                return Typed(ir.Const(False), "Boolean")  # NULL never orders
            return Typed(ir.IsNull(other.sql, negate=op == "ne"), "Boolean", nullable=False)  # type: ignore[arg-type]
        name = _name_of(a, b)
        if a.is_literal and not b.is_literal:
            a = self.settle(a, b.type, name)
        elif b.is_literal and not a.is_literal:
            b = self.settle(b, a.type, name)
        elif a.is_literal and b.is_literal:
            ka, kb = a.literal[0], b.literal[0]  # type: ignore[index]
            if ka == "Text" and kb in ("DateTime", "Date"):
                a, b = self.settle(a, "Date Time", name), self.settle(b, None, name)
            else:
                a = self.settle(a, None, name)
                b = self.settle(b, a.type, name)
        ca, cb = type_class(a.type), type_class(b.type)
        if ca != cb:
            raise ResolveError(f"cannot compare a {a.type} value with a {b.type} value")
        if ca == "json":
            raise ResolveError("JSON values cannot be compared")
        if ca == "boolean" and op not in ("eq", "ne"):
            raise ResolveError(f"true/false values cannot be compared with '{op}'")
        if op in ("eq", "ne") and a.nullable and b.nullable:
            # Two columns: NULL equals NULL, as the reference compares (odata.md §5.4).
            return Typed(ir.Op("IS" if op == "eq" else "IS NOT", (a.sql, b.sql)), "Boolean", nullable=False)  # type: ignore[arg-type]
        if op == "ne":
            # `a ne v` keeps rows where a is NULL (odata.md §5.4).
            return Typed(ir.Op("IS NOT", (a.sql, b.sql)), "Boolean", nullable=False)  # type: ignore[arg-type]
        return Typed(ir.Op(_CMP[op], (a.sql, b.sql)), "Boolean")  # type: ignore[arg-type]

    def arith(self, op: str, args: list[Typed]) -> Typed:
        # Dates move by durations.
        if any(a.type == "Duration" for a in args):
            if len(args) != 2 or op not in ("add", "sub") or args[1].type != "Duration":
                raise ResolveError("a duration can only be added to or subtracted from a date")
            base = self.settle(args[0], "Date Time", "date")
            if type_class(base.type) != "date":
                raise ResolveError(f"a duration can only be added to a date, not a {base.type} value")
            secs = args[1].seconds if op == "add" else -args[1].seconds
            return Typed(ir.Func("add_seconds", (base.sql, ir.Const(secs))), "Date Time")  # type: ignore[arg-type]
        typed = [a for a in args if not a.is_literal]
        partner = typed[0].type if typed else "Real"
        for t in typed:
            if type_class(t.type) != "number":
                raise ResolveError(f"'{op}' needs numbers, not a {t.type} value")
        if op == "mod" and not all(a.type in INTEGER_TYPES for a in typed):
            raise ResolveError("'mod' needs whole numbers")
        target = "Integer" if (partner in INTEGER_TYPES and (op == "mod" or all(t.type in INTEGER_TYPES for t in typed))) else "Real"
        if op == "mod" and not typed:
            raise ResolveError("'mod' needs at least one whole-number field")
        settled = [self.settle(a, target if a.is_literal else None, op) for a in args]
        result_type = "Integer" if all(a.type in INTEGER_TYPES for a in settled) else "Real"
        operands = [a.sql for a in settled]
        if op in ("div", "mod"):
            # Dividing by zero gives NULL on both databases (PostgreSQL would fail).
            operands[1:] = [ir.Func("nullif", (x, ir.Const(0))) for x in operands[1:]]  # type: ignore[arg-type]
        if op == "mod":
            expr = operands[0]
            for a in operands[1:]:
                expr = ir.Func("mod", (expr, a))  # type: ignore[arg-type]
            return Typed(expr, result_type)
        # An n-ary node applies left to right: `a sub 1 sub 2` is a - 1 - 2.
        return Typed(ir.Op(_ARITH[op], tuple(operands)), result_type)  # type: ignore[arg-type]

    def in_list(self, e: ast.In, scope: Scope) -> Typed:
        left = self.operand(e.operand, scope)
        if left.is_literal:
            left = self.settle(left, None, "in")
        items = []
        for item in e.items:
            if isinstance(item, ast.Null):
                continue  # NULL never matches (odata.md §5.4)
            items.append(self.settle(self.literal(item, self._trusted), left.type, _name_of(left, left)).sql)
        if not items:
            return Typed(ir.Const(False), "Boolean")
        return Typed(ir.InList(left.sql, tuple(items)), "Boolean")  # type: ignore[arg-type]

    # --- functions ----------------------------------------------------------------------

    def call(self, e: ast.Call, scope: Scope) -> Typed:
        name = e.name
        if name in _UNSUPPORTED:
            raise ResolveError(f"the function '{name}' is not supported")
        args = [self.operand(a, scope) for a in e.args]

        def want(i: int, cls: str, target: str) -> ir.Expr:
            t = self.settle(args[i], target, name) if args[i].is_literal else args[i]
            if type_class(t.type) != cls:
                raise ResolveError(f"'{name}' needs a {target} argument, not a {t.type} value")
            return t.sql  # type: ignore[return-value]

        if name in ("contains", "startswith", "endswith"):
            return Typed(ir.Func(name, (want(0, "text", "Text"), want(1, "text", "Text"))), "Boolean")
        if name == "substringof":
            return Typed(ir.Func("contains", (want(1, "text", "Text"), want(0, "text", "Text"))), "Boolean")
        if name in ("tolower", "toupper", "trim"):
            fn = {"tolower": "lower", "toupper": "upper", "trim": "trim"}[name]
            return Typed(ir.Func(fn, (want(0, "text", "Text"),)), "Text")
        if name == "length":
            return Typed(ir.Func("length", (want(0, "text", "Text"),)), "Integer")
        if name == "indexof":
            pos = ir.Func("instr", (want(0, "text", "Text"), want(1, "text", "Text")))
            return Typed(ir.Op("-", (pos, ir.Const(1))), "Integer")
        if name == "substring":
            # 0-based start; negative starts and lengths are clamped to 0 so both
            # databases agree (SQLite counts negative starts from the end, PostgreSQL
            # refuses negative lengths).
            s = want(0, "text", "Text")
            start = ir.Op("+", (ir.Func("nonneg", (want(1, "number", "Integer"),)), ir.Const(1)))
            rest = (ir.Func("nonneg", (want(2, "number", "Integer"),)),) if len(args) == 3 else ()
            return Typed(ir.Func("substr", (s, start, *rest)), "Text")
        if name == "concat":
            parts = tuple(self.settle(a, None, name).sql if a.is_literal else a.sql for a in args)
            return Typed(ir.Op("||", parts), "Text")  # type: ignore[arg-type]
        if name == "replace":
            return Typed(ir.Func("replace", tuple(want(i, "text", "Text") for i in range(3))), "Text")
        if name in ("year", "month", "day", "hour", "minute", "second"):
            return Typed(ir.Func(name, (want(0, "date", "Date Time"),)), "Integer")
        if name == "fractionalseconds":
            return Typed(ir.Func(name, (want(0, "date", "Date Time"),)), "Real")
        if name == "date":
            return Typed(ir.Func("date", (want(0, "date", "Date Time"),)), "Date Time")
        if name == "time":
            return Typed(ir.Func("time", (want(0, "date", "Date Time"),)), "Text")
        if name == "now":
            return Typed(ir.Func("now"), "Date Time", nullable=False)
        if name in ("round", "floor", "ceiling"):
            return Typed(ir.Func(name, (want(0, "number", "Real"),)), "Real")
        if name == "totalseconds":
            if args[0].type != "Duration":
                raise ResolveError("'totalseconds' needs a duration")
            return Typed(ir.Const(args[0].seconds), "Real", nullable=False)
        raise ResolveError(f"the function '{name}' is not supported")

    # --- paths --------------------------------------------------------------------------

    def path(self, p: ast.Path, scope: Scope) -> Typed:
        segments = list(p.segments)
        first = segments[0]
        if first.name in scope.variables and first.key is None:
            src = scope.variables[first.name]
            segments.pop(0)
            if not segments:
                if p.tail is not None:
                    raise ResolveError(f"'{first.name}' is a lambda variable, not a navigation")
                raise ResolveError(f"the lambda variable '{first.name}' is not a value; name a field of it")
        else:
            src = scope.source
        # Walk to the last segment, joining to-one hops.
        for i, seg in enumerate(segments):
            last = i == len(segments) - 1
            r = src.resource
            if last and p.tail is None:
                if seg.key is not None:
                    raise ResolveError(f"'{seg.name}' with a key must be followed by a field")
                # The server's own filters may name what clients do not see (hidden
                # fields and navigations of an older version's model).
                f = r.field(seg.name) if self._trusted else _visible(r, seg.name)
                if f is None:
                    if self.navigation(r, seg.name) is not None:
                        raise ResolveError(f"'{seg.name}' is a navigation, not a value; name one of its fields")
                    raise UnknownName("field", seg.name, r.name, r.suggest(seg.name))
                nullable = not (f.required or seg.name == r.id_field)
                return Typed(self.column(src, seg.name), f.type, nullable=nullable)
            nav = self.navigation(r, seg.name)
            if nav is None:
                raise UnknownName("navigation", seg.name, r.name, r.suggest(seg.name))
            if last:
                return self.tail(p.tail, nav, src, scope, seg.key)  # type: ignore[arg-type]
            if nav.many and seg.key is None and isinstance(p.tail, ast.Lambda):
                # `a/b/any(x: e)` through a to-many `a`: some `a` row whose `b` rows
                # satisfy the lambda, i.e. a/any(v: v/b/any(x: e)).
                var = f"${self._aliases}"
                rest = ast.Path((ast.Segment(var),) + tuple(segments[i + 1:]), p.tail)
                return self.tail(ast.Lambda("any", var, rest), nav, src, scope, None)
            src = self.hop(src, nav, seg.key)
        raise ResolveError("empty path")  # pragma: no cover

    def hop(self, src: Source, nav: Navigation, key: ast.Key | None) -> Source:
        """The joined source one to-one navigation away (shared by every use in the level)."""
        target = self.model.resource(nav.target)
        if nav.many and key is None:
            raise ResolveError(
                f"'{nav.name}' leads to many '{target.name}' rows; use {nav.name}/any(x: …) "
                f"or {nav.name}/$count")
        index_key = (src.alias, nav.name, key)
        level = src.level
        existing = level._index.get(index_key)
        if existing is not None:
            return existing
        joined, perm = self.source(target, level)
        conds: list[ir.Expr] = [ir.Op("=", (self.column(joined, nav.remote), self.column(src, nav.local)))]
        if key is not None:
            if not nav.many:
                raise ResolveError(f"'{nav.name}' leads to one row and takes no key")
            conds.append(self.key(key, joined, nav.remote)[0])
        if perm is not None:
            conds.append(perm)
        level.joins.append((joined, _and(conds)))
        level._index[index_key] = joined
        return joined

    def tail(self, tail: ast.Lambda | ast.CountOf | ast.MethodCall | None, nav: Navigation,
             src: Source, scope: Scope, key: ast.Key | None) -> Typed:
        if tail is None or isinstance(tail, ast.MethodCall):
            what = f"the method '{tail.name}'" if tail else "a navigation as a value"
            raise ResolveError(f"{what} is not supported in $filter ('{nav.name}')")
        if key is not None:
            raise ResolveError(f"'{nav.name}' takes no key before a lambda or $count")
        target = self.model.resource(nav.target)
        level = Level()
        inner, perm = self.source(target, level)
        level.base = inner
        conds: list[ir.Expr] = [ir.Op("=", (self.column(inner, nav.remote), self.column(src, nav.local)))]
        if perm is not None:
            conds.append(perm)
        if isinstance(tail, ast.CountOf):
            if tail.filter is not None:
                conds.append(self.boolean(tail.filter, Scope(inner, scope.variables)))
            sel = ir.Select(((ir.Func("count"), None),), level.from_item(), _and(conds))
            return Typed(ir.Scalar(sel), "Integer", nullable=False)
        variables = dict(scope.variables)
        variables[tail.variable] = inner
        body = self.boolean(tail.body, Scope(inner, variables))
        if tail.kind == "all":
            conds.append(ir.Not(body))
            sel = ir.Select(((ir.Const(1), None),), level.from_item(), _and(conds))
            return Typed(ir.Not(ir.Exists(sel)), "Boolean", nullable=False)
        local = src.resource.field(nav.local)
        if not nav.many and local is not None and local.computed is None and not self._trusted:
            # `fk/any(x: …)` over a to-one navigation — the SDKs' way of filtering by a
            # parent's field — as `fk IN (SELECT id … WHERE …)`: the parent rows are
            # found first and the child rows through the foreign key's index. SQLite
            # would otherwise test an EXISTS on every row (bench/api_reads.py read b).
            # Not in permission rules: theirs are broad ("every fleet of my
            # organizations"), and a per-row EXISTS of a few key lookups beats building
            # that set for every request.
            sel = ir.Select(((self.column(inner, nav.remote), None),), level.from_item(),
                            _and(conds[1:] + [body]))
            return Typed(ir.Op("IN", (self.column(src, nav.local), ir.Scalar(sel))), "Boolean")
        conds.append(body)
        sel = ir.Select(((ir.Const(1), None),), level.from_item(), _and(conds))
        return Typed(ir.Exists(sel), "Boolean", nullable=False)


def _visible(r: Resource, name: str) -> Field | None:
    """A field the API shows: secrets (`readable=False`) are neither returned nor
    filtered, ordered or keyed on — to a client they do not exist."""
    f = r.field(name)
    return f if f is not None and f.readable else None


def _name_of(a: Typed, b: Typed) -> str:
    for t in (a, b):
        if isinstance(t.sql, ir.Col):
            return t.sql.name
    return "value"
