"""A release's computed version fields (spec/model.md §3.2): is_final, semver,
raw_version and the `version` JSON, as SQL-tree builders.

Part of `model/balena`, beside `computed.py`. Text is joined with `||` and CASE so that
absent parts leave no separator (the reference's CONCAT_WS). `version` is built as JSON
text and cast, since neither dialect's JSON builder is reachable from a neutral tree.
"""

from __future__ import annotations

from fleetyard.model.balena.computed import all_of, any_of, c, case, concat, eq, ne
from fleetyard.model.schema import ComputeContext
from fleetyard.sql import ir

# --- helpers ------------------------------------------------------------------------------


def _text(x: ir.Expr) -> ir.Expr:
    return ir.Cast(x, "Text")


def _present(x: ir.Expr) -> ir.Expr:
    return ne(x, c(""))


def _join(sep: str, parts: list[tuple[ir.Expr, ir.Expr]]) -> ir.Expr:
    """The parts whose condition holds, joined by `sep` ('' when none does)."""
    pieces = [case((cond, concat(c(sep), value)), otherwise=c("")) for cond, value in parts]
    return ir.Func("substr", (concat(c(""), *pieces), c(1 + len(sep))))


_ESCAPES = (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"))


def _escaped(x: ir.Expr) -> ir.Expr:
    """Text made safe inside a JSON string: quotes, backslashes and the usual control
    characters (a replace per character nests; the rest of C0 is left to the domain
    layer's checks on `variant`, the one free-text part)."""
    for raw, escaped in _ESCAPES:
        x = ir.Func("replace", (x, c(raw), c(escaped)))
    return x


def _json_strings(dotted: ir.Expr) -> ir.Expr:
    """'a.b' → '"a","b"': dot-separated parts (already escaped) as JSON strings."""
    return concat(c('"'), ir.Func("replace", (dotted, c("."), c('","'))), c('"'))


# Days before each month in a common year.
_DAYS_BEFORE = (0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334)


def epoch_ms(x: ir.Expr) -> ir.Expr:
    """A date-time as whole milliseconds since 1970 (a Big Integer), from its UTC parts.

    Kept shallow: SQLite's parser refuses expressions nested about 30 deep, and this one
    sits inside text building inside nested expansions. Years 1970-2099 (every fourth
    year a leap year), which covers any row this server writes.
    """
    def f(name: str) -> ir.Expr:
        return ir.Func(name, (x,))

    def op(o: str, *args: ir.Expr) -> ir.Expr:
        return ir.Op(o, args)

    year, month = f("year"), f("month")
    before_month = ir.Case(tuple((c(m), c(n)) for m, n in enumerate(_DAYS_BEFORE, 1)), subject=month)
    leap_day = case((all_of(op(">", month, c(2)), eq(ir.Func("mod", (year, c(4))), c(0))), c(1)),
                    otherwise=c(0))
    days = op("+", op("*", c(365), op("-", year, c(1970))), op("/", op("-", year, c(1969)), c(4)),
              before_month, leap_day, f("day"), c(-1))
    # The 0.0001 absorbs binary fractions (SQLite computes .123 as .12299…); dates are
    # stored to the millisecond on both databases.
    millis = ir.Cast(ir.Func("floor", (op("+", op("*", f("fractionalseconds"), c(1000)), c(0.0001)),)),
                     "Big Integer")
    return op("+", op("*", ir.Cast(days, "Big Integer"), c(86_400_000)),
              op("*", f("hour"), c(3_600_000)), op("*", f("minute"), c(60_000)),
              op("*", f("second"), c(1000)), millis)


# --- the parts of a version ---------------------------------------------------------------


class _Parts:
    """The named pieces of §3.2 for one release row. With `escaped`, the free-text parts
    are escaped for a JSON string (escaping the leaves keeps the expression shallow)."""

    def __init__(self, ctx: ComputeContext, escaped: bool = False):
        col = ctx.col
        leaf = _escaped if escaped else (lambda e: e)
        self.major, self.minor, self.patch = col("semver_major"), col("semver_minor"), col("semver_patch")
        self.pre_raw, self.build_raw = col("semver_prerelease"), col("semver_build")
        self.pre, self.build, self.variant = leaf(self.pre_raw), leaf(self.build_raw), leaf(col("variant"))
        self.has_pre, self.has_build = _present(self.pre_raw), _present(self.build_raw)
        self.has_variant = _present(col("variant"))
        self.rev = col("revision")
        self.draft = ir.IsNull(self.rev)
        self.ts = _text(epoch_ms(col("created_at")))
        self.core = concat(_text(self.major), c("."), _text(self.minor), c("."), _text(self.patch))
        # "revN" is listed when N > 0 and the build metadata does not already hold it.
        rev_tag = concat(c(".rev"), _text(self.rev), c("."))
        self.has_rev = all_of(ir.Op(">", (self.rev, c(0))),
                              ir.Not(ir.Func("contains", (concat(c("."), self.build_raw, c(".")), rev_tag))))

    def _pre_dash(self) -> ir.Expr:
        return case((self.has_pre, concat(c("-"), self.pre)), otherwise=c(""))

    def _pre_dot(self) -> ir.Expr:
        return case((self.has_pre, concat(self.pre, c("."))), otherwise=c(""))

    def with_prerelease(self) -> ir.Expr:
        """core, then '-' and the prerelease parts (a draft's timestamp last)."""
        return case((self.draft, concat(self.core, c("-"), self._pre_dot(), self.ts)),
                    otherwise=concat(self.core, self._pre_dash()))

    def build_list(self, with_rev: bool = True) -> ir.Expr:
        parts = [(self.has_build, self.build)]
        if with_rev:
            parts.append((self.has_rev, concat(c("rev"), _text(self.rev))))
        parts.append((self.has_variant, self.variant))
        return _join(".", parts)

    def raw(self) -> ir.Expr:
        # A draft has no revision, so only the final form can list "revN".
        draft_plus = any_of(self.has_build, self.has_variant)
        final_plus = any_of(self.has_build, ir.Op(">", (self.rev, c(0))), self.has_variant)
        return case(
            (self.draft, concat(self.core, c("-"), self._pre_dot(), self.ts,
                                case((draft_plus, c("+")), otherwise=c("")), self.build_list(False))),
            otherwise=concat(self.core, self._pre_dash(),
                             case((final_plus, c("+")), otherwise=c("")), self.build_list()),
        )


# --- the fields ---------------------------------------------------------------------------


def is_final(ctx: ComputeContext) -> ir.Expr:
    """A release is final once it has a revision; without one it is a draft (§3.1)."""
    return ir.IsNull(ctx.col("revision"), negate=True)


def semver(ctx: ComputeContext) -> ir.Expr:
    """core[-prerelease][+build]: neither the revision nor the variant (§3.2)."""
    p = _Parts(ctx)
    return concat(p.core, p._pre_dash(),
                  case((p.has_build, concat(c("+"), p.build)), otherwise=c("")))


def raw_version(ctx: ComputeContext) -> ir.Expr:
    """core[-prerelease parts[.draft ts]][+[build parts][.revN][.variant]] (§3.2)."""
    return _Parts(ctx).raw()


def version(ctx: ComputeContext) -> ir.Expr:
    """{"raw", "major", "minor", "patch", "prerelease", "build", "version"} (§3.2): the
    prerelease parts are strings and a draft's timestamp a number."""
    p = _Parts(ctx, escaped=True)
    quoted_pre = _json_strings(p.pre)
    prerelease = case(
        (p.draft, concat(case((p.has_pre, concat(quoted_pre, c(","))), otherwise=c("")), p.ts)),
        otherwise=case((p.has_pre, quoted_pre), otherwise=c("")),
    )
    build = _join(",", [(p.has_build, _json_strings(p.build)),
                        (p.has_rev, concat(c('"rev'), _text(p.rev), c('"'))),
                        (p.has_variant, concat(c('"'), p.variant, c('"')))])
    doc = concat(
        c('{"raw":"'), p.raw(),
        c('","major":'), _text(p.major), c(',"minor":'), _text(p.minor), c(',"patch":'), _text(p.patch),
        c(',"prerelease":['), prerelease, c('],"build":['), build,
        c('],"version":"'), p.with_prerelease(), c('"}'),
    )
    return ir.Cast(doc, "JSON")
