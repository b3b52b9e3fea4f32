"""Bit-exact approximate GEMM: Y[m, n] = sum_k P(A[m, k], B[k, n]) for integer operand codes and
a multiplier's products P, computed without unfolding the products.

Operand codes (README "actc.nn"): with a signed multiplier both operands are its two's
complement codes; with an unsigned one they are sign-magnitude, P(a, b) = sign(a) sign(b)
M(|a|, |b|) (sign(0) = +1), so an unsigned multiplier serves signed weights and activations.

Two exact methods; the engine picks the first that applies:

1. **Factorised** (exact, ASM, and the partial-product arrays: truncated and BAM): P(a, b) =
   c + sum_g U_g(a) V_g(b) with integer factors (exact: a * b; ASM: a * T[b]; an array:
   a * b less each group of rows' dropped bits). Y is one matmul of the stacked factors,
   c * K added. The factorisation is checked against the product table on every pair when
   the engine is built, and used only if it matches (a product that wraps does not).
2. **Table** (any multiplier, imported ones included): with G[(v, k), n] = P(v, B[k, n]) for
   every activation code v, Y[m, :] = sum_k G[(A[m, k], k), :], a gather-and-sum done by
   ``torch.nn.functional.embedding_bag``. G depends only on the weights: it is cached while
   they do not change (inference), rebuilt otherwise.

Exactness: float32 sums are exact below 2^24, so the inner dimension is split into chunks
whose sums stay below it, each chunk computed in float32 and the chunks added in float64
(exact below 2^53); float64 is used throughout where chunks would be too short.

>>> import torch
>>> from actc.mac.api import make_multiplier
>>> g = ApproxGemm(make_multiplier("drum:4", bits=8, signed=True))
>>> a = torch.tensor([[100, -3]]); b = torch.tensor([[7], [-50]])
>>> g.matmul(a, b).tolist(), g.method
([[884.0]], 'table')
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from actc.mac.families import ArrayFamily
from actc.mac.families.asm import AsmFamily
from actc.mac.families.exact import ExactFamily
from actc.mac.ir import Multiplier

__all__ = ["ApproxGemm", "exact_matmul"]

_F32_EXACT = float(1 << 24)
_G_ELEMENTS = 1 << 26  # the largest expanded weight table G built at once (256 MB in float32)


def exact_matmul(x: torch.Tensor, w: torch.Tensor, bound: float) -> torch.Tensor:
    """x @ w for integer-valued x, w whose products are at most ``bound`` in magnitude,
    exactly, as float64."""
    k = x.shape[-1]
    chunk = int(_F32_EXACT // max(bound, 1.0))
    if chunk >= k:
        return (x.float() @ w.float()).double()
    if chunk < 64:
        return x.double() @ w.double()
    out = None
    for s in range(0, k, chunk):
        part = (x[..., s:s + chunk].float() @ w[s:s + chunk].float()).double()
        out = part if out is None else out + part
    assert out is not None
    return out


def _signed_codes(m: Multiplier) -> tuple[np.ndarray, np.ndarray]:
    """The layer's code ranges for a and b (see the module docstring)."""
    if m.signed:
        return m.operands("a"), m.operands("b")
    ta, tb = (1 << m.a_bits) - 1, (1 << m.b_bits) - 1
    return np.arange(-ta, ta + 1, dtype=np.int64), np.arange(-tb, tb + 1, dtype=np.int64)


