"""One point of a sweep, as a worker runs it: compile the design for every target, measure it,
and (as the point asks) synthesise it with Yosys and run it in the digits network. Runs in a
Dask worker, so it takes and returns plain data: the result row, and the files (text) for the
client to write; a worker needs no shared file system."""

from __future__ import annotations

import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from .spec import Point

__all__ = ["COLUMNS", "run_point"]

# The result table's columns, in order (``options`` holds the method options as JSON text).
COLUMNS = ("key", "index", "kind", "expression", "method", "options", "in_format",
           "out_format", "status", "error_message", "max_lsb", "mean_lsb", "max_abs",
           "mean_abs", "memory_bits", "luts", "ffs", "carry", "depth", "network_accuracy",
           "network_float_accuracy", "name", "fit_s", "cost_s", "network_s")


def _name(point: Point) -> str:
    return f"p{point.key}"


def run_point(point: Point, index: int) -> tuple[dict, dict[str, str]]:
    """(row, files): the row of the results table and the design's files. A point that
    fails returns a row with ``status`` "failed" and the message; it never raises."""
    import json

    row: dict[str, Any] = {c: None for c in COLUMNS}
    row.update(key=point.key, index=index, kind=point.kind, expression=point.expression,
               method=point.method, options=json.dumps(point.options, sort_keys=True),
               name=_name(point))
    files: dict[str, str] = {}
    try:
        files = _run(point, row)
        row["status"] = "ok"
    except Exception as exc:  # noqa: BLE001 - a failed point is recorded, the sweep goes on
        from ..errors import ActcError

        row["status"] = "failed"
        row["error_message"] = (str(exc).splitlines()[0] if isinstance(exc, ActcError)
                                else "".join(traceback.format_exception_only(exc)).strip())
    return row, files


def _run(point: Point, row: dict) -> dict[str, str]:
    import actc

    t0 = time.perf_counter()
    r = actc.compile(point.expression, method=point.method, in_format=point.in_format,
                     out_format=point.out_format, bits=point.bits, domain=point.domain,
                     name=_name(point), target="all", **point.options)
    row["fit_s"] = time.perf_counter() - t0
    e = r.error
    row.update(in_format=r.design.in_format.text, out_format=r.design.out_format.text,
               max_lsb=e["max_lsb"], mean_lsb=e["mean_lsb"], max_abs=e["max_abs"],
               mean_abs=e["mean_abs"], memory_bits=r.design.memory_bits)
    files = dict(r.files)
    if "cost" in point.evaluations:
        t0 = time.perf_counter()
        files = _cost(r, point, row)
        row["cost_s"] = time.perf_counter() - t0
    if "network" in point.evaluations:
        from .digits import design_accuracy

        t0 = time.perf_counter()
        acc, ref = design_accuracy(r.design, point.expression, seeds=point.network_seeds)
        row.update(network_accuracy=acc, network_float_accuracy=ref,
                   network_s=time.perf_counter() - t0)
    return files


def _cost(r: Any, point: Point, row: dict) -> dict[str, str]:
    """Synthesise the design's Verilog (the manifest gains ``cost``); the first family's
    figures go into the row."""
    from ..cost import cost

    with tempfile.TemporaryDirectory(prefix="actc-sweep-") as tmp:
        paths = r.write(tmp)
        manifest = Path(tmp) / f"{r.design.name}.json"
        figures = cost(manifest, list(point.families))
        first = figures[point.families[0]]
        row.update(luts=first["luts"], ffs=first["ffs"], carry=first["carry"],
                   depth=first["depth"])
        return {p.name: p.read_text() for p in paths}
