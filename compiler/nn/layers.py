"""``ApproxLinear`` and ``ApproxConv2d``: drop-in layers whose products are a multiplier's.

Forward: the input is quantised per tensor (``quant.RunningScale``), the weight per output
channel (or per tensor, ``per_channel=False``) to the multiplier's operand codes (the
activation is operand a, the weight operand b); the products are the multiplier's, summed
exactly in integers (``gemm.ApproxGemm``: bit-exact with the multiplier's evaluator and so
with its emitted Verilog, C and Python); the sum is scaled back and the bias added.
Backward: straight-through, the gradient of the exact product of the quantised operands.

``approximate = False`` (``HybridSchedule`` sets it) keeps the quantisation but takes exact
products. ``weight_transform`` (e.g. ``AlphabetQuantizer``) maps the weight codes before
they are multiplied.

>>> import torch
>>> layer = ApproxLinear(4, 2, multiplier="drum:4")
>>> layer(torch.ones(3, 4)).shape
torch.Size([3, 2])
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from .gemm import ApproxGemm, exact_matmul
from .noise import MRENoise
from .quant import RunningScale, channel_scale, quantize, tensor_scale

__all__ = ["ApproxConv2d", "ApproxLinear", "approximate_layers", "make_engine"]


def make_engine(multiplier: Any, a_bits: int, b_bits: int, signed: bool) -> nn.Module:
    """The product engine of a multiplier given as spec text (``"drum:4"``), a
    ``Multiplier``, a MAC manifest path (library or imported), or an ``MRENoise``."""
    from actc.mac.api import make_multiplier
    from actc.mac.ir import Multiplier

    if isinstance(multiplier, (MRENoise, ApproxGemm)):
        return multiplier
    if isinstance(multiplier, Path) or (isinstance(multiplier, str)
                                        and multiplier.endswith(".json")):
        from actc.manifest import load

        _, unit = load(multiplier)
        if unit.kind != "mac":
            raise ValueError(f"{multiplier} describes a {unit.kind} unit, not a multiplier")
        return ApproxGemm(unit.multiplier)  # type: ignore[attr-defined]
    if isinstance(multiplier, Multiplier):
        return ApproxGemm(multiplier)
    return ApproxGemm(make_multiplier(multiplier, a_bits=a_bits, b_bits=b_bits, signed=signed))


class _ApproxProducts(nn.Module):
    """What both layers share: quantisers, the product engine, the exact/approximate switch."""

    weight: nn.Parameter
    engine: Any  # ApproxGemm or MRENoise: codes, method, matmul(a, b, cache_key)

    def _setup(self, multiplier: Any, bits: int, a_bits: int | None, b_bits: int | None,
               signed: bool, per_channel: bool, momentum: float,
               weight_transform: nn.Module | None) -> None:
        self.engine = make_engine(multiplier, a_bits or bits, b_bits or bits, signed)
        a_lo, a_hi, b_lo, b_hi = self.engine.codes
        self.act_scale = RunningScale(a_hi, momentum)
        self.per_channel = per_channel
        self.weight_transform = weight_transform
        self.approximate = True

    def set_multiplier(self, multiplier: Any, bits: int = 8, signed: bool = True) -> None:
        """Swap the multiplier (e.g. for a post-training test with another one)."""
        self.engine = make_engine(multiplier, bits, bits, signed)

    def _codes(self, x: torch.Tensor, w: torch.Tensor) -> tuple[torch.Tensor, ...]:
        a_lo, a_hi, b_lo, b_hi = self.engine.codes
        sx = self.act_scale(x)
        sw = channel_scale(w, b_hi) if self.per_channel else tensor_scale(w, b_hi)
        qx = quantize(x, sx, a_lo, a_hi)
        qw = quantize(w, sw, b_lo, b_hi)
        if self.weight_transform is not None:
            qw = self.weight_transform(qw)
        return qx, qw, sx, sw.reshape(1, -1)

    def _products(self, x2: torch.Tensor, w2: torch.Tensor) -> torch.Tensor:
        """x2 (M x K) times w2 (N x K) transposed, through the multiplier."""
        qx, qw, sx, sw = self._codes(x2, w2)
        # the weights' codes, so the table method's expanded weights, change only with them
        key = None if self.training else (id(self.weight), self.weight._version)
        with torch.no_grad():
            acc = self.accumulate_codes(qx.detach(), qw.detach(), key)
        y = acc.to(x2.dtype) * (sx * sw)
        if torch.is_grad_enabled() and (x2.requires_grad or w2.requires_grad):
            exact = (qx * sx) @ (qw * sw.reshape(-1, 1)).t()
            y = exact + (y - exact).detach()
        return y

    def accumulate_codes(self, qx: torch.Tensor, qw: torch.Tensor,
                         cache_key: Any = None) -> torch.Tensor:
        """The integer accumulations sum_k P(qx[m, k], qw[n, k]) (float64) of code tensors."""
        if self.approximate:
            out: torch.Tensor = self.engine.matmul(qx, qw.t(), cache_key)
            return out
        a_lo, a_hi, b_lo, b_hi = self.engine.codes
        bound = max(abs(a_lo), abs(a_hi)) * max(abs(b_lo), abs(b_hi))
        return exact_matmul(qx, qw.t(), bound)

    def integer_output(self, x: torch.Tensor) -> torch.Tensor:
        """The layer's integer accumulations for input x (its im2col rows for a
        convolution), as the hardware's accumulators hold them."""
        x2, w2 = self._rows(x)
        qx, qw, _, _ = self._codes(x2, w2)
        with torch.no_grad():
            return self.accumulate_codes(qx.detach(), qw.detach())

    def _rows(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:  # pragma: no cover
        raise NotImplementedError


class ApproxLinear(_ApproxProducts):
    """``nn.Linear`` with a multiplier's products (see the module docstring).

    ``multiplier``: spec text, ``Multiplier``, MAC manifest path or ``MRENoise``; ``bits``
    (or ``a_bits``/``b_bits``): operand widths of a spec; ``signed``: two's complement
    operands (an unsigned multiplier runs sign-magnitude, ``gemm``)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *,
                 multiplier: Any = "exact", bits: int = 8, a_bits: int | None = None,
                 b_bits: int | None = None, signed: bool = True, per_channel: bool = True,
                 momentum: float = 0.1, weight_transform: nn.Module | None = None,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = nn.Parameter(torch.empty(out_features, in_features, device=device,
                                               dtype=dtype))
        self.bias = nn.Parameter(torch.empty(out_features, device=device, dtype=dtype)) \
            if bias else None
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(in_features)
            nn.init.uniform_(self.bias, -bound, bound)
        self._setup(multiplier, bits, a_bits, b_bits, signed, per_channel, momentum,
                    weight_transform)

    def _rows(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return x.reshape(-1, self.in_features), self.weight

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x2, w = self._rows(x)
        y = self._products(x2, w)
        if self.bias is not None:
            y = y + self.bias
        return y.reshape(*x.shape[:-1], self.out_features)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, " \
               f"bias={self.bias is not None}, approximate={self.approximate}"


class ApproxConv2d(_ApproxProducts):
    """``nn.Conv2d`` (groups = 1) with a multiplier's products, computed as a GEMM over the
    im2col rows of the input. Options as ``ApproxLinear``."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
                 dilation: int | tuple[int, int] = 1, bias: bool = True, *,
                 multiplier: Any = "exact", bits: int = 8, a_bits: int | None = None,
                 b_bits: int | None = None, signed: bool = True, per_channel: bool = True,
                 momentum: float = 0.1, weight_transform: nn.Module | None = None,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        pair = nn.modules.utils._pair
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride = pair(kernel_size), pair(stride)
        self.padding, self.dilation = pair(padding), pair(dilation)
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, *self.kernel_size,
                                               device=device, dtype=dtype))
        self.bias = nn.Parameter(torch.empty(out_channels, device=device, dtype=dtype)) \
            if bias else None
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(in_channels * self.kernel_size[0] * self.kernel_size[1])
            nn.init.uniform_(self.bias, -bound, bound)
        self._setup(multiplier, bits, a_bits, b_bits, signed, per_channel, momentum,
                    weight_transform)

    def _rows(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        cols = F.unfold(x, self.kernel_size, self.dilation, self.padding, self.stride)
        rows = cols.transpose(1, 2).reshape(-1, cols.shape[1])
        return rows, self.weight.reshape(self.out_channels, -1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        kh, kw = self.kernel_size
        ho = (h + 2 * self.padding[0] - self.dilation[0] * (kh - 1) - 1) // self.stride[0] + 1
        wo = (w + 2 * self.padding[1] - self.dilation[1] * (kw - 1) - 1) // self.stride[1] + 1
        rows, w2 = self._rows(x)
        y = self._products(rows, w2)
        if self.bias is not None:
            y = y + self.bias
        return y.reshape(n, ho * wo, self.out_channels).transpose(1, 2).reshape(
            n, self.out_channels, ho, wo)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, approximate={self.approximate}")


def approximate_layers(model: nn.Module) -> list[_ApproxProducts]:
    """Every ApproxLinear and ApproxConv2d in a model."""
    return [m for m in model.modules() if isinstance(m, _ApproxProducts)]
