"""How long the OData engine takes to turn a URL into SQL, per query, on this machine.

Prints, for twenty requests of the kind the balena SDKs send (spec/pinejs-client-urls.md),
the µs per parse + resolve + compile + render with nothing cached, per cached lookup of
the same URL, and per lookup of the same shape with new literal values (a parse, then
the shape cache). Targets (issue 2, decisions.md): < 300 µs uncached, < 5 µs cached,
< 60 µs same shape.

    python bench/odata_compile.py [--dialect sqlite|postgres] [--repeat N]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fleetyard.odata.compile import compile_read  # noqa: E402
from fleetyard.odata.engine import Engine  # noqa: E402
from fleetyard.odata.parser import parse  # noqa: E402
from fleetyard.odata.permissions import Permissions  # noqa: E402
from fleetyard.odata.resolve import Resolver  # noqa: E402
from fleetyard.sql.render import renderer  # noqa: E402
from tests.odata.model import MODEL  # noqa: E402

# The shapes pinejs-client produces (its §2 table), on the engine's test model.
QUERIES = [
    "/pilot(123)",
    "/pilot(123)?$select=id,name,age",
    "/pilot?$select=id,name",
    "/team('purple')",
    "/identification_method(pilot=123,identification_type='passport')",
    "/pilot(@id)?@id=7",
    "/pilot?$filter=name eq 'foo' and is_experienced eq true",
    "/pilot?$filter=name eq null",
    "/pilot?$filter=age gt 10 and age lt 50",
    "/pilot?$filter=id in (1,2,3)",
    "/pilot?$filter=(name eq 'a') or (name eq 'b')",
    "/pilot?$filter=identification_method/any(im:im/identification_type eq 'passport' and im/identification_number eq 'x')",
    "/pilot?$filter=licence/any(l:l/name eq 'myorg%2Fmyfleet')&$select=id,name,is_senior&$expand=identification_method($select=identification_type,identification_number)&$top=100",
    "/plane?$filter=can_be_flown_by__pilot/any(c:c/pilot/any(p:p/identification_method/any(i:i/identification_type eq 'x')))",
    "/licence?$filter=is_of__pilot/$count eq 0",
    "/licence?$filter=is_of__pilot/$count($filter=is_experienced eq true) gt 5",
    "/pilot?$filter=contains(name,'foo') and startswith(favourite_colour,'b')",
    "/pilot?$filter=hire_date gt datetime'2024-01-02T03:04:05.678Z'&$orderby=hire_date desc&$top=10&$skip=20",
    "/pilot?$expand=licence($select=id,name),can_fly__plane($select=id;$expand=plane($select=name);$orderby=id asc)&$orderby=name asc",
    "/pilot?$select=id&$expand=identification_method/$count($filter=identification_type eq 'passport')",
]


class _NoDatabase:
    def __init__(self, dialect: str):
        self.dialect = dialect


def per_call_us(fn, repeat: int) -> float:
    """Median over 5 rounds of the mean µs per call."""
    rounds = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeat):
            fn()
        rounds.append((time.perf_counter() - start) / repeat * 1e6)
    return statistics.median(rounds)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dialect", default="postgres", choices=("sqlite", "postgres"))
    ap.add_argument("--repeat", type=int, default=200)
    args = ap.parse_args()
    perms = Permissions.all()
    render = renderer(args.dialect)
    engine = Engine(MODEL, _NoDatabase(args.dialect))  # type: ignore[arg-type]

    def uncached(url: str):
        def run():
            req = parse(url)
            plan = Resolver(MODEL, perms, req.binds).resolve(req, "GET")
            render.render(compile_read(plan))
        return run

    print(f"dialect {args.dialect}; µs per call, median of 5 rounds of {args.repeat}")
    print(f"{'uncached':>9} {'cached':>7} {'shape':>7}  query")
    totals = [[], [], []]
    for i, url in enumerate(QUERIES):
        u = per_call_us(uncached(url), args.repeat)
        engine.compile_get(url, perms)
        c = per_call_us(lambda: engine.compile_get(url, perms), args.repeat * 20)
        # Same shape, new literal values: a fresh URL each call defeats the URL cache.
        s = float("nan")
        if _LITERAL.search(url):
            variants = [_LITERAL.sub(lambda m: _vary(m, n), url, count=1) for n in range(args.repeat * 25)]
            it = iter(variants)
            engine.compile_get(next(it), perms)
            s = per_call_us(lambda: engine.compile_get(next(it), perms), args.repeat)
            totals[2].append(s)
        totals[0].append(u)
        totals[1].append(c)
        print(f"{u:9.1f} {c:7.2f} {s:7.1f}  {i + 1:2d} {url[:90]}")
    print(f"{statistics.mean(totals[0]):9.1f} {statistics.mean(totals[1]):7.2f} "
          f"{statistics.mean(totals[2]):7.1f}  mean   (max uncached {max(totals[0]):.1f} µs, "
          f"max cached {max(totals[1]):.2f} µs, max same shape {max(totals[2]):.1f} µs)")


# The literals a "same shape" lookup varies: strings, dates and numbers in filters. Not
# `$top`/`$skip`: they are constants of the compiled SQL (a new page size is a new shape).
_LITERAL = re.compile(r"datetime'[^']*'|(?<![a-z])'[^']*'|(?<=[ (=,])(?<!\$top=)(?<!\$skip=)\d+(?=[ ),&]|$)")


def _vary(m: re.Match, n: int) -> str:
    text = m.group(0)
    if text.startswith("datetime"):
        return f"datetime'2024-01-{1 + n // 1440 % 28:02d}T{n // 60 % 24:02d}:{n % 60:02d}:05.678Z'"
    return f"'v{n}'" if text.startswith("'") else str(1000 + n)


if __name__ == "__main__":
    main()
