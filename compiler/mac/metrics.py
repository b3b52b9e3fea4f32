"""Error metrics of a multiplier against the exact product, in EvoApproxLib's conventions.

With e = approximate - exact over operand pairs (a, b) (b the weight itself, not its code),
and n = a_bits + b_bits:

- ``ep_percent``: error probability, the share of pairs with e != 0, in %;
- ``mae``: mean |e|; ``mae_percent`` = mae / 2^n x 100;
- ``wce``: worst-case |e|; ``wce_percent`` = wce / 2^n x 100;
- ``mre_percent``: mean of |e| / |exact| over the pairs with exact != 0, in %;
- ``wcre_percent``: the largest |e| / |exact| over those pairs, in %;
- ``mse``: mean e^2; ``bias``: mean e; ``std``: the standard deviation of e;
- ``pairs``: how many pairs were measured; ``exhaustive``: whether that is all of them.

Every pair when there are at most 2^24 (12 x 12 bits); above, 2^22 uniformly random pairs
(numpy seed 2) and ``ci95``: the half-width of a 95 % normal confidence interval for each
mean (the worst cases of a sample are lower bounds).

>>> from actc.mac.families import parse_multiplier
>>> from actc.mac.ir import Multiplier
>>> m = measure(Multiplier(parse_multiplier("drum:4"), 8, 8, False))
>>> round(m["mre_percent"], 3), m["exhaustive"]
(5.887, True)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .ir import Multiplier

__all__ = ["EXHAUSTIVE_PAIRS", "SAMPLE_PAIRS", "measure", "measure_pairs"]

EXHAUSTIVE_PAIRS = 1 << 24
SAMPLE_PAIRS = 1 << 22
_CHUNK = 1 << 20


class _Sums:
    """Running sums over chunks of pairs (exact integer sums where they matter)."""

    def __init__(self) -> None:
        self.n = self.n_nz = self.errors = 0
        self.sum_e = 0
        self.sum_abs = 0
        self.sum_sq = 0.0
        self.wce = 0
        self.sum_rel = self.sum_rel_sq = self.sum_abs_sq = self.sum_ep_sq = 0.0
        self.wcre = 0.0

    def add(self, approx: np.ndarray, exact: np.ndarray) -> None:
        e = approx - exact
        ae = np.abs(e)
        nz = exact != 0
        rel = ae[nz] / np.abs(exact[nz])
        self.n += e.size
        self.n_nz += int(nz.sum())
        self.errors += int((e != 0).sum())
        self.sum_e += int(e.sum())
        self.sum_abs += int(ae.sum())
        ef = e.astype(np.float64)
        self.sum_sq += float((ef * ef).sum())
        self.wce = max(self.wce, int(ae.max(initial=0)))
        self.sum_rel += float(rel.sum())
        self.sum_rel_sq += float((rel * rel).sum())
        self.wcre = max(self.wcre, float(rel.max(initial=0.0)))


def measure_pairs(m: Multiplier, a: np.ndarray, b: np.ndarray, sums: _Sums | None = None) -> _Sums:
    s = sums or _Sums()
    for k in range(0, len(a), _CHUNK):
        x, y = a[k:k + _CHUNK], b[k:k + _CHUNK]
        s.add(m.product(x, y), m.exact(x, y))
    return s


def measure(m: Multiplier) -> dict[str, Any]:
    """The metrics of a multiplier (see the module docstring)."""
    exhaustive = m.pairs <= EXHAUSTIVE_PAIRS
    sums = _Sums()
    if exhaustive:
        a_all, b_all = m.operands("a"), m.operands("b")
        rows = max(1, _CHUNK // len(b_all))
        for k in range(0, len(a_all), rows):
            a = np.repeat(a_all[k:k + rows], len(b_all))
            b = np.tile(b_all, len(a_all[k:k + rows]))
            measure_pairs(m, a, b, sums)
    else:
        rng = np.random.default_rng(2)
        fa, fb = m.a_format, m.b_format
        a = rng.integers(fa.code_min, fa.code_max + 1, SAMPLE_PAIRS, dtype=np.int64)
        b = rng.integers(fb.code_min, fb.code_max + 1, SAMPLE_PAIRS, dtype=np.int64)
        measure_pairs(m, a, b, sums)
    return _figures(m, sums, exhaustive)


def _figures(m: Multiplier, s: _Sums, exhaustive: bool) -> dict[str, Any]:
    n = s.n
    full = float(1 << m.out_bits)
    mae = s.sum_abs / n
    bias = s.sum_e / n
    mse = s.sum_sq / n
    var = max(mse - bias * bias, 0.0)
    mre = s.sum_rel / s.n_nz if s.n_nz else 0.0
    ep = s.errors / n
    out: dict[str, Any] = {
        "ep_percent": 100.0 * ep,
        "mae": mae,
        "mae_percent": 100.0 * mae / full,
        "wce": s.wce,
        "wce_percent": 100.0 * s.wce / full,
        "mre_percent": 100.0 * mre,
        "wcre_percent": 100.0 * s.wcre,
        "mse": mse,
        "bias": bias,
        "std": math.sqrt(var),
        "pairs": n,
        "exhaustive": exhaustive,
    }
    if not exhaustive:
        z = 1.959964
        var_abs = max(mse - mae * mae, 0.0)
        var_rel = max(s.sum_rel_sq / max(s.n_nz, 1) - mre * mre, 0.0)
        out["ci95"] = {
            "ep_percent": 100.0 * z * math.sqrt(ep * (1 - ep) / n),
            "mae": z * math.sqrt(var_abs / n),
            "mre_percent": 100.0 * z * math.sqrt(var_rel / max(s.n_nz, 1)),
            "bias": z * math.sqrt(var / n),
        }
    return out
