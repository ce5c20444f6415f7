"""The OData engine: one request through parse → resolve → compile → render → execute.

Reads return the JSON text the database built, untouched. Compiled statements are cached
twice: by URL (the same request again costs a dict lookup) and by shape (the parsed tree,
whose literals are binds, so new values reuse the statement). Writes run in one
transaction with their permission checks.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from fleetyard.db.base import Database, DatabaseError, IntegrityViolation, Transaction
from fleetyard.errors import (
    ConstraintError,
    PermissionDenied,
    ResolveError,
    ValueError_,
)
from fleetyard.model.schema import Model, Resource
from fleetyard.odata import ast
from fleetyard.odata.compile import (
    compile_delete,
    compile_read,
    compile_update,
    default_value,
    row_set,
)
from fleetyard.odata.hooks import Hooks, Write, committing
from fleetyard.odata.parser import parse
from fleetyard.odata.permissions import Permissions
from fleetyard.odata.plan import ParamSpec, Plan, _and, table_of
from fleetyard.odata.resolve import Resolver
from fleetyard.odata.values import check, to_db
from fleetyard.sql import ir
from fleetyard.sql.render import renderer


@dataclass(frozen=True)
class Compiled:
    sql: str
    params: tuple[ParamSpec, ...]
    plan: Plan


class Engine:
    def __init__(self, model: Model, db: Database, *, hooks: Mapping[str, Hooks] | None = None,
                 lenient: bool = False, canonical: Engine | None = None, cache_size: int = 4096):
        """`lenient`: unknown $select/$expand names are dropped (v6). `canonical`: the
        engine of the canonical model, through which hooks act when this one serves a
        translated version (rules are written against canonical names)."""
        self.model = model
        self.hooks: Mapping[str, Hooks] = hooks or {}
        self.lenient = lenient
        self.canonical = canonical or self
        self.db = db
        self.dialect = db.dialect
        self.render = renderer(db.dialect)
        self.cache_size = cache_size
        self._by_url: dict[tuple, tuple[Compiled, tuple[ast.BindValue, ...]]] = {}
        self._by_shape: dict[tuple, Compiled] = {}

    # --- compiling ----------------------------------------------------------------------

    def plan(self, url: str, method: str, permissions: Permissions) -> tuple[Plan, ast.Request]:
        req = parse(url)
        return Resolver(self.model, permissions, req.binds, lenient=self.lenient).resolve(req, method), req

    def compile_get(self, url: str, permissions: Permissions) -> tuple[Compiled, tuple[ast.BindValue, ...]]:
        cacheable = permissions.key is not None
        url_key = (url, permissions.key)
        if cacheable:
            hit = self._by_url.get(url_key)
            if hit is not None:
                return hit
        req = parse(url)
        shape_key = (req, permissions.key, _page_values(req.options, req.binds))
        compiled = self._by_shape.get(shape_key) if cacheable else None
        if compiled is None:
            plan = Resolver(self.model, permissions, req.binds, lenient=self.lenient).resolve(req, "GET")
            sql, slots = self.render.render(compile_read(plan))
            compiled = Compiled(sql, tuple(plan.params[s] for s in slots), plan)
            if cacheable:
                _remember(self._by_shape, shape_key, compiled, self.cache_size)
        if cacheable:
            _remember(self._by_url, url_key, (compiled, req.binds), self.cache_size)
        return compiled, req.binds

    def values(self, specs: tuple[ParamSpec, ...] | list[ParamSpec],
               binds: tuple[ast.BindValue, ...], context: Mapping[str, Any]) -> list[object]:
        out: list[object] = []
        for s in specs:
            if s.kind == "bind":
                v = binds[s.ref].value  # type: ignore[call-overload]
            elif s.kind == "const":
                v = s.ref
            else:
                if s.ref not in context:
                    raise PermissionDenied(f"no value for @{s.ref} for this caller")
                v = context[s.ref]  # type: ignore[index]
            out.append(to_db(self.dialect, s.type, check(s.name, s.type, v)))
        return out

    # --- reads --------------------------------------------------------------------------

    async def get(self, url: str, permissions: Permissions, context: Mapping[str, Any] | None = None,
                  *, tx: Transaction | None = None) -> str:
        """The response body of a GET: `{"d": [...]}` or `{"d": n}`, as JSON text."""
        compiled, binds = self.compile_get(url, permissions)
        params = self.values(compiled.params, binds, context or {})
        try:
            text = await (tx or self.db).fetch_value(compiled.sql, params)
        except DatabaseError as e:
            raise _too_complex(e) from e
        assert isinstance(text, str)
        return text

    # --- writes -------------------------------------------------------------------------
    # Each write runs in a transaction of its own, or in `tx` when a hook writes as part
    # of another write. Integrity violations become 409/400 answers, and roll it back.

    async def post(self, url: str, body: object, permissions: Permissions,
                   context: Mapping[str, Any] | None = None, *, tx: Transaction | None = None) -> dict:
        """Insert one row; the created entity as a plain object (or `{"id": n}` when the
        caller cannot read it back or asked `returnResource=false`)."""
        return await self._in_tx(self._post, tx, url, body, permissions, context or {})

    async def patch(self, url: str, body: object, permissions: Permissions,
                    context: Mapping[str, Any] | None = None, *, tx: Transaction | None = None) -> int:
        """Update the addressed rows with the body's fields; the number of rows addressed."""
        return await self._in_tx(self._patch, tx, url, body, permissions, context or {})

    async def put(self, url: str, body: object, permissions: Permissions,
                  context: Mapping[str, Any] | None = None, *, tx: Transaction | None = None) -> int:
        """Replace the keyed row (fields not in the body get their defaults), or create it."""
        return await self._in_tx(self._put, tx, url, body, permissions, context or {})

    async def delete(self, url: str, permissions: Permissions,
                     context: Mapping[str, Any] | None = None, *, tx: Transaction | None = None) -> int:
        """Delete the addressed rows; how many there were."""
        return await self._in_tx(self._delete, tx, url, None, permissions, context or {})

    async def _in_tx(self, op, tx, url, body, permissions, context):
        try:
            if tx is not None:
                return await op(tx, url, body, permissions, context)
            with committing() as callbacks:
                async with self.db.transaction() as own:
                    result = await op(own, url, body, permissions, context)
            for callback in callbacks:  # hooks' `after_commit`: the write is visible now
                done = callback()
                if inspect.isawaitable(done):
                    await done
            return result
        except IntegrityViolation as e:
            raise _constraint(e) from None

    def _writable(self, plan: Plan) -> Resource:
        if plan.resource.read_only:
            raise ResolveError(f"'{plan.resource.name}' is read-only")
        return plan.resource

    async def _post(self, tx, url, body, permissions, context) -> dict:
        plan, req = self.plan(url, "POST", permissions)
        r = self._writable(plan)
        data = dict(_body(body))
        if req.key is not None:
            (name, value), *more = req.key.parts
            if more or name not in (None, r.id_field) or not isinstance(value, ast.Literal):
                raise ResolveError("POST takes a plain id key: /resource(id)")
            data[r.id_field] = req.binds[value.index].value
        hooks, w = self._hooks(tx, r, "POST", permissions, context)
        if hooks is not None:
            data = await hooks.before_post(w, data)
        if plan.permission is not None and not await self._may_create(tx, plan, req, r, data, context):
            raise PermissionDenied(f"not allowed to create this '{r.name}'")
        columns, values, params = self._row(r, data, [], insert=True)
        sql, slots = self.render.render(ir.Insert(r.table, tuple(columns), tuple(values), returning=r.id_field))
        new_id = await tx.fetch_value(sql, [params[s] for s in slots])
        if plan.collection.where:
            await self._check_new_row(tx, plan, req, new_id, context)
        if hooks is not None:
            await hooks.after_post(w, new_id, data)
        if (dict(req.options.custom).get("returnResource", "true") in ("false", "0")
                or permissions.rule(r.rules_from or r.name, "read") is False):
            return {"id": new_id}  # no reading back what one may create but not read
        # One statement per resource reads new rows back: the key is its only bind.
        numeric = isinstance(new_id, int)
        compiled, _ = self.compile_get(f"/{r.name}({0 if numeric else repr('')})", permissions)
        binds = (ast.BindValue("Real" if numeric else "Text", new_id),)
        text = await tx.fetch_value(compiled.sql, self.values(compiled.params, binds, context))
        rows = orjson.loads(text)["d"] if isinstance(text, str) else []
        return rows[0] if rows else {"id": new_id}

    async def _may_create(self, tx, plan: Plan, req: ast.Request, r: Resource, data: dict, context) -> bool:
        """Whether the create rule holds for the row the body describes, read before the
        insert off a one-row derived table of the body's values (defaults for the rest).
        Checked first, so a unique or foreign-key violation on a row the caller could not
        create is a 401, never a 409 that reveals another tenant's row (spec/model.md
        §5.1); and checked without the new row, so a row cannot grant its own creation
        (a membership that makes its user the organization's administrator). The check
        after the insert still holds the row to the rule and to the URL's $filter."""
        assert plan.permission is not None
        params = self.values(plan.params, req.binds, context)
        given = dict(zip(*self._row(r, data, params, insert=False)[:2]))
        row: list[tuple[ir.Expr, str | None]] = []
        for f in r.fields:
            if f.computed is not None:
                continue
            cast = "Integer" if f.type == "Serial" else "Big Integer" if f.type == "Big Serial" else f.type
            if f.name in given:
                value = given[f.name]
            elif f.default is not None:
                value = default_value(f)
            else:
                value = ir.Cast(ir.Const(None), cast)
            row.append((value, f.name))
        src = plan.collection.source
        item: ir.From = ir.Derived(ir.Select(tuple(row)), src.alias)
        for joined, on in plan.collection.level.joins:
            item = ir.Join(item, table_of(joined), on)
        sql, slots = self.render.render(ir.Select(((ir.Const(1), None),), item, plan.permission))
        return await tx.fetch_value(sql, [params[s] for s in slots]) is not None

    async def _check_new_row(self, tx, plan: Plan, req: ast.Request, new_id: object, context) -> None:
        """The new row must satisfy the create permission and the URL's $filter."""
        coll = plan.collection
        src = coll.source
        id_field = src.resource.field(src.resource.id_field)
        assert id_field is not None
        cond = ir.Op("=", (ir.Col(src.alias, id_field.name), ir.Param(len(plan.params), id_field.type)))
        sel = ir.Select(((ir.Const(1), None),), coll.level.from_item(), _and([*coll.where, cond]))
        params = self.values(plan.params, req.binds, context) + [new_id]
        sql, slots = self.render.render(sel)
        if await tx.fetch_value(sql, [params[s] for s in slots]) is None:
            raise PermissionDenied(f"not allowed to create this '{src.resource.name}'")

    async def _ids(self, tx, plan: Plan, req: ast.Request, context) -> list:
        """The ids of the rows a PATCH, PUT or DELETE addresses (key, $filter, permission,
        $orderby/$top/$skip), read inside the write's transaction."""
        sql, slots = self.render.render(row_set(plan))
        params = self.values(plan.params, req.binds, context)
        return [row[0] for row in await tx.fetch_all(sql, [params[s] for s in slots])]

    async def _patch(self, tx, url, body, permissions, context) -> int:
        plan, req = self.plan(url, "PATCH", permissions)
        r = self._writable(plan)
        data = dict(_body(body))
        if not data:
            raise ValueError_("No fields to update")
        inputs = hooks.inputs if (hooks := self.hooks.get(r.name)) is not None else frozenset()
        if not any(((f := r.field(k)) is not None and f.is_writable) or k in inputs for k in data):
            raise ValueError_(
                "No fields to update: " + ", ".join(f'"{k}"' for k in data)
                + f" {'is' if len(data) == 1 else 'are'} not writable on '{r.name}'")
        ids = await self._ids(tx, plan, req, context)
        if not ids:
            return 0
        hooks, w = self._hooks(tx, r, "PATCH", permissions, context)
        if hooks is not None:
            data = await hooks.before_patch(w, ids, data)
        await self._may_change(tx, plan, req, ids, data, context, replace=False)
        await self._update(tx, r, ids, data, replace=False)
        await self._still_permitted(tx, plan, req, ids, context)
        if hooks is not None:
            await hooks.after_patch(w, ids, data)
        return len(ids)

    async def _put(self, tx, url, body, permissions, context) -> int:
        plan, req = self.plan(url, "PUT", permissions)
        r = self._writable(plan)
        if req.key is None:
            raise ResolveError("PUT needs a key: /resource(id)")
        data = dict(_body(body))
        ids = await self._ids(tx, plan, req, context)
        if not ids:
            await self._post(tx, url.split("?", 1)[0], data, permissions, context)
            return 1
        hooks, w = self._hooks(tx, r, "PUT", permissions, context)
        keep = hooks.owned if hooks is not None else frozenset()
        if hooks is not None:
            data = await hooks.before_patch(w, ids, data)
        await self._may_change(tx, plan, req, ids, data, context, replace=True, keep=keep)
        await self._update(tx, r, ids, data, replace=True, keep=keep)
        await self._still_permitted(tx, plan, req, ids, context)
        if hooks is not None:
            await hooks.after_patch(w, ids, data)
        return len(ids)

    async def _may_change(self, tx, plan: Plan, req: ast.Request, ids: list, data: dict, context, *,
                          replace: bool, keep: frozenset[str] = frozenset()) -> None:
        """The update rule over the rows as the change would leave them, read before the
        UPDATE off the current rows with the body's values laid over them: a unique or
        foreign-key violation the change would trip must not speak first (a 409 naming
        another tenant's tag key, where the rule says 401)."""
        if plan.permission is None:
            return
        r = plan.resource
        params = self.values(plan.params, req.binds, context)
        given = dict(zip(*self._row(r, data, params, insert=False)[:2]))
        src = plan.collection.source
        was = f"{src.alias}_was"
        row: list[tuple[ir.Expr, str | None]] = []
        for f in r.fields:
            if f.computed is not None:
                continue
            if f.name in given:
                value = given[f.name]
            elif replace and f.is_writable and f.name != r.id_field and f.name not in keep:
                value = default_value(f) if f.default is not None else ir.Cast(ir.Const(None), f.type)
            else:
                value = ir.Col(was, f.name)
            row.append((value, f.name))
        for chunk in _chunks(ids):
            first = len(params)
            cond = ir.InList(ir.Col(was, r.id_field),
                             tuple(ir.Param(first + i, _id_type(r)) for i in range(len(chunk))))
            item: ir.From = ir.Derived(ir.Select(tuple(row), ir.Table(r.table, was), cond), src.alias)
            for joined, on in plan.collection.level.joins:
                item = ir.Join(item, table_of(joined), on)
            sql, slots = self.render.render(ir.Select(((ir.Func("count"), None),), item, plan.permission))
            all_params = params + list(chunk)
            if await tx.fetch_value(sql, [all_params[s] for s in slots]) != len(chunk):
                raise PermissionDenied(f"not allowed to make this change to '{r.name}'")

    async def _still_permitted(self, tx, plan: Plan, req: ast.Request, ids: list, context) -> None:
        """After an update every changed row must still satisfy the caller's update rule:
        a row of one's own cannot be re-pointed at rows out of one's reach."""
        if plan.permission is None:
            return
        src = plan.collection.source
        for chunk in _chunks(ids):
            first = len(plan.params)
            cond = ir.InList(ir.Col(src.alias, src.resource.id_field),
                             tuple(ir.Param(first + i, _id_type(src.resource)) for i in range(len(chunk))))
            sel = ir.Select(((ir.Func("count"), None),), plan.collection.level.from_item(),
                            _and([cond, plan.permission]))
            sql, slots = self.render.render(sel)
            params = self.values(plan.params, req.binds, context) + list(chunk)
            if await tx.fetch_value(sql, [params[s] for s in slots]) != len(chunk):
                raise PermissionDenied(f"not allowed to make this change to '{src.resource.name}'")

    async def _update(self, tx, r: Resource, ids: list, data: dict, *, replace: bool,
                      keep: frozenset[str] = frozenset()) -> None:
        columns, values, params = self._row(r, data, [], insert=False)
        sets = dict(zip(columns, values))
        if replace:  # PUT: every writable field not in the body goes back to its default,
            # except those the rules own (`Hooks.owned`: an actor, a slug), which stay
            for f in r.fields:
                if f.is_writable and f.name not in sets and f.name != r.id_field and f.name not in keep:
                    if f.required and f.default is None:
                        raise ValueError_(f'"{f.name}" is required')
                    sets[f.name] = default_value(f)
        if not sets:
            return  # the hooks took every field
        for chunk in _chunks(ids):
            where = self._ids_in(r, chunk, len(params))
            sql, slots = self.render.render(compile_update(r, list(sets.items()), where))
            all_params = params + list(chunk)
            await tx.execute(sql, [all_params[s] for s in slots])

    async def _delete(self, tx, url, body, permissions, context) -> int:
        plan, req = self.plan(url, "DELETE", permissions)
        r = self._writable(plan)
        ids = await self._ids(tx, plan, req, context)
        hooks, w = self._hooks(tx, r, "DELETE", permissions, context)
        if not ids:
            if hooks is not None:
                await hooks.nothing_to_delete(w, req.key is not None)
            return 0
        if hooks is not None:
            await hooks.before_delete(w, ids)
        for chunk in _chunks(ids):
            sql, slots = self.render.render(compile_delete(r, self._ids_in(r, chunk, 0)))
            await tx.execute(sql, [chunk[s] for s in slots])
        if hooks is not None:
            await hooks.after_delete(w, ids)
        return len(ids)

    def _ids_in(self, r: Resource, ids: list, first_slot: int) -> ir.Expr:
        id_field = r.field(r.id_field)
        assert id_field is not None
        params = tuple(ir.Param(first_slot + i, id_field.type) for i in range(len(ids)))
        return ir.InList(ir.Col(r.table, r.id_field), params)

    def _hooks(self, tx, r: Resource, method: str, permissions: Permissions, context):
        hooks = self.hooks.get(r.name)
        if hooks is None:
            return None, None
        return hooks, Write(self.canonical, tx, r, method, permissions, context)

    def _row(self, r: Resource, data: dict, params: list[object], *, insert: bool):
        """Checked columns and parameter nodes for a body, appended to `params` (an
        UPDATE's row set uses the URL's parameters first). An INSERT starts with none."""
        columns: list[str] = []
        values: list[ir.Expr] = []
        for f in r.fields:
            if f.name not in data or not (f.is_writable or (insert and f.name == r.id_field)):
                continue
            value = data[f.name]
            if value is None:
                if f.required:
                    raise ValueError_(f'"{f.name}" cannot be null')
            else:
                value = check(f.name, f.type, value, max_length=f.max_length)
                if f.choices and value not in f.choices:
                    raise ValueError_(f'"{f.name}" must be one of {", ".join(map(repr, f.choices))}: {value}')
            columns.append(f.name)
            values.append(ir.Param(len(params), f.type))
            params.append(to_db(self.dialect, f.type, value))
        if insert:
            for f in r.fields:
                if (f.required and f.name not in columns and f.default is None
                        and f.computed is None and f.type not in ("Serial", "Big Serial")):
                    raise ValueError_(f'"{f.name}" is required')
        return columns, values, params


