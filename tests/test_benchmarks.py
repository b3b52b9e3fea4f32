"""The speed benchmarks still run against the current code (mac_speed broke silently once
when actc.nn's internals changed under it): each runs once with --smoke, writing nothing, and
prints the same subjects as its committed results, each with a finite ratio. The figures are
not checked here: timing lives in the benchmarks (docs/benchmarks.md), not in tests."""

import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
_ROW = re.compile(r"^\s*(\S.*?)\s+((?:[-+]?\d+\.\d+\s+)+)([-+]?\d+\.\d+|inf|nan)\s*$")


def _rows(text: str) -> list[tuple[str, float]]:
    """(subject, last column) of every table row: a label followed by decimal figures."""
    rows = []
    for line in text.splitlines():
        m = _ROW.match(line)
        if m:
            rows.append((m.group(1), float(m.group(3))))
    return rows


@pytest.mark.parametrize("script", ["mac_speed.py", "adc_speed.py"])
def test_speed_benchmark_runs_and_writes_nothing(script, tmp_path):
    before = {p: p.stat().st_mtime_ns for p in RESULTS.iterdir()}
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), "--smoke"],
                         capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    got = _rows(run.stdout)
    want = _rows((RESULTS / script.replace(".py", ".txt")).read_text())
    assert len(want) >= 10 and [s for s, _ in got] == [s for s, _ in want]
    assert all(math.isfinite(r) and r > 0 for _, r in got), got
    assert {p: p.stat().st_mtime_ns for p in RESULTS.iterdir()} == before