def _extend(m: Multiplier, values: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """A factor over the multiplier's own operand codes, over the layer's codes (with the
    operand's sign for an unsigned multiplier)."""
    if m.signed:
        return values
    sign = np.where(codes < 0, -1, 1)
    return sign * values[np.abs(codes)]


def _factors(m: Multiplier) -> tuple[list[tuple[np.ndarray, np.ndarray]], int] | None:
    """(factors over the multiplier's own codes, constant), or None: see the module
    docstring."""
    f = m.family
    a, b = m.operands("a"), m.operands("b")
    if isinstance(f, ExactFamily):
        return [(a, b)], 0
    if isinstance(f, AsmFamily):
        return [(a, f.represent(b, m.b_bits, m.signed))], 0
    if isinstance(f, ArrayFamily):
        pa = a & ((1 << m.a_bits) - 1)
        pb = b & ((1 << m.b_bits) - 1)
        groups: dict[tuple[int, int], np.ndarray] = {}
        const = f.offset(m.a_bits, m.b_bits, m.signed)
        for j in range(m.b_bits):  # the dropped bits of row j, AND and NAND
            d_and = d_nand = 0
            for i in range(m.a_bits):
                if f.dropped(i, j, m.a_bits, m.b_bits, m.signed):
                    if f.inverted(i, j, m.a_bits, m.b_bits, m.signed):
                        d_nand |= 1 << i
                    else:
                        d_and |= 1 << i
            if d_and or d_nand:
                key = (d_and, d_nand)
                groups[key] = groups.get(key, 0) + (((pb >> j) & 1) << j)
                const -= d_nand << j
        factors = [(a, b)] + [(-((pa & da) - (pa & dn)), v) for (da, dn), v in groups.items()]
        return factors, const
    return None


class ApproxGemm(nn.Module):
    """The products of one multiplier over the layer's code ranges, and the GEMM over them.
    Its tables are non-persistent buffers: they follow the module to any device and stay out
    of state dicts."""

    table: torch.Tensor
    u: torch.Tensor
    v: torch.Tensor

    def __init__(self, multiplier: Multiplier) -> None:
        super().__init__()
        m = multiplier
        if m.a_bits + m.b_bits > 20:
            raise ValueError(f"actc.nn simulates multipliers up to 20 product bits "
                             f"({m.a_bits} x {m.b_bits} given)")
        self.multiplier = m
        ca, cb = _signed_codes(m)
        self.a_lo, self.a_hi = int(ca[0]), int(ca[-1])
        self.b_lo, self.b_hi = int(cb[0]), int(cb[-1])
        table = self._table(ca, cb)
        self.register_buffer("table", torch.from_numpy(table.astype(np.float32)),
                             persistent=False)
        self.bound = float(np.abs(table).max())
        self.method = "table"
        self.constant = 0
        fac = _factors(m)
        if fac is not None:
            factors, const = fac
            us = np.stack([_extend(m, u, ca) for u, _ in factors])
            vs = np.stack([_extend(m, v, cb) for _, v in factors])
            if not m.signed:  # the constant too carries the operands' signs
                sa, sb = np.where(ca < 0, -1, 1), np.where(cb < 0, -1, 1)
                us = np.concatenate([us, (sa * const)[None]])
                vs = np.concatenate([vs, sb[None]])
                const = 0
            if np.array_equal(np.einsum("ga,gb->ab", us, vs) + const, table):
                self.method = "factorised"
                self.constant = int(const)
                self.register_buffer("u", torch.from_numpy(us.astype(np.float64)),
                                     persistent=False)
                self.register_buffer("v", torch.from_numpy(vs.astype(np.float64)),
                                     persistent=False)
                self.factor_bound = float(max(np.abs(u).max() * np.abs(v).max()
                                              for u, v in zip(us, vs)))
        self._cache: tuple[Any, ...] | None = None

    def _table(self, ca: np.ndarray, cb: np.ndarray) -> np.ndarray:
        m = self.multiplier
        if m.signed:
            return m.product(ca[:, None], cb[None, :])
        sign = np.where(ca[:, None] < 0, -1, 1) * np.where(cb[None, :] < 0, -1, 1)
        return sign * m.product(np.abs(ca)[:, None], np.abs(cb)[None, :])

    @property
    def codes(self) -> tuple[int, int, int, int]:
        """(a_lo, a_hi, b_lo, b_hi): the code ranges the layer quantises to."""
        return self.a_lo, self.a_hi, self.b_lo, self.b_hi

    def product(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Elementwise products of code tensors (broadcast)."""
        a_idx = (a - self.a_lo).long()
        b_idx = (b - self.b_lo).long()
        return self.table[a_idx, b_idx]

    def matmul(self, a: torch.Tensor, b: torch.Tensor, cache_key: Any = None) -> torch.Tensor:
        """sum_k P(a[m, k], b[k, n]) for integer-valued tensors a (M x K) and b (K x N), as
        float64 holding exact integers. ``cache_key``: a value that changes whenever b does
        (a layer passes its weight's version); the table method then keeps G between calls."""
        if self.method == "factorised":
            ai = (a - self.a_lo).long()
            bi = (b - self.b_lo).long()
            xs = torch.cat([u[ai] for u in self.u], dim=1)
            ws = torch.cat([v[bi] for v in self.v], dim=0)
            y = exact_matmul(xs, ws, self.factor_bound)
            return y + self.constant * a.shape[1] if self.constant else y
        return self._table_matmul(a, b, cache_key)

    def _expanded(self, b: torch.Tensor, start: int, stop: int) -> torch.Tensor:
        """G for the rows start:stop of b: [(v, k), n] = P(v, b[k, n])."""
        bi = (b[start:stop] - self.b_lo).long()
        n_a = self.table.shape[0]
        return self.table[:, bi.reshape(-1)].reshape(n_a * (stop - start), b.shape[1])

    def _table_matmul(self, a: torch.Tensor, b: torch.Tensor, cache_key: Any) -> torch.Tensor:
        k, n = b.shape
        n_a = self.table.shape[0]
        chunk = max(1, min(k, int(_F32_EXACT // max(self.bound, 1.0)),
                           _G_ELEMENTS // max(1, n_a * n)))
        key = None if cache_key is None else (cache_key, tuple(b.shape), b.device)
        if key is not None and self._cache is not None and self._cache[0] == key:
            parts = self._cache[1]
        else:
            parts = [self._expanded(b, s, min(k, s + chunk)) for s in range(0, k, chunk)]
            self._cache = (key, parts) if key is not None else None
        ai = (a - self.a_lo).long()
        out = None
        for c, s in enumerate(range(0, k, chunk)):
            width = min(k, s + chunk) - s
            idx = ai[:, s:s + width] * width + torch.arange(width, device=a.device)
            part = nn.functional.embedding_bag(idx, parts[c], mode="sum").double()
            out = part if out is None else out + part
        assert out is not None
        return out

    def extra_repr(self) -> str:
        return f"{self.multiplier.text}, method={self.method}"

