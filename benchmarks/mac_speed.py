"""Issue 8, benchmark 2: how fast ``actc.nn`` simulates approximate multipliers, bit-exactly.

    python benchmarks/mac_speed.py [--runs 5] [--threads 2]

8-bit signed operands (random codes, seeded), two shapes:

- ``cnn``: the second convolution of the digits CNN (benchmarks/_digits_cnn.py) as a GEMM for a
  batch of 64 images: M = 64 x 64 positions, K = 8 x 3 x 3, N = 16;
- ``gemm``: 512 x 512 x 512.

Per multiplier, GMAC/s (M K N / time, median of ``--runs``) of ``ApproxGemm.matmul`` (the
engine the layers call: factorised for exact, truncated and ASM, the table method for the
others), against the exact float32 matmul on the same shape (``torch.matmul``) and the naive
numpy gather-and-sum (``T[A[:, :, None], B[None]].sum(1)``, in row chunks). ``MRENoise`` at
5 %. Every approximate result is checked equal to the naive one before timing. Targets: the
table method >= 10x the naive gather and within 20x of float32; the factorised ones and
``MRENoise`` within 3x and 2.5x of float32.

Results: benchmarks/results/mac_speed.json and .txt. Times are wall clock on this machine (2
cores, ``--threads`` torch threads; shared with other jobs when they run: the load average is
recorded).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import RESULTS, median_time, save  # noqa: E402

from actc.mac.api import make_multiplier  # noqa: E402
from actc.nn import MRENoise  # noqa: E402
from actc.nn.gemm import ApproxGemm  # noqa: E402

SHAPES = {"cnn": (64 * 64, 8 * 9, 16), "gemm": (512, 512, 512)}
MULTIPLIERS = ("exact", "truncated:6", "asm:1,3", "drum:4", "mitchell", "mbm")


def naive(table: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """sum_k T[a[m, k], b[k, n]] by numpy fancy indexing, a chunk of rows at a time."""
    out = np.empty((a.shape[0], b.shape[1]), dtype=np.int64)
    rows = max(1, (1 << 24) // (a.shape[1] * b.shape[1]))
    for s in range(0, a.shape[0], rows):
        out[s:s + rows] = table[a[s:s + rows, :, None], b[None, :, :]].sum(axis=1)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    results: dict = {"threads": args.threads, "runs": args.runs,
                     "load_average": os.getloadavg(), "shapes": {}}
    lines = [f"GMAC/s, 8-bit signed operands, median of {args.runs} runs, {args.threads} "
             "torch threads (ratios: time / float32 matmul time)", ""]
    for shape, (M, K, N) in SHAPES.items():
        macs = M * K * N
        a_np = rng.integers(-128, 128, (M, K))
        b_np = rng.integers(-128, 128, (K, N))
        a, b = torch.from_numpy(a_np), torch.from_numpy(b_np)
        af, bf = a.float(), b.float()
        t_float, _ = median_time(lambda af=af, bf=bf: torch.matmul(af, bf), runs=args.runs)
        rows = {"float32 matmul": {"s": t_float, "method": "torch.matmul"}}
        for spec in MULTIPLIERS:
            m = make_multiplier(spec, bits=8, signed=True)
            g = ApproxGemm(m)
            table = m.table()
            ref = naive(table, a_np + 128, b_np + 128)
            got = g.matmul(a, b)
            if not np.array_equal(got.numpy().astype(np.int64), ref):
                raise AssertionError(f"{spec}: ApproxGemm differs from the naive gather")
            t, _ = median_time(lambda g=g, a=a, b=b: g.matmul(a, b), runs=args.runs)
            rows[spec] = {"s": t, "method": g.method}
            if spec == "mitchell":  # the naive gather: one representative table
                t_naive, _ = median_time(lambda t=table, x=a_np, y=b_np: naive(t, x + 128, y + 128),
                                         runs=max(1, min(args.runs, 3)), warmup=0)
                rows["naive numpy gather (mitchell)"] = {"s": t_naive, "method": "numpy"}
        noise = MRENoise(0.05)
        torch.manual_seed(0)
        t, _ = median_time(lambda n=noise, a=a, b=b: n.matmul(a, b), runs=args.runs)
        rows["MRENoise 5 %"] = {"s": t, "method": "noise"}
        for r in rows.values():
            r["gmacs"] = macs / r["s"] / 1e9
            r["vs_float32"] = r["s"] / t_float
        t_naive = rows["naive numpy gather (mitchell)"]["s"]
        for r in rows.values():
            r["speedup_vs_naive"] = t_naive / r["s"]
        results["shapes"][shape] = {"M": M, "K": K, "N": N, "rows": rows}
        lines.append(f"{shape}: M={M} K={K} N={N}")
        lines.append(f"  {'':<32}{'method':>12}{'GMAC/s':>10}{'x float32':>11}{'vs naive':>10}")
        for name, r in rows.items():
            lines.append(f"  {name:<32}{r['method']:>12}{r['gmacs']:>10.3f}"
                         f"{r['vs_float32']:>11.2f}{r['speedup_vs_naive']:>10.1f}")
        lines.append("")
    results["load_average_after"] = os.getloadavg()
    lines.append(f"load average before/after: {results['load_average'][0]:.2f} / "
                 f"{results['load_average_after'][0]:.2f}")
    text = "\n".join(lines)
    print(text)
    save("mac_speed", results)
    (RESULTS / "mac_speed.txt").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
