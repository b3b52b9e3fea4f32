"""The input space of a MAC unit: what ``verify`` and the testbenches check.

- **Operand pairs.** Every (a, weight-port code) pair when there are at most 2^20 of them (8 x 8
  bits: 65536; an 8-bit ASM weight code: up to 2^19), in order a major. Above, a documented
  sample of 2^20 pairs: every pair of *corner* codes (for each operand the lowest, highest,
  -2..2, and each power of two and its neighbours, negated too when signed; for an encoded
  weight also the code of every corner weight), then uniformly random pairs (numpy seed 0).
- **Lanes.** Lane i gets the same a and the weight codes rotated by i within each a (every lane
  still sees every pair when the space is exhaustive).
- **Accumulator.** The pairs form one stream: ``clear`` on the first vector and then at
  pseudo-random intervals of 1 to 64 vectors, ``valid`` low on about one vector in eight
  (numpy seed 1), followed by a run of the largest products with ``valid`` high and no
  ``clear`` long enough to wrap the accumulator when that takes at most 2^17 vectors (and
  otherwise 64 vectors of them).
"""

from __future__ import annotations

import numpy as np

from ..formats import NumberFormat
from ..unit import EXHAUSTIVE_LIMIT, InputSpace
from .ir import MacUnit

__all__ = ["corners", "input_space", "operand_pairs"]

WRAP_RUN_LIMIT = 1 << 17


def corners(fmt: NumberFormat) -> np.ndarray:
    """Corner codes of a format: ends, -2..2, powers of two and their neighbours (and their
    negatives when signed), ascending.

    >>> corners(NumberFormat(4, True, 1.0)).tolist()
    [-8, -7, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7]
    """
    vals = {fmt.code_min, fmt.code_min + 1, fmt.code_max - 1, fmt.code_max,
            *range(-2, 3)}
    for k in range(fmt.bits + 1):
        for v in ((1 << k) - 1, 1 << k, (1 << k) + 1):
            vals.add(v)
            vals.add(-v)
    return np.array(sorted(v for v in vals if fmt.code_min <= v <= fmt.code_max),
                    dtype=np.int64)


def operand_pairs(unit: MacUnit) -> tuple[np.ndarray, np.ndarray, bool]:
    """(a, weight-port codes, exhaustive): see the module docstring."""
    m = unit.multiplier
    fa, fw = m.a_format, m.weight_format
    na, nw = 1 << fa.bits, 1 << fw.bits
    if na * nw <= EXHAUSTIVE_LIMIT:
        a = np.repeat(np.arange(fa.code_min, fa.code_max + 1, dtype=np.int64), nw)
        w = np.tile(np.arange(fw.code_min, fw.code_max + 1, dtype=np.int64), na)
        return a, w, True
    ca = corners(fa)
    cw = corners(fw)
    if m.encoded:
        cw = np.unique(np.concatenate([cw, m.encode(corners(m.b_format))]))
    a0 = np.repeat(ca, len(cw))
    w0 = np.tile(cw, len(ca))
    rng = np.random.default_rng(0)
    rest = EXHAUSTIVE_LIMIT - len(a0)
    a1 = rng.integers(fa.code_min, fa.code_max + 1, rest, dtype=np.int64)
    w1 = rng.integers(fw.code_min, fw.code_max + 1, rest, dtype=np.int64)
    return np.concatenate([a0, a1]), np.concatenate([w0, w1]), False


def _rotated(a: np.ndarray, w: np.ndarray, lane: int, exhaustive: bool,
             fw: NumberFormat) -> np.ndarray:
    if lane == 0:
        return w
    if exhaustive:  # rotate within each a: lane i pairs a with weight code w + i
        span = 1 << fw.bits
        return (w - fw.code_min + lane) % span + fw.code_min
    return np.roll(w, lane)


def input_space(unit: MacUnit) -> InputSpace:
    m = unit.multiplier
    a, w, exhaustive = operand_pairs(unit)
    lanes = {name: _rotated(a, w, i, exhaustive, m.weight_format)
             for i, name in enumerate(unit.lane_names("b"))}
    what = "every (a, weight code) pair" if exhaustive else \
        "the documented sample of 2^20 operand pairs (corners, then seeded random pairs)"
    if unit.lanes > 1:
        what += f" on each of {unit.lanes} lanes (weights rotated by the lane index)"
    vectors: dict[str, np.ndarray] = {"a": a, **lanes}
    if not unit.accumulate:
        return InputSpace(vectors, exhaustive, what)
    n = len(a)
    rng = np.random.default_rng(1)
    clear = np.zeros(n, dtype=np.int64)
    k = 0
    while k < n:
        clear[k] = 1
        k += int(rng.integers(1, 65))
    valid = (rng.integers(0, 8, n) != 0).astype(np.int64)
    # the largest product magnitude, repeated until the accumulator wraps
    fa, fb = m.a_format, m.b_format
    big = [(x, y) for x in (fa.code_min, fa.code_max) for y in (fb.code_min, fb.code_max)]
    x, y = max(big, key=lambda p: abs(int(m.product(p[0], p[1]))))
    top = abs(int(m.product(x, y))) or 1
    need = (1 << (unit.acc_bits - 1 if m.signed else unit.acc_bits)) // top + 2
    run = need if need <= WRAP_RUN_LIMIT else 64
    code = int(m.encode(np.array([y]))[0])
    vectors = {"a": np.concatenate([a, np.full(run, x, dtype=np.int64)]),
               **{k: np.concatenate([v, np.full(run, code, dtype=np.int64)])
                  for k, v in lanes.items()},
               "clear": np.concatenate([clear, np.zeros(run, dtype=np.int64)]),
               "valid": np.concatenate([valid, np.ones(run, dtype=np.int64)])}
    wraps = "a run that wraps the accumulator" if need <= WRAP_RUN_LIMIT else \
        "64 largest products (wrapping would take more than 2^17)"
    return InputSpace(vectors, exhaustive,
                      f"{what}, as one stream with clear and valid patterns, then {wraps}")
