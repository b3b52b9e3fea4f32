"""The meaning of a MAC unit: every target must match ``evaluate`` on every vector of the
unit's input space.

Each lane's output is the multiplier's product of ``a`` and its weight-port code
(``Multiplier.port_product``, the family's evaluator). With an accumulator the input arrays
are one stream, one element per clock edge, and each lane's output after edge k is::

    acc[k] = (clear[k] ? 0 : acc[k-1]) + (valid[k] ? p[k] : 0)    modulo 2^acc_bits

(two's complement when signed). The first element must have ``clear`` set: before it the
accumulator holds no value.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .ir import MacUnit, wrap

__all__ = ["accumulate", "evaluate"]


def accumulate(products: np.ndarray, clear: np.ndarray, valid: np.ndarray, bits: int,
               signed: bool) -> np.ndarray:
    """The accumulator after each edge of a stream (see the module docstring).

    >>> accumulate(np.array([5, 7, 9, 2]), np.array([1, 0, 1, 0]), np.array([1, 1, 0, 1]),
    ...            8, True).tolist()
    [5, 12, 0, 2]
    """
    clear = np.asarray(clear, dtype=np.int64)
    if clear.size and clear[0] != 1:
        raise ValueError("an accumulator stream starts with clear = 1 (before it the "
                         "accumulator holds no value)")
    contrib = np.where(np.asarray(valid, dtype=np.int64) != 0, products, 0)
    total = np.cumsum(contrib)
    starts = np.flatnonzero(clear != 0)
    segment = np.cumsum(clear != 0) - 1
    before = np.concatenate([[0], total])[starts]  # the running sum just before each clear
    return wrap(total - before[segment], bits, signed)


def evaluate(unit: MacUnit, inputs: dict[str, Any]) -> dict[str, np.ndarray]:
    """Every output port of the unit for input code arrays (one per input port)."""
    m = unit.multiplier
    a = np.asarray(inputs["a"], dtype=np.int64)
    out: dict[str, np.ndarray] = {}
    names = unit.lane_names("acc" if unit.accumulate else "y")
    for b_name, y_name in zip(unit.lane_names("b"), names):
        p = m.port_product(a, np.asarray(inputs[b_name], dtype=np.int64))
        if unit.accumulate:
            p = accumulate(p, inputs["clear"], inputs["valid"], unit.acc_bits, m.signed)
        out[y_name] = p
    return out
