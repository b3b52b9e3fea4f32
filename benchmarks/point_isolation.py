"""Issue 16: what running each sweep point in a forked, killable child costs.

    python benchmarks/point_isolation.py [--repeats 5]

The same points are run in this process directly (``run_point``, what sweeps did before)
and through ``run_bounded`` (fork, own process group, result through a pipe, the point's time
and memory limits), alternating, several times; medians of each point's wall time, and the
overhead per point. Both paths import the compiler first (a Dask worker keeps it loaded).
Results: benchmarks/results/point_isolation.json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import save  # noqa: E402

POINTS = [("tanh(x)", "table", {}, 6), ("gelu(x)", "uniform", {"entries": 16}, 8),
          ("sigmoid(x)", "grau", {"segments": 4}, 8), ("gelu(x)", "geba", {"entries": 8}, 8)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    from actc.sweep.point import run_bounded, run_point
    from actc.sweep.spec import Point

    points = [Point("activation", e, m, o, bits=b) for e, m, o, b in POINTS]
    run_point(points[0], 0)  # warm: imports, templates
    direct: list[float] = []
    bounded: list[float] = []
    for _ in range(args.repeats):
        for p in points:
            t = time.perf_counter()
            row, _ = run_point(p, 0)
            direct.append(time.perf_counter() - t)
            assert row["status"] == "ok", row
            t = time.perf_counter()
            row, _ = run_bounded(p, 0, timeout_s=600)
            bounded.append(time.perf_counter() - t)
            assert row["status"] == "ok", row
    out = {"points": [f"{e} {m} {o} {b} bits" for e, m, o, b in POINTS],
           "repeats": args.repeats, "direct_median_s": statistics.median(direct),
           "bounded_median_s": statistics.median(bounded),
           "overhead_median_s": statistics.median(b - d for b, d in zip(bounded, direct)),
           "machine": "shared 2-core machine (other jobs running)"}
    print(out)
    save("point_isolation", out)


if __name__ == "__main__":
    main()