def _body(body: object) -> dict:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ValueError_("the request body must be a JSON object")
    return body


def _constraint(e: IntegrityViolation) -> ConstraintError:
    cols = list(e.columns or [])
    if e.kind == "unique":
        names = " and ".join(f'"{c}"' for c in cols)
        return ConstraintError(f"{names} must be unique." if cols else "Unique key constraint violated", status=409)
    if e.kind == "foreign_key":
        return ConstraintError(f"Data is referenced by {cols[0]}." if cols else "Foreign key constraint violated", status=409)
    if e.kind == "not_null":
        return ConstraintError(f'"{cols[0]}" cannot be null' if cols else "A required field is missing", status=400)
    return ConstraintError("Check constraint violated", status=400)


# What a database says when a legal request is too deep or wide for it: SQLite's parser
# stack and expression depth limits.
_LIMITS = ("parser stack overflow", "Expression tree is too large", "too many terms", "too many FROM clause terms")


def _too_complex(e: DatabaseError) -> Exception:
    if any(text in e.message for text in _LIMITS):
        return ResolveError("the request is nested too deeply for the database; simplify the $filter or $expand")
    return e


def _id_type(r: Resource) -> str:
    f = r.field(r.id_field)
    assert f is not None
    return f.type


def _page_values(opts: ast.Options, binds: tuple[ast.BindValue, ...]) -> tuple:
    """The $top and $skip values of a request and its expansions: the statement holds
    them as constants, so they are part of its cache key."""
    values = tuple(binds[lit.index].value if lit is not None else None for lit in (opts.top, opts.skip))
    for item in opts.expand or ():
        values += _page_values(item.options, binds)
    return values


def _chunks(ids: list, size: int = 5000):
    """Ids in groups a statement's parameters can hold on both databases."""
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


def _remember(cache: dict, key: tuple, value: object, limit: int) -> None:
    if len(cache) >= limit:
        cache.clear()  # simple and bounded; the hot set refills in a few requests
    cache[key] = value
