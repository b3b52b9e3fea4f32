"""``actc compile EXPR --max-error-lsb E [--minimize luts|memory|depth] [--budget-s S]``: the
cheapest design that meets an error bound, found by a small sweep across the methods.

Two rounds on the same Dask cluster: every candidate is fitted and its error measured; those
within E are then synthesised with Yosys (for ``luts`` and ``depth``; ``memory`` needs no
synthesis). The cheapest wins (ties: the smaller error, then the simpler candidate, in the
order below), and is compiled for the requested targets under the requested name; its
manifest's ``selection`` lists every candidate considered. ``--method auto`` (the best table
structure for a memory budget) is the other automatic choice: it fixes the memory and
minimises the error, this fixes the error and minimises the cost.

Candidates (those a method refuses for the formats are recorded as failed):
``table``; ``threshold``; ``uniform`` with 4 to 128 entries, constant and interpolated;
``geba`` with 4 to 32 segments; ``grau`` with 3 to 12 segments, pot and apot2 slopes; and
``auto`` (the most accurate table structure within a memory budget) at 256 to 4096 bits,
doubling: the memory-aware search is this search's table candidate at each budget.
"""

from __future__ import annotations

import time
from typing import Any

from ..errors import ActcError
from .spec import Point

__all__ = ["CANDIDATES", "compile_best"]

CANDIDATES: list[tuple[str, dict]] = (
    [("table", {}), ("threshold", {})]
    + [("uniform", {"entries": e, "interpolate": i}) for i in (False, True)
       for e in (4, 8, 16, 32, 64, 128)]
    + [("geba", {"entries": e}) for e in (4, 8, 16, 32)]
    + [("grau", {"segments": s, "slopes": k}) for k in ("pot", "apot2") for s in (3, 4, 6, 8, 12)]
    + [("auto", {"memory_bits": b}) for b in (256, 512, 1024, 2048, 4096)]
)


def compile_best(expression: str, *, max_error_lsb: float, minimize: str = "luts",
                 budget_s: float | None = None, scheduler: str | None = None,
                 workers: int | None = None, target: str | list[str] = "all",
                 name: str | None = None, family: str = "xilinx", **formats: Any) -> Any:
    """The chosen design as an ``actc.compile`` Result whose manifest records the search
    (``selection``). ``formats``: in_format, out_format, bits, in_bits, out_bits, domain."""
    import actc

    from ..limits import ram_budget_gb
    from . import MINIMIZE
    from .engine import client, run_points

    if minimize not in MINIMIZE:
        raise ActcError(f"--minimize {minimize!r}: choose {', '.join(MINIMIZE)}")
    if not max_error_lsb > 0:
        raise ActcError(f"--max-error-lsb {max_error_lsb:g} must be positive")
    start = time.perf_counter()
    from ..api import _prepare

    # the formats the user asked for, resolved once (no fit) so every candidate shares them
    spec = _prepare(expression, None, dict(formats))[0]
    fi, fo = spec.in_format.text, spec.out_format.text
    base = [Point("activation", expression, m, o, in_format=fi, out_format=fo)
            for m, o in CANDIDATES]
    rows: dict[int, dict] = {}

    def remaining() -> float | None:
        return None if budget_s is None else max(0.0, budget_s - (time.perf_counter() - start))

    ram_gb = ram_budget_gb()
    with client(scheduler, workers) as dask:
        run_points(base, list(range(len(base))), dask,
                   lambda row, files: rows.__setitem__(row["index"], row), "",
                   timeout=remaining(), ram_gb=ram_gb)
        col = MINIMIZE[minimize]
        if col != "memory_bits":
            within = [i for i, r in sorted(rows.items())
                      if r["status"] == "ok" and r["max_lsb"] <= max_error_lsb]
            costed = [Point("activation", expression, base[i].method, base[i].options,
                            in_format=fi, out_format=fo, evaluations=("metrics", "cost"),
                            families=(family,)) for i in within]
            run_points(costed, within, dask,
                       lambda row, files: rows.__setitem__(row["index"], row), "",
                       timeout=remaining(), ram_gb=ram_gb)
    ok = [r for r in rows.values() if r["status"] == "ok"]
    fit = [r for r in ok if r["max_lsb"] <= max_error_lsb and r.get(col) is not None]
    if not fit:
        if not ok:
            raise ActcError(f"no candidate could be built for {expression} ({fi} -> {fo})")
        best = min(ok, key=lambda r: r["max_lsb"])
        raise ActcError(f"no design meets --max-error-lsb {max_error_lsb:g} for {expression} "
                        f"({fi} -> {fo}): the best reached {best['max_lsb']:.4g} LSB "
                        f"({best['method']} {best['options']})")
    chosen = min(fit, key=lambda r: (r[col], r["max_lsb"], r["index"]))
    method, options = base[chosen["index"]].method, base[chosen["index"]].options
    result = actc.compile(expression, target=target, method=method, in_format=fi,
                          out_format=fo, name=name, **options)
    result.manifest["selection"] = {  # no wall-clock figures: the manifest is reproducible
        "max_error_lsb": max_error_lsb, "minimize": minimize, "family": family,
        "chosen": chosen["index"],
        "candidates": [_candidate(base[i], rows.get(i)) for i in range(len(base))],
    }
    from ..manifest import dumps

    result.files[f"{result.design.name}.json"] = dumps(result.manifest)
    return result


def _candidate(point: Point, row: dict | None) -> dict:
    out: dict[str, Any] = {"method": point.method, "options": point.options}
    if row is None:
        out["status"] = "not run (budget)"
        return out
    out["status"] = row["status"]
    if row["status"] == "ok":
        out.update({k: row[k] for k in ("max_lsb", "mean_lsb", "memory_bits", "luts", "depth")})
    else:
        out["error"] = row["error_message"]
    return out
