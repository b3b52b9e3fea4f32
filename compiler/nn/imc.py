"""In-memory-computing layers for PyTorch: ``IMCLinear`` and ``IMCConv2d`` compute their
matmul through ``actc.adc``'s crossbar model (bit slices, sub-arrays, a converter per
partial sum, digital shift-and-add), vectorised in torch, and train with a straight-through
gradient across the conversion (PS-quantisation-aware training, StoX-Net style).

Quantisation (README "actc.nn IMC layers"):

- activations: unsigned ``input_bits`` codes, x = clamp(round(a / s_a), 0, 2^b - 1), with
  s_a = running max of the layer's input / (2^b - 1) (an exponential moving average in
  training, frozen in eval); the gradient passes straight through inside the clamp;
- weights: per output channel, symmetric: w = clamp(round(W / s_w), -q, q), s_w = max |W| / q,
  q the crossbar's largest weight (2^(b-1) - 1 for differential pairs, b >= 2);
- output: (y * lsb) * s_a * s_w + bias, y the back end's integer result.

Converter range (``clip``): ``"full"`` spans the crossbar's whole partial-sum range;
a number z calibrates it to z times the running RMS of the layer's partial sums (default 3
for ``adc:N``, 1 for ``mtj:T``: StoX-Net normalises each column's partial sums to unit
variance and clamps to [-1, 1]); ``sparse:N`` has a fixed unit step and takes no clip.

Gradient: forward is the crossbar result; backward is that of the exact integer matmul,
split over the slices so that each partial sum passes its gradient only where the converter
does not clamp it (identity within the clamp). The split: input slice j carries
1/(J 2^(j dac_bits)) of d/dx and weight slice s 1/(S 2^(s cell_bits)) of d/dw, so without
clamping the gradient is exactly that of x @ w.

>>> import torch
>>> layer = IMCLinear(40, 3, converter="ideal", rows=16, weight_bits=4, input_bits=4)
>>> layer(torch.rand(2, 40)).shape
torch.Size([2, 3])
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from ..adc.converters import Adc, Converter, Ideal, Mtj, Sparse, converter
from ..adc.crossbar import Crossbar
from ..errors import ConfigError

__all__ = ["IMCConv2d", "IMCLinear", "imc_layers", "set_samples", "to_imc"]

_DEFAULT_CLIP = {"adc": 3.0, "mtj": 1.0}


class _IMC(nn.Module):
    """What IMCLinear and IMCConv2d share: the crossbar, the converter, the quantisers and
    the calibration buffers."""

    act_max: torch.Tensor
    ps_rms: torch.Tensor

    def _setup(self, conv: str | Converter, rows: int, cell_bits: int, dac_bits: int,
               weight_bits: int, input_bits: int, scheme: str, clip: str | float | None,
               seed: int, momentum: float) -> None:
        self.crossbar = Crossbar.from_scheme(scheme, rows=rows, cell_bits=cell_bits,
                                             dac_bits=dac_bits, weight_bits=weight_bits,
                                             input_bits=input_bits)
        self.converter = converter(conv)
        if clip is None:
            clip = _DEFAULT_CLIP.get(self.converter.name, "full")
        if isinstance(self.converter, Sparse) and clip not in ("full", None):
            raise ConfigError("sparse:N has a fixed step: it takes no clip")
        if isinstance(clip, str) and clip != "full":
            raise ConfigError(f"clip {clip!r}: use 'full' or a number (times the RMS partial "
                              "sum)")
        if not isinstance(clip, str) and not (math.isfinite(clip) and clip > 0):
            raise ConfigError(f"clip must be positive, got {clip!r}")
        self.clip = clip
        self.momentum = momentum
        self.samples: int | None = None  # mtj: per-layer T (inhomogeneous sampling)
        self.generator = torch.Generator().manual_seed(seed)
        self.register_buffer("act_max", torch.zeros(()))
        self.register_buffer("ps_rms", torch.zeros(()))
        self.last_conversions = 0  # conversions per sample in the last forward
        self.last_clamped = 0.0  # fraction of partial sums the converter clamped

    # --- quantisers -------------------------------------------------------------------------
    def _quantize_input(self, a: torch.Tensor) -> tuple[torch.Tensor, Any]:
        top = (1 << self.crossbar.input_bits) - 1
        if self.training:
            m = a.detach().max().clamp(min=1e-8)
            if self.act_max.item() == 0:
                self.act_max.copy_(m)
            else:
                self.act_max.mul_(1 - self.momentum).add_(self.momentum * m)
        elif self.act_max.item() == 0:
            self.act_max.copy_(a.detach().max().clamp(min=1e-8))
        scale = self.act_max / top
        q = torch.clamp(a / scale, 0, top)
        return q + (torch.round(q) - q).detach(), scale

    def _quantize_weight(self, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """w: (in, out) -> integer-valued weights and the per-output scale."""
        lo, hi = self.crossbar.weight_range
        top = float(hi)
        if self.crossbar.signed:
            scale = w.detach().abs().amax(dim=0).clamp(min=1e-8) / top
            q = torch.clamp(w / scale, float(lo), top)
        else:  # unsigned weights: the negative ones are cut off
            scale = w.detach().clamp(min=0).amax(dim=0).clamp(min=1e-8) / top
            q = torch.clamp(w / scale, 0.0, top)
        return q + (torch.round(q) - q).detach(), scale

    # --- the crossbar -----------------------------------------------------------------------
    def _range(self, ps: torch.Tensor) -> tuple[float, float]:
        lo, hi = self.crossbar.ps_range
        c = self.converter
        if c.bound:
            return float(c.lo), float(c.hi)  # type: ignore[arg-type]
        if self.clip == "full" or isinstance(c, (Ideal, Sparse)):
            return float(lo), float(hi)
        rms = float(ps.detach().pow(2).mean().sqrt())
        if self.training:
            if self.ps_rms.item() == 0:
                self.ps_rms.fill_(rms)
            else:
                self.ps_rms.mul_(1 - self.momentum).add_(self.momentum * rms)
        elif self.ps_rms.item() == 0:
            self.ps_rms.fill_(rms)
        clip = max(float(self.clip) * float(self.ps_rms), 1e-6)
        return (-clip if lo < 0 else 0.0), clip

    def _bound(self, lo: float, hi: float) -> Converter:
        c = self.converter
        if isinstance(c, Mtj) and self.samples is not None:
            c = converter(f"mtj:{self.samples}", k=c.k, x0=c.x0)
        return c if c.bound else converter(c, lo=lo, hi=hi)

    def _convert(self, ps: torch.Tensor, c: Converter) -> tuple[torch.Tensor, torch.Tensor]:
        """(ps_hat, within-clamp mask) of integer-valued ps through the bound converter."""
        lo, hi = float(c.lo), float(c.hi)  # type: ignore[arg-type]
        with torch.no_grad():
            p = ps.detach().to(torch.float64)
            if isinstance(c, Ideal):
                return ps.detach(), torch.ones_like(ps)
            if isinstance(c, Sparse):
                low = -(1 << (c.bits - 1)) if lo < 0 else 0
                k = torch.floor(p / c.step + 0.5).clamp(low, low + (1 << c.bits) - 1)
                hat = k * c.step
                mask = (k * c.step - p).abs() <= c.step / 2
            elif isinstance(c, Adc):
                top = (1 << c.bits) - 1
                if c.exact:
                    k = (p - lo).clamp(0, top)
                    hat = lo + k
                elif float(lo).is_integer() and float(hi).is_integer():
                    span = int(hi - lo)
                    k = torch.div(2 * (p.long() - int(lo)) * top + span, 2 * span,
                                  rounding_mode="floor").clamp(0, top).to(torch.float64)
                    hat = lo + k * (hi - lo) / top
                else:
                    k = torch.floor((p - lo) * top / (hi - lo) + 0.5).clamp(0, top)
                    hat = lo + k * (hi - lo) / top
                mask = (p >= lo) & (p <= hi)
            elif isinstance(c, Mtj):
                x = ((2 * p - (lo + hi)) / (hi - lo)).clamp(-1, 1)
                prob = torch.sigmoid(c.k * (x - c.x0))
                counts = torch.binomial(torch.full_like(prob, float(c.samples)), prob,
                                        generator=self.generator)
                hat = (lo + hi) / 2 + (hi - lo) / 2 * (2 * counts - c.samples) / c.samples
                mask = (p >= lo) & (p <= hi)
            else:  # pragma: no cover - the registry has no other converter
                raise ConfigError(f"no torch model for {c.spec}")
            self.last_clamped = float(1 - mask.to(torch.float64).mean())
        return hat.to(ps.dtype), mask.to(ps.dtype)

    def _imc_matmul(self, xq: torch.Tensor, wq: torch.Tensor) -> torch.Tensor:
        """The crossbar result (float, integer-valued times the converter's lsb) of
        integer-valued xq (batch, in) @ wq (in, out), with the straight-through gradient."""
        xb = self.crossbar
        batch, n = xq.shape
        out = wq.shape[1]
        r = xb.subarrays(n)
        J, S = xb.input_slices, xb.weight_slices
        self.last_conversions = r * J * (S * out + (1 if xb.offset else 0))
        if isinstance(self.converter, Ideal) and not xb.offset:
            return xq @ wq  # every partial sum exact: the sum of the slices is the matmul
        pad = r * xb.rows - n
        db, cb = xb.dac_bits, xb.cell_bits
        grad = torch.is_grad_enabled() and (xq.requires_grad or wq.requires_grad)
        xi = xq.detach().round().long()
        wi = wq.detach().round().long()
        dmask, cmask = (1 << db) - 1, (1 << cb) - 1
        xs = torch.stack([((xi >> (j * db)) & dmask).to(xq.dtype) for j in range(J)])
        if xb.differential:
            pos, neg = wi.clamp(min=0), (-wi).clamp(min=0)
            ints = [((pos >> (s * cb)) & cmask) - ((neg >> (s * cb)) & cmask) for s in range(S)]
        else:
            u = wi + (1 << (xb.weight_bits - 1)) if xb.offset else wi
            ints = [(u >> (s * cb)) & cmask for s in range(S)]
        ws = torch.stack([t.to(wq.dtype) for t in ints])
        if grad:  # the slices carry shares of the gradient (module docstring)
            dx, dw = xq - xq.detach(), wq - wq.detach()
            xs = xs + torch.stack([dx / (J * 2 ** (j * db)) for j in range(J)])
            ws = ws + torch.stack([dw / (S * 2 ** (s * cb)) for s in range(S)])
        xs = F.pad(xs, (0, pad)).reshape(J, batch, r, xb.rows)
        ws = F.pad(ws, (0, 0, 0, pad)).reshape(S, r, xb.rows, out)
        ps = torch.einsum("jbrk,srko->brjso", xs, ws)
        shifts = torch.tensor([[2.0 ** (j * db + s * cb) for s in range(S)] for j in range(J)],
                              dtype=ps.dtype)
        c = self._bound(*self._range(ps))
        y = torch.einsum("brjso,js->bo", self._straight_through(ps, c), shifts)
        if xb.offset:
            ref = xs.sum(dim=3).permute(1, 2, 0) * xb.ref_cell  # (batch, r, J)
            rshift = torch.tensor([2.0 ** (j * db + xb.ref_slice * cb) for j in range(J)],
                                  dtype=ps.dtype)
            y = y - torch.einsum("brj,j->b", self._straight_through(ref, c), rshift)[:, None]
        return y

    def _straight_through(self, ps: torch.Tensor, c: Converter) -> torch.Tensor:
        """Forward: the converted partial sums; backward: identity where not clamped."""
        hat, mask = self._convert(ps, c)
        if not ps.requires_grad:
            return hat
        mixed = ps * mask + ps.detach() * (1 - mask)
        return mixed + (hat - mixed).detach()

    def _forward_matrix(self, a: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        """a (batch, in) through the crossbar with weight (in, out); real-valued output."""
        xq, sa = self._quantize_input(a)
        wq, sw = self._quantize_weight(weight)
        return self._imc_matmul(xq, wq) * sa * sw

    def extra_repr(self) -> str:
        xb = self.crossbar
        t = f", samples={self.samples}" if self.samples is not None else ""
        return (f"converter={self.converter.spec}{t}, rows={xb.rows}, cell_bits={xb.cell_bits}"
                f", dac_bits={xb.dac_bits}, weight_bits={xb.weight_bits}, input_bits="
                f"{xb.input_bits}, scheme={'unsigned' if not xb.signed else xb.scheme}, "
                f"clip={self.clip}")


class IMCLinear(_IMC):
    """A drop-in ``nn.Linear`` whose matmul runs through the crossbar model (see the module
    docstring). Inputs should be non-negative (after a ReLU): they are quantised to unsigned
    codes."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *,
                 converter: str | Converter = "ideal", rows: int = 128, cell_bits: int = 1,
                 dac_bits: int = 1, weight_bits: int = 4, input_bits: int = 4,
                 scheme: str = "differential", clip: str | float | None = None, seed: int = 0,
                 momentum: float = 0.1):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        self._setup(converter, rows, cell_bits, dac_bits, weight_bits, input_bits, scheme, clip,
                    seed, momentum)

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        shape = a.shape
        y = self._forward_matrix(a.reshape(-1, shape[-1]), self.weight.t())
        if self.bias is not None:
            y = y + self.bias
        return y.reshape(*shape[:-1], self.out_features)


