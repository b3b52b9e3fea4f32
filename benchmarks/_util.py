"""Shared helpers for benchmark scripts: timing with medians, result files."""

from __future__ import annotations

import json
import statistics
import subprocess
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def median_time(fn, runs: int = 7, warmup: int = 1) -> tuple[float, list[float]]:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), times


def process_time(cmd: list[str], runs: int = 7) -> tuple[float, list[float]]:
    def once():
        subprocess.run(cmd, check=True, capture_output=True)

    return median_time(once, runs=runs, warmup=1)


def save(name: str, data: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=1) + "\n")
    return path
