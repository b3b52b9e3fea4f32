"""Inhomogeneous sampling: the MTJ samples per layer for a budget of total samples.

``search_samples`` is a greedy exchange search over powers of two: from a start (the
homogeneous T that fits the budget), it tries every move that halves one layer's T and
doubles another's (and every plain doubling that still fits), and takes the best move when
it beats the current allocation by more than its noise; it stops when none does. The budget
counts sum over layers of T x conversions.

The score is the caller's. It may be one number, or an array of per-item scores (e.g. each
validation image's accuracy averaged over several MTJ noise seeds, the same seeds for every
allocation): the objective is their mean, and a move is accepted only if the mean paired
difference to the current allocation exceeds ``z`` standard errors of that difference
(its standard deviation over the items / sqrt(items)), so the search does not chase noise.
The history records every round: its candidates' gains and standard errors, and whether its
best move was taken.

>>> conv = [100, 10, 10]
>>> score = lambda ts: -abs(ts[0] - 1) - abs(ts[1] - 16) - abs(ts[2] - 16)
>>> search_samples(conv, 4 * sum(conv), score, start=[4, 4, 4])[0]
[1, 16, 16]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError

__all__ = ["Step", "homogeneous", "search_samples"]

CHOICES = (1, 2, 4, 8, 16, 32, 64)


def homogeneous(conversions: Sequence[int], budget: float) -> int:
    """The largest power-of-two T, the same for every layer, within the budget."""
    total = sum(conversions)
    fits = [t for t in CHOICES if t * total <= budget]
    if not fits:
        raise ConfigError(f"a budget of {budget} samples is below one sample per conversion")
    return fits[-1]


@dataclass(frozen=True)
class Step:
    """One round of the search: its best allocation (T per layer), that allocation's mean
    score, gain over the current allocation and the gain's standard error, whether the move
    was taken, and every candidate's (T per layer, gain, standard error)."""

    samples: list[int]
    score: float
    gain: float
    se: float
    accepted: bool = True
    candidates: tuple[tuple[tuple[int, ...], float, float], ...] = ()


def _paired(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Mean of b - a and its standard error (0 for single numbers)."""
    d = b - a
    if d.size < 2:
        return float(d.mean()), 0.0
    return float(d.mean()), float(d.std(ddof=1) / math.sqrt(d.size))


def search_samples(conversions: Sequence[int], budget: float,
                   score: Callable[[list[int]], Any], start: Sequence[int] | None = None,
                   max_moves: int = 32, z: float = 2.0
                   ) -> tuple[list[int], float, list[Step]]:
    """(best T per layer, its mean score, the accepted steps) within ``budget``."""
    if start is None:
        start = [homogeneous(conversions, budget)] * len(conversions)
    ts = list(start)
    cost = lambda t: sum(a * b for a, b in zip(t, conversions))  # noqa: E731
    if cost(ts) > budget:
        raise ConfigError("the start allocation exceeds the budget")
    current = np.atleast_1d(np.asarray(score(ts), dtype=np.float64))
    history = [Step(list(ts), float(current.mean()), 0.0, 0.0)]
    for _ in range(max_moves):
        candidates = []
        n = len(ts)
        for a in range(n):
            for b in range(n):
                t = list(ts)
                if a != b:
                    if t[a] // 2 < CHOICES[0] or t[b] * 2 > CHOICES[-1]:
                        continue
                    t[a] //= 2
                    t[b] *= 2
                elif t[a] * 2 <= CHOICES[-1]:
                    t[a] *= 2
                else:
                    continue
                if cost(t) <= budget and t not in candidates:
                    candidates.append(t)
        if not candidates:
            break
        scored = [(np.atleast_1d(np.asarray(score(t), dtype=np.float64)), t)
                  for t in candidates]
        rows = tuple((tuple(t), *_paired(current, items)) for items, t in scored)
        items, t = max(scored, key=lambda st: float(st[0].mean()))
        gain, se = _paired(current, items)
        taken = gain > z * se and gain > 0
        history.append(Step(list(t), float(items.mean()), gain, se, taken, rows))
        if not taken:
            break
        ts, current = t, items
    return ts, float(current.mean()), history