class IMCConv2d(_IMC):
    """A drop-in ``nn.Conv2d`` (groups 1): im2col rows (in_channels x kernel^2, channel
    major) on the crossbar, one column per output channel and weight slice."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple,
                 stride: int | tuple = 1, padding: int | tuple = 0, bias: bool = True, *,
                 converter: str | Converter = "ideal", rows: int = 128, cell_bits: int = 1,
                 dac_bits: int = 1, weight_bits: int = 4, input_bits: int = 4,
                 scheme: str = "differential", clip: str | float | None = None, seed: int = 0,
                 momentum: float = 0.1):
        super().__init__()
        k = nn.modules.utils._pair(kernel_size)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride = k, nn.modules.utils._pair(stride)
        self.padding = nn.modules.utils._pair(padding)
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, *k))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        self._setup(converter, rows, cell_bits, dac_bits, weight_bits, input_bits, scheme, clip,
                    seed, momentum)

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        n, _, h, w = a.shape
        cols = F.unfold(a, self.kernel_size, padding=self.padding, stride=self.stride)
        oh = (h + 2 * self.padding[0] - self.kernel_size[0]) // self.stride[0] + 1
        ow = (w + 2 * self.padding[1] - self.kernel_size[1]) // self.stride[1] + 1
        rows = cols.transpose(1, 2).reshape(n * oh * ow, -1)
        y = self._forward_matrix(rows, self.weight.reshape(self.out_channels, -1).t())
        if self.bias is not None:
            y = y + self.bias
        self.last_conversions *= oh * ow
        return y.reshape(n, oh * ow, self.out_channels).transpose(1, 2).reshape(
            n, self.out_channels, oh, ow)


def imc_layers(model: nn.Module) -> list[_IMC]:
    """The IMC layers of a model, in module order."""
    return [m for m in model.modules() if isinstance(m, _IMC)]


def set_samples(model: nn.Module, samples: list[int] | int | None) -> None:
    """MTJ samples per IMC layer (a list, one per layer in module order), one T for all, or
    None for the converter's own T."""
    layers = imc_layers(model)
    values = [samples] * len(layers) if not isinstance(samples, list) else samples
    if len(values) != len(layers):
        raise ConfigError(f"{len(values)} sample counts for {len(layers)} IMC layers")
    for layer, t in zip(layers, values):
        if t is not None and not 1 <= int(t) <= 64:
            raise ConfigError(f"samples {t}: use 1 to 64")
        layer.samples = None if t is None else int(t)


