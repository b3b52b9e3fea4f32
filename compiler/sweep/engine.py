"""Running points on Dask distributed: an embedded ``LocalCluster`` by default (nothing to
start), or any running cluster by address (``--scheduler tcp://HOST:PORT``, or the
``DASK_SCHEDULER_ADDRESS`` environment variable). Workers only compute: each returns its
result row and the design's files, and this process writes them, so workers need no shared
file system, only actc installed.

A sweep directory holds ``results.jsonl``, one finished point a line, appended (and flushed)
as each point completes: a sweep interrupted and started again with the same directory skips
every point whose key is already there.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import ToolError
from ..limits import DEFAULT_POINT_TIMEOUT_S
from .point import COLUMNS, run_bounded
from .spec import Point

__all__ = ["SCHEDULER_TIMEOUT_S", "client", "finished_rows", "run_points"]

SCHEDULER_TIMEOUT_S = 10


def _require() -> None:
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise ToolError("actc sweep needs Dask distributed: pip install 'actc[sweep]'") from None


@contextmanager
def client(scheduler: str | None = None, workers: int | None = None) -> Iterator[Any]:
    """A Dask client: to ``scheduler`` (or $DASK_SCHEDULER_ADDRESS) when given, else to an
    embedded LocalCluster of ``workers`` single-threaded processes (default: one a core)."""
    _require()
    import logging

    from distributed import Client, LocalCluster

    address = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS")
    if address:
        try:
            c = Client(address, timeout=f"{SCHEDULER_TIMEOUT_S}s")
        except (OSError, TimeoutError) as exc:
            raise ToolError(f"cannot reach the Dask scheduler at {address} (waited "
                            f"{SCHEDULER_TIMEOUT_S} s): {str(exc).splitlines()[0]}") from None
        try:
            yield c
        finally:
            c.close()
        return
    n = workers or os.cpu_count() or 1
    for name in ("distributed", "distributed.worker", "distributed.nanny"):
        logging.getLogger(name).setLevel(logging.ERROR)
    # Ports chosen by the OS (":0"), never a fixed one: distributed 2026.8 starts its HTTP
    # server on 8787 even with dashboard_address=None, and a second cluster started while the
    # port is held warns (an error under the test suite's filterwarnings).
    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                           scheduler_port=0, dashboard_address=":0",
                           silence_logs=logging.ERROR)
    c = Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


def finished_rows(directory: Path) -> dict[str, dict]:
    """The rows already in ``results.jsonl``, by point key. A line that is not a complete
    row (a torn last line from an interrupted write, or anything else) is ignored: its point
    runs again."""
    path = directory / "results.jsonl"
    out: dict[str, dict] = {}
    if not path.is_file():
        return out
    with path.open("rb") as fh:
        for raw in fh:
            try:
                row = json.loads(raw)
            except (ValueError, RecursionError):
                continue
            if isinstance(row, dict) and isinstance(row.get("key"), str) and all(
                    c in row for c in COLUMNS):
                out[row["key"]] = row
    return out


def run_points(points: list[Point], indices: list[int], dask: Any,
               on_result: Callable[[dict, dict[str, str]], None], progress: str = "",
               timeout: float | None = None, point_timeout_s: float = DEFAULT_POINT_TIMEOUT_S,
               ram_gb: float | None = None) -> None:
    """Run every point on the cluster; call ``on_result(row, files)`` here as each one
    finishes (in completion order), with a progress bar on a terminal. Each point runs in a
    process of its own, stopped after ``point_timeout_s`` seconds (a failed row) and given
    at most ``ram_gb`` GB (``point.run_bounded``). After ``timeout`` seconds the points still
    running are cancelled."""
    from distributed import as_completed

    if not points:
        return
    futures = dask.map(run_bounded, points, indices, timeout_s=point_timeout_s, ram_gb=ram_gb,
                       pure=False)
    bar = _bar(len(points), progress)
    try:
        for fut in as_completed(futures, timeout=timeout):
            row, files = fut.result()
            on_result(row, files)
            if bar is not None:
                bar.update(1)
    except TimeoutError:
        pass  # the budget is spent: what finished is what there is
    finally:
        if bar is not None:
            bar.close()
        for fut in futures:
            fut.cancel()


def _bar(total: int, label: str) -> Any:
    """A tqdm bar on stderr when it is a terminal (quiet otherwise)."""
    if not label or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=label, unit="point", file=sys.stderr)
