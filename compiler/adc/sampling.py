"""Inhomogeneous sampling: the MTJ samples per layer for a budget of total samples.

``search_samples`` is a greedy exchange search over powers of two: from a start (the
homogeneous T that fits the budget), it tries every move that halves one layer's T and
doubles another's (and every plain doubling that still fits), keeps the move that raises
the score most, and stops when none raises it. The score is the caller's (e.g. validation
accuracy with fixed noise seeds); the budget counts sum over layers of T x conversions.

>>> conv = [100, 10, 10]
>>> score = lambda ts: -abs(ts[0] - 1) - abs(ts[1] - 16) - abs(ts[2] - 16)
>>> search_samples(conv, 4 * sum(conv), score, start=[4, 4, 4])[0]
[1, 16, 16]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..errors import ConfigError

__all__ = ["homogeneous", "search_samples"]

CHOICES = (1, 2, 4, 8, 16, 32, 64)


def homogeneous(conversions: Sequence[int], budget: float) -> int:
    """The largest power-of-two T, the same for every layer, within the budget."""
    total = sum(conversions)
    fits = [t for t in CHOICES if t * total <= budget]
    if not fits:
        raise ConfigError(f"a budget of {budget} samples is below one sample per conversion")
    return fits[-1]


def search_samples(conversions: Sequence[int], budget: float,
                   score: Callable[[list[int]], float], start: Sequence[int] | None = None,
                   max_moves: int = 32) -> tuple[list[int], float, list[tuple[list[int], float]]]:
    """(best T per layer, its score, the accepted moves) within ``budget``."""
    if start is None:
        start = [homogeneous(conversions, budget)] * len(conversions)
    ts = list(start)
    cost = lambda t: sum(a * b for a, b in zip(t, conversions))  # noqa: E731
    if cost(ts) > budget:
        raise ConfigError("the start allocation exceeds the budget")
    best = score(ts)
    history = [(list(ts), best)]
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
        scored = [(score(t), t) for t in candidates]
        if not scored:
            break
        s, t = max(scored, key=lambda st: st[0])
        if s <= best:
            break
        best, ts = s, t
        history.append((list(ts), best))
    return ts, best, history
