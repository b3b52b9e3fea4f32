"""Converter statistics: for mtj:T (T = 1..64) the mean and variance of the converted value
(the sample mean of the T switching events) over 10^5 draws at several partial sums,
against the analytic p(x) and p(1-p)/T; and the signal-to-quantisation-noise ratio of a
column output (rows 64, 2 sub-arrays, 4-bit inputs and weights, seeded random layers with
half the inputs zero) for mtj:T against adc:N (N = 1..8), full range and calibrated clip.

    python benchmarks/adc_stats.py      -> benchmarks/results/adc_stats.json, .txt
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from actc.adc import Crossbar, converter

OUT = Path(__file__).resolve().parent / "results"
DRAWS = 100_000


def mtj_statistics() -> list[dict]:
    rows = []
    ps = np.array([-64, -32, -8, 0, 8, 32, 64])
    for t in (1, 2, 4, 8, 16, 32, 64):
        c = converter(f"mtj:{t}", lo=-64, hi=64)
        codes = c.convert(np.repeat(ps[None, :], DRAWS, axis=0), np.random.default_rng(t))
        v = codes / t
        p = c.probability(ps)
        mean_z = (v.mean(axis=0) - p) / np.sqrt(p * (1 - p) / t / DRAWS)
        rows.append({"T": t, "x": (ps / 64).tolist(), "p": p.tolist(),
                     "mean": v.mean(axis=0).tolist(), "var": v.var(axis=0, ddof=1).tolist(),
                     "var_analytic": (p * (1 - p) / t).tolist(),
                     "max_abs_mean_z": float(np.abs(mean_z).max()),
                     "max_rel_var_error": float(np.abs(v.var(axis=0, ddof=1) /
                                                       (p * (1 - p) / t) - 1).max())})
    return rows


def sqnr() -> list[dict]:
    xb = Crossbar(rows=64, weight_bits=4, input_bits=4)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 16, (2000, 128))
    x[rng.random(x.shape) < 0.5] = 0
    w = rng.integers(-7, 8, (128, 8))
    exact = (x @ w).astype(float)
    ps, _ = xb.partial_sums(x, w)
    rms = float(np.sqrt(np.mean(ps.astype(float) ** 2)))
    out = []
    specs = [f"adc:{n}" for n in range(1, 9)] + [f"mtj:{t}" for t in (1, 2, 4, 8, 16, 32, 64)]
    for spec in specs:
        for clip in ("full", 3.0, 1.0):
            if spec.startswith("adc") and clip == 1.0:
                continue
            conv = converter(spec) if clip == "full" else converter(spec, clip=clip * rms)
            y = xb.matmul(x, w, conv, np.random.default_rng(1)) * xb.output_lsb(conv)
            # the best linear gain (the MTJ curve is not unit-slope): SQNR of the fitted output
            gain = float((y * exact).sum() / (y * y).sum()) if np.any(y) else 0.0
            noise = exact - gain * y
            val = 10 * np.log10((exact**2).mean() / max((noise**2).mean(), 1e-30))
            out.append({"converter": spec, "clip": clip if clip == "full" else
                        f"{clip} x rms ({clip * rms:.2f})", "sqnr_db": float(val),
                        "raw_sqnr_db": float(10 * np.log10((exact**2).mean() /
                                                           max(((exact - y)**2).mean(),
                                                               1e-30)))})
    return out


def main() -> None:
    stats = mtj_statistics()
    s = sqnr()
    OUT.mkdir(exist_ok=True)
    (OUT / "adc_stats.json").write_text(json.dumps({"draws": DRAWS, "mtj": stats, "sqnr": s},
                                                   indent=1) + "\n")
    lines = [f"mtj:T converted value (mean of T samples) over {DRAWS} draws at x = ps/64 in "
             "{-1, -0.5, -0.125, 0, 0.125, 0.5, 1}",
             f"{'T':>3} {'max |z| of mean':>16} {'max rel. var error':>19}"]
    for r in stats:
        lines.append(f"{r['T']:>3} {r['max_abs_mean_z']:>16.2f} {r['max_rel_var_error']:>19.4f}")
    lines += ["", "column output SQNR (dB) against the exact dot product; 'fit' after the best "
              "linear gain", f"{'converter':<9} {'clip':<22} {'raw':>7} {'fit':>7}"]
    for r in s:
        lines.append(f"{r['converter']:<9} {r['clip']:<22} {r['raw_sqnr_db']:>7.2f} "
                     f"{r['sqnr_db']:>7.2f}")
    (OUT / "adc_stats.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
