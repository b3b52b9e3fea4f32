"""``MRENoise``: the statistical model of an approximate multiplier (Hammad, El-Sankary and Gu,
ROBIO 2019): every product p becomes p (1 + e), e ~ N(mu, sigma^2), with the mean relative
error E|e| = ``mre`` and the mean ``bias`` = mu. Summed over k, without unfolding products::

    y' = sum_k p_k (1 + e_k) = y (1 + mu) + sigma * sqrt(sum_k p_k^2) * z,   z ~ N(0, 1)

and sum_k p_k^2 = (a^2) @ (b^2): one extra matmul of squares.

>>> n = MRENoise(0.05)
>>> round(n.sigma, 5)  # E|e| = sigma sqrt(2/pi) when mu = 0
0.06267
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import nn

from . import kernels
from .gemm import _exact_sums, _span, exact_sums, int8_row_major

__all__ = ["MRENoise", "sigma_for"]


def _folded_mean(mu: float, sigma: float) -> float:
    """E|e| for e ~ N(mu, sigma^2)."""
    if sigma == 0:
        return abs(mu)
    t = mu / sigma
    phi = 0.5 * (1 + math.erf(-t / math.sqrt(2)))
    return sigma * math.sqrt(2 / math.pi) * math.exp(-t * t / 2) + mu * (1 - 2 * phi)


def sigma_for(mre: float, bias: float) -> float:
    """The sigma with E|N(bias, sigma^2)| = mre (0 when |bias| >= mre)."""
    if mre <= abs(bias):
        return 0.0
    lo, hi = 0.0, 10.0 * mre + 1.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if _folded_mean(bias, mid) < mre:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


class MRENoise(nn.Module):
    """Product-level multiplicative noise of mean relative error ``mre`` (a fraction: 0.05 is
    5 %) and mean ``bias``, on operands quantised to ``bits``-bit signed codes. Use it as the
    ``multiplier`` of ``ApproxLinear`` / ``ApproxConv2d``. The noise is drawn from torch's
    global generator (seed it with ``torch.manual_seed``)."""

    def __init__(self, mre: float, bias: float = 0.0, bits: int = 8) -> None:
        super().__init__()
        if not (mre >= 0 and math.isfinite(mre)):
            raise ValueError(f"mre must be a finite fraction >= 0, got {mre!r}")
        if not 2 <= bits <= 16:
            raise ValueError(f"MRENoise takes 2- to 16-bit operand codes, got bits={bits!r}")
        self.mre = float(mre)
        self.bias = float(bias)
        self.sigma = sigma_for(self.mre, self.bias)
        self.bits = bits
        top = (1 << (bits - 1)) - 1
        self.a_lo, self.a_hi, self.b_lo, self.b_hi = -top, top, -top, top
        self.method = "noise"
        self._cache: tuple[Any, ...] | None = None

    @property
    def codes(self) -> tuple[int, int, int, int]:
        return self.a_lo, self.a_hi, self.b_lo, self.b_hi

    @classmethod
    def from_multiplier(cls, m: Any, a: Any = None, b: Any = None) -> MRENoise:
        """The model of a real multiplier (a ``Multiplier`` or spec text at 8 bits signed):
        mre and bias are the mean |relative error| and the mean relative error of its products
        over every operand pair with a non-zero exact product, or over the pairs (a[i], b[i])
        given (codes from a real layer, to weight the pairs as the network does)."""
        from actc.mac.api import make_multiplier

        mult = make_multiplier(m, bits=8, signed=True) if isinstance(m, str) else m
        if a is None:
            a_codes, b_codes = mult.operands("a"), mult.operands("b")
            a = np.repeat(a_codes, len(b_codes))
            b = np.tile(b_codes, len(a_codes))
        a = np.asarray(a, dtype=np.int64).ravel()
        b = np.asarray(b, dtype=np.int64).ravel()
        exact = a * b
        keep = exact != 0
        rel = (mult.product(a[keep], b[keep]) - exact[keep]) / exact[keep]
        return cls(float(np.abs(rel).mean()), float(rel.mean()), bits=mult.a_bits)

    def matmul(self, a: torch.Tensor, b: torch.Tensor, cache_key: Any = None) -> torch.Tensor:
        """The noisy sum_k a[m, k] b[k, n] (float64) for integer-valued a (M x K) and b
        (K x N). The exact sum y is computed exactly (``gemm.exact_sums``: int8 with int32
        sums on the CPU for codes of up to 8 bits, float32 chunks otherwise); the spread
        sqrt(sum p^2), a statistic, in float32; the last steps in one compiled pass on the
        CPU. ``cache_key``: a value that changes whenever b does; b's derived tensors are
        then kept between calls."""
        if a.dim() != 2 or b.dim() != 2 or a.shape[1] != b.shape[0]:
            raise ValueError(f"MRENoise.matmul takes a (M x K) and b (K x N), got "
                             f"{tuple(a.shape)} and {tuple(b.shape)}")
        af, bf = a.float(), b.float()
        if a.numel() == 0 or b.numel() == 0:
            y = exact_sums(af, bf)
            b_sq = bf.square()
        else:
            # b's derived tensors: its square (in b's own layout: the float32 matmul below
            # then sums in the old order), (min, max) and int8 copy, kept under the key
            key = None if cache_key is None else (cache_key, tuple(b.shape), b.device)
            if key is None or self._cache is None or self._cache[0] != key:
                span = _span(bf)
                derived = (bf.square(), span, int8_row_major(bf, span))
                self._cache = (key, derived) if key is not None else None
            else:
                derived = self._cache[1]
            b_sq, b_span, b8 = derived
            y = _exact_sums(af, _span(af), bf, b_span, w8=b8)
        if self.sigma == 0 and self.bias == 0:
            return y.double()
        spread = torch.sqrt_(af.square() @ b_sq)
        z = torch.randn_like(spread)
        # y (1 + bias) + (sigma spread) z, each step as the original torch operations
        if spread.device.type == "cpu" and kernels.available():
            out = torch.empty(spread.shape, dtype=torch.float64)
            kernels.noise(y.contiguous().numpy(), spread.numpy(), z.numpy(), self.sigma,
                          1 + self.bias, out.numpy())
            return out
        return y.double().mul_(1 + self.bias).add_(spread.mul_(self.sigma).mul_(z).double())

    def extra_repr(self) -> str:
        return f"mre={self.mre:.4g}, bias={self.bias:.4g}, sigma={self.sigma:.4g}"
