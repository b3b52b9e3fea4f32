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

__all__ = ["COLUMNS", "TIMING_COLUMNS", "run_bounded", "run_point"]

# The result table's columns, in order (``options`` holds the method options as JSON text).
# Error figures by kind: activations max_lsb .. mean_abs (output LSBs, real units);
# multipliers the EvoApproxLib metrics (mre_percent .. ep_percent); column back ends the
# model's error against the exact dot products (rms_rel = rms error / std of the exact
# values, sqnr_db = -20 log10 rms_rel). ``error`` is the kind's headline figure (max_lsb,
# mre_percent, rms_rel): the one Pareto plots and picks use.
COLUMNS = ("key", "index", "kind", "group", "expression", "method", "options", "in_format",
           "out_format", "status", "error_message", "error", "max_lsb", "mean_lsb", "max_abs",
           "mean_abs", "mre_percent", "mae_percent", "wce_percent", "ep_percent", "rms_rel",
           "sqnr_db", "memory_bits", "luts", "ffs", "carry", "depth", "network_accuracy",
           "network_float_accuracy", "name")
# Wall-clock seconds of each point's phases: in its row (and results.jsonl, the resume log)
# and in timing.csv, never in the results table, which is identical run to run.
TIMING_COLUMNS = ("fit_s", "cost_s", "network_s")
ERROR = {"activation": "max_lsb", "mac": "mre_percent", "adc": "rms_rel"}
ERROR_LABEL = {"activation": "max error (output LSB)", "mac": "mean relative error (%)",
               "adc": "rms error / std of the exact dot product"}


def _name(point: Point) -> str:
    return f"p{point.key}"


def _row(point: Point, index: int) -> dict[str, Any]:
    """A row of the results table with the point's identity filled in."""
    import json

    row: dict[str, Any] = {c: None for c in COLUMNS + TIMING_COLUMNS}
    row.update(key=point.key, index=index, kind=point.kind, group=point.group,
               expression=point.expression, method=point.method,
               options=json.dumps(point.options, sort_keys=True), name=_name(point))
    return row


def run_point(point: Point, index: int) -> tuple[dict, dict[str, str]]:
    """(row, files): the row of the results table and the design's files. A point that
    fails returns a row with ``status`` "failed" and the message; it never raises."""
    row = _row(point, index)
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


def run_bounded(point: Point, index: int, timeout_s: float,
                ram_gb: float | None = None) -> tuple[dict, dict[str, str]]:
    """``run_point`` in a child process, stopped after ``timeout_s`` seconds.

    A Dask task cannot be stopped once it runs (cancelling a future only forgets it), so
    the task forks: the child runs the point in its own process group, under the memory
    budget (RLIMIT_AS: the address space in use plus ``ram_gb``), and sends its result back
    through a pipe; the task waits at most ``timeout_s`` and then kills the group (the
    point and any tool it started). The child also dies with the worker (PDEATHSIG). A
    point stopped, killed or out of memory is returned as a failed row with the reason."""
    import os
    import pickle
    import select
    import signal

    _warm()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 1
        try:
            os.close(read)
            os.setpgid(0, 0)
            _die_with_parent()
            if ram_gb:
                from ..limits import limit_address_space

                limit_address_space(ram_gb)
            data = pickle.dumps(run_point(point, index))
            with os.fdopen(write, "wb") as fh:
                fh.write(data)
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    try:
        os.setpgid(pid, pid)  # also here: the group exists before anything could kill it
    except OSError:
        pass
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout_s
    timed_out = False
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([read], [], [], left)[0]:
                timed_out = True
                break
            chunk = os.read(read, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read)
        if timed_out:
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
        _, status = os.waitpid(pid, 0)
    row = _row(point, index)
    if timed_out:
        row.update(status="failed", error_message=f"stopped after {timeout_s:g} s, the "
                   "point's time limit ([sweep] timeout_s)")
        return row, {}
    if status != 0 or not chunks:
        why = (f"killed by signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
               else f"exit {os.WEXITSTATUS(status)}")
        row.update(status="failed", error_message=f"the point's process died ({why}); out of "
                   "memory is the usual cause (--max-ram-gb)")
        return row, {}
    result: tuple[dict, dict[str, str]] = pickle.loads(b"".join(chunks))
    return result


def _warm() -> None:
    """Import the compiler in the worker once, so each forked point starts with it loaded
    (copy on write) instead of importing it again."""
    import actc.api  # noqa: F401
    import actc.targets  # noqa: F401


def _die_with_parent() -> None:
    """Linux: SIGKILL this process when its parent (the Dask worker) dies."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _run(point: Point, row: dict) -> dict[str, str]:
    t0 = time.perf_counter()
    r = _COMPILE[point.kind](point, row)
    row["fit_s"] = time.perf_counter() - t0
    row["error"] = row[ERROR[point.kind]]
    row["memory_bits"] = r.design.memory_bits
    files = dict(r.files)
    if "cost" in point.evaluations:
        t0 = time.perf_counter()
        files = _cost(r, point, row)
        row["cost_s"] = time.perf_counter() - t0
    if "network" in point.evaluations:
        from . import digits

        t0 = time.perf_counter()
        accuracy = {"activation": lambda: digits.design_accuracy(
                        r.design, point.expression, seeds=point.network_seeds),
                    "mac": lambda: digits.multiplier_accuracy(
                        r.design.multiplier, seeds=point.network_seeds),
                    "adc": lambda: digits.crossbar_accuracy(
                        r.design, seeds=point.network_seeds)}[point.kind]
        acc, ref = accuracy()
        row.update(network_accuracy=acc, network_float_accuracy=ref,
                   network_s=time.perf_counter() - t0)
    return files


def _activation(point: Point, row: dict) -> Any:
    import actc

    r = actc.compile(point.expression, method=point.method, in_format=point.in_format,
                     out_format=point.out_format, bits=point.bits, domain=point.domain,
                     name=_name(point), target="all", **point.options)
    e = r.error
    row.update(in_format=r.design.in_format.text, out_format=r.design.out_format.text,
               max_lsb=e["max_lsb"], mean_lsb=e["mean_lsb"], max_abs=e["max_abs"],
               mean_abs=e["mean_abs"])
    return r


def _mac(point: Point, row: dict) -> Any:
    from ..mac.api import compile as compile_mac

    o = point.options
    r = compile_mac(point.expression, bits=point.bits, signed=o["signed"], lanes=o["lanes"],
                    target="all", name=_name(point))
    m, e = r.design.multiplier, r.error
    row.update(in_format=m.a_format.text, out_format=m.out_format.text,
               **{k: e[k] for k in ("mre_percent", "mae_percent", "wce_percent",
                                    "ep_percent")})
    return r


def _adc(point: Point, row: dict) -> Any:
    import numpy as np

    from ..adc.backend import compile_column
    from ..adc.report import plot_data

    o = dict(point.options)
    r = compile_column(point.expression, name=_name(point), target="all", **o)
    m = plot_data(r.manifest, r.design).metrics
    rel = m["rms_error"] / m["exact_std"] if m["exact_std"] > 0 else 0.0
    row.update(in_format=r.design.port_format.text, out_format=r.design.out_format.text,
               rms_rel=rel, sqnr_db=float(-20 * np.log10(rel)) if rel > 0 else None)
    return r


_COMPILE = {"activation": _activation, "mac": _mac, "adc": _adc}


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