def to_imc(model: nn.Module, converter: str | Converter = "ideal", *, keep_first: bool = True,
           keep_last: bool = True, **config: Any) -> nn.Module:
    """Replace the model's ``nn.Linear`` and ``nn.Conv2d`` layers (groups 1) by IMC layers
    with the same weights, in place; the first and last stay full precision unless
    ``keep_first``/``keep_last`` are False (StoX-Net keeps them). ``config``: the layers'
    crossbar options (rows, cell_bits, ..., clip, seed). Returns the model."""
    found = [(parent, name, child) for parent in model.modules()
             for name, child in parent.named_children()
             if isinstance(child, (nn.Linear, nn.Conv2d)) and not isinstance(child, _IMC)]
    chosen = found[1 if keep_first else 0: len(found) - (1 if keep_last else 0)]
    seed = int(config.pop("seed", 0))
    for i, (parent, name, child) in enumerate(chosen):
        layer: _IMC
        if isinstance(child, nn.Linear):
            layer = IMCLinear(child.in_features, child.out_features, child.bias is not None,
                              converter=converter, seed=seed + i, **config)
        else:
            if child.groups != 1 or child.dilation != (1, 1):
                raise ConfigError(f"{name}: IMC convolutions take groups 1 and dilation 1")
            layer = IMCConv2d(child.in_channels, child.out_channels, child.kernel_size,
                              child.stride, child.padding,  # type: ignore[arg-type]
                              child.bias is not None,
                              converter=converter, seed=seed + i, **config)
        with torch.no_grad():
            layer.weight.copy_(child.weight)
            if child.bias is not None and layer.bias is not None:
                layer.bias.copy_(child.bias)
        setattr(parent, name, layer)
    return model
