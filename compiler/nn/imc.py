"""In-memory-computing layers for PyTorch: ``IMCLinear`` and ``IMCConv2d`` compute their
matmul through ``actc.adc``'s crossbar engine (bit slices, sub-arrays, a converter per
partial sum, skipped conversions, digital shift-and-add: ``actc.adc.engine``, the same
semantics and random stream as ``Crossbar.matmul``) and train with a straight-through
gradient across the conversion (PS-quantisation-aware training, StoX-Net style).

Quantisation (README "actc.nn IMC layers"):

- activations: unsigned ``input_bits`` codes, x = clamp(round(a / s_a), 0, 2^b - 1), with
  s_a = running max of the layer's input / (2^b - 1) (an exponential moving average in
  training, frozen in eval); the gradient passes straight through inside the clamp;
- weights: per output channel, symmetric: w = clamp(round(W / s_w), -q, q), s_w = max |W| / q,
  q the crossbar's largest weight (2^(b-1) - 1 for differential pairs, b >= 2);
- output: (y * lsb) * s_a * s_w + bias, y the back end's integer result.

Converter range (``clip``): ``"full"`` spans the crossbar's whole partial-sum range; a number
z calibrates it to z times the running RMS of the converted partial sums (skipped ones left
out; default 3 for ``adc:N``, 1 for ``mtj:T``: StoX-Net normalises partial sums and clamps
to [-1, 1]); ``sparse:N`` has a fixed unit step and takes no clip. With ``slice_clips``
(default) each input slice j has its own RMS and range: the most significant slice of ReLU
activations is sparse and its partial sums small, so one layer-wide range would leave it a
fraction of the converter's levels. The per-slice ranges are the largest one divided by
powers of two (the nearest to the RMS ratio), so the back end still only shifts and adds.

Gradient (a custom autograd function, so training runs the same engine): forward is the
crossbar result; backward is that of the sliced integer matmul with each partial sum's
gradient multiplied by the slope of the converter's expected output (``ste="slope"``,
default): 1 within the range for the ADCs, and for ``mtj:T`` d E[ps_hat]/d ps =
2 k p (1 - p) (the decode's expectation is (lo+hi)/2 + (hi-lo)/2 (2 p(x) - 1): its gain at
zero is k/2 = 1.8 for StoX-Net's device), 0 outside the range. ``ste="identity"`` passes 1
within the range (the previous behaviour). The slices share the gradient: input slice j
carries 1/(J 2^(j dac_bits)) of d/dx and weight slice s 1/(S 2^(s cell_bits)) of d/dw, so
with unit slopes it is exactly the gradient of x @ w.

>>> import torch
>>> layer = IMCLinear(40, 3, converter="ideal", rows=16, weight_bits=4, input_bits=4)
>>> layer(torch.rand(2, 40)).shape
torch.Size([2, 3])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..adc import engine
from ..adc.converters import Converter, Ideal, Mtj, Sparse, converter
from ..adc.crossbar import Crossbar
from ..errors import ConfigError

__all__ = ["IMCConv2d", "IMCLinear", "TorchOps", "imc_layers", "imc_network", "set_samples",
           "to_imc"]

_DEFAULT_CLIP = {"adc": 3.0, "mtj": 1.0}
STE = ("slope", "identity")
ENGINES = ("auto", "kernel", "torch")


class TorchOps(engine.Ops):
    """The engine's adapter for torch tensors on one device."""

    def __init__(self, device: torch.device):
        self.device = device

    def arange(self, n: int) -> torch.Tensor:
        return torch.arange(n, dtype=torch.int64, device=self.device)

    def asarray(self, a: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(a, device=self.device)

    def int64(self, a: Any) -> torch.Tensor:
        return a.to(torch.int64)

    def float32(self, a: Any) -> torch.Tensor:
        return a.to(torch.float32)

    def zeros_int64(self, shape: tuple[int, ...]) -> torch.Tensor:
        return torch.zeros(shape, dtype=torch.int64, device=self.device)

    def permute(self, a: Any, axes: tuple[int, ...]) -> torch.Tensor:
        return a.permute(*axes).contiguous()

    def pad_rows(self, a: Any, pad: int, axis: int) -> torch.Tensor:
        if pad == 0:
            return a
        shape = list(a.shape)
        shape[axis] = pad
        return torch.cat([a, a.new_zeros(shape)], dim=axis)

    def stack(self, items: list[Any]) -> torch.Tensor:
        return torch.stack(items)

    def where(self, cond: Any, a: Any, b: Any) -> torch.Tensor:
        return torch.where(cond, a, b)


def _kernel_for(device: torch.device, choice: str) -> Any:
    """The compiled kernel module where it applies (CPU tensors, numba installed), else
    None."""
    if choice == "torch" or device.type != "cpu":
        if choice == "kernel":
            raise ConfigError(f"engine 'kernel' runs on the CPU only (tensors on {device})")
        return None
    try:
        from ..adc import kernel
    except ImportError:
        if choice == "kernel":
            raise ConfigError("engine 'kernel' needs numba: pip install 'actc[torch]'"
                              ) from None
        return None
    kernel.set_threads(torch.get_num_threads())
    return kernel


class _Plan:
    """One forward's integer operands on the crossbar; the slices, the skip flags and the
    chunks of the batch the generic engine (and the backward) walks, made when asked."""

    def __init__(self, xi: torch.Tensor, wi: torch.Tensor, xb: Crossbar):
        self.xb, self.xi, self.wi = xb, xi, wi
        self.ops = TorchOps(xi.device)
        self.B, self.O = xi.shape[0], wi.shape[1]
        self.J, self.S = xb.input_slices, xb.weight_slices
        self.R, self.rows = xb.subarrays(xi.shape[1]), xb.rows
        self.step = max(1, engine.CHUNK // max(1, self.R * self.J * self.S * self.O))
        self._slices: tuple[torch.Tensor, ...] | None = None

    def _made(self) -> tuple[torch.Tensor, ...]:
        if self._slices is None:
            xs, wt = engine.slices(self.ops, self.xi, self.wi, self.xb)  # (J,R,B,rows),
            xz, wz = engine.skip_flags(xs, wt)  # (R,rows,S,O)
            self._slices = (xs, wt, xz, wz, wt.reshape(self.R, self.rows, self.S * self.O))
        return self._slices

    @property
    def xs(self) -> torch.Tensor:
        return self._made()[0]

    @property
    def wt(self) -> torch.Tensor:
        return self._made()[1]

    @property
    def xz(self) -> torch.Tensor:
        return self._made()[2]

    @property
    def wz(self) -> torch.Tensor:
        return self._made()[3]

    def chunks(self) -> Any:
        for b0 in range(0, self.B, self.step):
            yield b0, min(self.B, b0 + self.step)

    def partial_sums(self, b0: int, b1: int) -> torch.Tensor:
        """ps (R, J * rows_in_chunk, S * O) float32, exact."""
        xc = self.xs[:, :, b0:b1].permute(1, 0, 2, 3).reshape(self.R, -1, self.rows)
        return torch.bmm(xc, self._made()[4])

    def ref(self, b0: int, b1: int) -> torch.Tensor | None:
        if not self.xb.offset:
            return None
        return self.xs[:, :, b0:b1].sum(-1).permute(1, 0, 2) * self.xb.ref_cell  # (R, J, b)

    def mask_count(self, mode: str, ps: torch.Tensor | None = None) -> torch.Tensor:
        """Conversions not skipped per input slice (J,), float64."""
        if mode == "none":
            return torch.full((self.J,), float(self.R * self.B * self.S * self.O),
                              dtype=torch.float64, device=self.xi.device)
        if mode == "stoxnet":
            assert ps is not None
            return (ps != 0).reshape(self.R, self.J, -1).sum((0, 2)).to(torch.float64)
        live_x = (~self.xz).sum(2).to(torch.float64)  # (J, R)
        live_w = (~self.wz).sum((1, 2)).to(torch.float64)  # (R,)
        return (live_x * live_w[None, :]).sum(1)


def _slope(ps: torch.Tensor, conv: Converter, ste: str) -> torch.Tensor:
    """d E[ps_hat] / d ps of integer-valued partial sums through a bound converter (the
    straight-through gradient's factor; module docstring)."""
    lo, hi = float(conv.lo), float(conv.hi)  # type: ignore[arg-type]
    if isinstance(conv, Sparse):
        low = -(1 << (conv.bits - 1)) if lo < 0 else 0
        k = torch.floor(ps / conv.step + 0.5)
        inside = (k >= low) & (k <= low + (1 << conv.bits) - 1)
        return inside.to(ps.dtype)
    inside = ((ps >= lo) & (ps <= hi)).to(ps.dtype)
    if isinstance(conv, Mtj) and ste == "slope":
        x = ((2 * ps - (lo + hi)) / (hi - lo)).clamp(-1, 1)
        p = torch.sigmoid(conv.k * (x - conv.x0))
        return inside * (2 * conv.k) * p * (1 - p)
    return inside


class _CrossbarMatmul(torch.autograd.Function):
    """y (batch, out) = lsb * (the crossbar's integer result) of integer-valued xq @ wq, with
    the straight-through gradient (module docstring)."""

    @staticmethod
    def forward(ctx: Any, xq: torch.Tensor, wq: torch.Tensor, layer: _IMC) -> torch.Tensor:
        xi = xq.detach().round().to(torch.int64)
        wi = wq.detach().round().to(torch.int64)
        plan = _Plan(xi, wi, layer.crossbar)
        convs = layer._converters(plan)
        acc = layer._run(plan, convs)
        lsb = min(c.decode.lsb for c in convs)
        ctx.save_for_backward(xi, wi)
        ctx.layer, ctx.convs = layer, convs
        return (acc.to(torch.float64) * lsb).to(xq.dtype)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> Any:
        xi, wi = ctx.saved_tensors
        layer, convs = ctx.layer, ctx.convs
        xb = layer.crossbar
        plan = _Plan(xi, wi, xb)
        J, R, S, N, rows = plan.J, plan.R, plan.S, plan.O, plan.rows
        g = grad.to(torch.float32)
        cb, db = xb.cell_bits, xb.dac_bits
        sshift = torch.tensor([2.0 ** (s * cb) for s in range(S)], device=g.device)
        jshift = torch.tensor([2.0 ** (j * db) for j in range(J)], device=g.device)
        wsh = (plan.wt * sshift[None, None, :, None]).reshape(R, rows, S * N)
        gx = torch.zeros(R, plan.B, rows, device=g.device)
        gw = torch.zeros(R, rows, N, device=g.device)
        for b0, b1 in plan.chunks():
            ps = plan.partial_sums(b0, b1).reshape(R, J, b1 - b0, S, N)
            slope = torch.stack([_slope(ps[:, j], c, layer.ste) for j, c in enumerate(convs)],
                                dim=1)
            gs = slope * g[b0:b1].reshape(1, 1, b1 - b0, 1, N)  # (R, J, b, S, O)
            a = gs.sum(1).reshape(R, b1 - b0, S * N) / J
            gx[:, b0:b1] = torch.bmm(a, wsh.transpose(1, 2))
            c = (gs.sum(3) / S) * jshift[None, :, None, None]  # (R, J, b, O)
            xc = plan.xs[:, :, b0:b1].permute(1, 0, 2, 3).reshape(R, -1, rows)
            gw += torch.bmm(xc.transpose(1, 2), c.reshape(R, -1, N))
            ref = plan.ref(b0, b1)
            if ref is not None:
                rslope = torch.stack([_slope(ref[:, j], cv, layer.ste)
                                      for j, cv in enumerate(convs)], dim=1)  # (R, J, b)
                k = (2.0 ** (xb.ref_slice * cb)) * xb.ref_cell / J
                gx[:, b0:b1] -= (k * rslope.sum(1) * g[b0:b1].sum(1)[None, :])[..., None]
        n = xi.shape[1]
        grad_x = gx.permute(1, 0, 2).reshape(plan.B, R * rows)[:, :n]
        grad_w = gw.reshape(R * rows, N)[:n]
        return grad_x.to(grad.dtype), grad_w.to(grad.dtype), None


class _IMC(nn.Module):
    """What IMCLinear and IMCConv2d share: the crossbar, the converter, the quantisers, the
    calibration buffers and the engine."""

    act_max: torch.Tensor
    ps_rms: torch.Tensor

    def _setup(self, conv: str | Converter, rows: int, cell_bits: int, dac_bits: int,
               weight_bits: int, input_bits: int, scheme: str, clip: str | float | None,
               seed: int, momentum: float, zero_skip: str = "hardware",
               slice_clips: bool = True, ste: str = "slope", engine_: str = "auto") -> None:
        self.crossbar = Crossbar.from_scheme(scheme, rows=rows, cell_bits=cell_bits,
                                             dac_bits=dac_bits, weight_bits=weight_bits,
                                             input_bits=input_bits, zero_skip=zero_skip)
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
        if ste not in STE:
            raise ConfigError(f"ste {ste!r}: use {' or '.join(STE)}")
        if engine_ not in ENGINES:
            raise ConfigError(f"engine {engine_!r}: use {', '.join(ENGINES)}")
        self.clip = clip
        self.slice_clips = bool(slice_clips)
        self.ste = ste
        self.engine = engine_
        self.momentum = momentum
        self.samples: int | None = None  # mtj: per-layer T (inhomogeneous sampling)
        self.generator = torch.Generator().manual_seed(seed)
        self.register_buffer("act_max", torch.zeros(()))
        self.register_buffer("ps_rms", torch.zeros(self.crossbar.input_slices))
        self.last_conversions = 0  # conversions per sample in the last forward
        self.last_clamped = 0.0  # fraction of converted partial sums outside the range
        self.last_stats: dict[str, Any] = {}  # skipped conversions of the last forward
        self.recording = False  # ideal layers: record last_stats too (imc_network)

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

    # --- the converters ---------------------------------------------------------------------
    def _base(self) -> Converter:
        c = self.converter
        if isinstance(c, Mtj) and self.samples is not None:
            c = converter(f"mtj:{self.samples}", k=c.k, x0=c.x0)
        return c

    def _calibrated(self) -> bool:
        c = self.converter
        return not (c.bound or self.clip == "full" or isinstance(c, (Ideal, Sparse)))

    def _converters(self, plan: _Plan) -> list[Converter]:
        """The bound converter of each input slice: the crossbar's range, the converter's
        own, or the calibrated clips (updating the running RMS in training)."""
        c = self._base()
        xb = self.crossbar
        if not self._calibrated():
            return [xb.bind(c)] * xb.input_slices
        if self.training or float(self.ps_rms.sum()) == 0:
            rms = self._batch_rms(plan)
            if self.training and float(self.ps_rms.sum()) > 0:
                self.ps_rms.mul_(1 - self.momentum).add_(self.momentum * rms)
            else:
                self.ps_rms.copy_(rms)
        lo, _ = xb.ps_range
        level = self.ps_rms.detach().to(torch.float64).cpu().numpy()
        z = float(self.clip)
        if self.slice_clips:
            top = max(float(level.max()), 1e-6)
            clips = []
            for v in level:
                e = 0 if v <= 0 else min(30, max(0, round(math.log2(top / float(v)))))
                clips.append(z * top / (1 << e))
        else:
            clips = [max(z * float(np.sqrt((level**2).mean())), 1e-6)] * xb.input_slices
        return [converter(c, lo=(-v if lo < 0 else 0.0), hi=v) for v in clips]

    def _batch_rms(self, plan: _Plan) -> torch.Tensor:
        """Per input slice, the RMS of the partial sums the converters see (skipped ones
        left out; all of them for zero_skip none), from this batch."""
        mode = self.crossbar.zero_skip
        fast = _kernel_for(plan.xi.device, self.engine)
        if fast is not None:
            sq_np, count_np = fast.partial_sum_stats(plan.xi.numpy(), plan.wi.numpy(),
                                                     self.crossbar, mode)
            sq, count = torch.from_numpy(sq_np), torch.from_numpy(count_np)
        else:
            sq = torch.zeros(plan.J, dtype=torch.float64, device=plan.xi.device)
            count = torch.zeros(plan.J, dtype=torch.float64, device=plan.xi.device)
            for b0, b1 in plan.chunks():
                ps = plan.partial_sums(b0, b1).reshape(plan.R, plan.J, -1)
                sq += ps.to(torch.float64).pow(2).sum((0, 2))
                if mode == "stoxnet":
                    count += plan.mask_count(mode, ps)
            if mode != "stoxnet":
                count = plan.mask_count(mode)
        if not self.slice_clips:  # one RMS for every slice
            return torch.full_like(sq, float((sq.sum() / count.sum().clamp(min=1)).sqrt()))
        return (sq / count.clamp(min=1)).sqrt().to(self.ps_rms.device)

    # --- the engine -------------------------------------------------------------------------
    def _run(self, plan: _Plan, convs: Sequence[Converter]) -> torch.Tensor:
        """The combined integer result (batch, out) int64 through the engine, in units of
        the smallest lsb; records the skip statistics."""
        xb = self.crossbar
        mode = xb.zero_skip
        lo, hi = xb.ps_range
        tables = [engine.conversion_table(c, int(lo), int(hi)) for c in convs]
        key = 0
        if any(t.samples for t in tables):
            key = int(torch.randint(0, 1 << 62, (1,), generator=self.generator))
        fast = _kernel_for(plan.xi.device, self.engine)
        ratios = engine.lsb_ratios(convs)
        if fast is not None:
            y_np, stats = fast.crossbar_numba(plan.xi.numpy(), plan.wi.numpy(), xb, mode,
                                              tables, ratios, engine.ranges(convs), key)
            if self.training:
                self.last_clamped = stats["clamped"]
            self._record(plan, stats)
            return torch.from_numpy(y_np)
        y = torch.empty((plan.J, plan.B, plan.O), dtype=torch.int64, device=plan.xi.device)
        clamped = 0.0
        for b0, b1 in plan.chunks():
            ps = plan.partial_sums(b0, b1)
            y[:, b0:b1] = engine.convert_accumulate(
                plan.ops, ps.reshape(plan.R, plan.J, b1 - b0, plan.S, plan.O),
                plan.ref(b0, b1), plan.xz[:, :, b0:b1], plan.wz, mode, tables, key, b0,
                plan.B, xb)
            if self.training:
                v = ps.reshape(plan.R, plan.J, -1)
                for j, (lo_j, hi_j) in enumerate(engine.ranges(convs)):
                    clamped += float(((v[:, j] < lo_j) | (v[:, j] > hi_j)).sum())
        if self.training:
            self.last_clamped = clamped / max(1, plan.R * plan.J * plan.B * plan.S * plan.O)
        self._record(plan)
        acc = torch.zeros((plan.B, plan.O), dtype=torch.int64, device=y.device)
        for j in range(plan.J):
            acc += (y[j] * ratios[j]) << (j * xb.dac_bits)
        return acc

    def _record(self, plan: _Plan, stats: dict | None = None) -> None:
        """``last_stats``: conversions of the last forward, the fraction of (sub-array, row)
        reads whose input slice is all zero (per slice) and of weight-slice columns all
        zero on their sub-array (from the kernel's pass, or the plan's flags)."""
        total = plan.R * plan.J * plan.B * plan.S * plan.O
        if stats is None:
            stats = {"input_zero": [float(v) for v in plan.xz.to(torch.float64).mean((1, 2))],
                     "column_zero": float(plan.wz.to(torch.float64).mean())}
        self.last_stats = {"conversions": total, "input_zero": stats["input_zero"],
                           "column_zero": stats["column_zero"]}

    def _imc_matmul(self, xq: torch.Tensor, wq: torch.Tensor) -> torch.Tensor:
        """The crossbar result (float, integer-valued times the converter's lsb) of
        integer-valued xq (batch, in) @ wq (in, out), with the straight-through gradient."""
        xb = self.crossbar
        batch, n = xq.shape
        out = wq.shape[1]
        r = xb.subarrays(n)
        J, S = xb.input_slices, xb.weight_slices
        self.last_conversions = r * J * (S * out + (1 if xb.offset else 0))
        c = self._base()
        if isinstance(c, Ideal) and not c.bound and c.clip is None:
            if self.recording:  # the statistics need the slices; the result does not
                self._record(_Plan(xq.detach().round().to(torch.int64),
                                   wq.detach().round().to(torch.int64), xb))
            return xq @ wq  # every partial sum exact: the sum of the slices is the matmul
        y: torch.Tensor = _CrossbarMatmul.apply(xq, wq, self)
        return y

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
                f"clip={self.clip}, zero_skip={xb.zero_skip}")


_DOC_OPTIONS = """``zero_skip`` (``hardware``, ``stoxnet``, ``none``: README "The crossbar
    mapping"), ``slice_clips`` (one calibrated range per input slice), ``ste`` (``slope``
    or ``identity``), ``engine`` (``auto``: the compiled kernel on CPU tensors when numba is
    installed, else torch; ``kernel`` or ``torch`` to force one: they give the same
    results)."""


class IMCLinear(_IMC):
    """A drop-in ``nn.Linear`` whose matmul runs through the crossbar model (see the module
    docstring). Inputs should be non-negative (after a ReLU): they are quantised to unsigned
    codes. Options beyond ``nn.Linear``'s: the crossbar's, ``converter``, ``clip``, ``seed``,
    ``momentum``, and """ + _DOC_OPTIONS

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *,
                 converter: str | Converter = "ideal", rows: int = 128, cell_bits: int = 1,
                 dac_bits: int = 1, weight_bits: int = 4, input_bits: int = 4,
                 scheme: str = "differential", clip: str | float | None = None, seed: int = 0,
                 momentum: float = 0.1, zero_skip: str = "hardware", slice_clips: bool = True,
                 ste: str = "slope", engine: str = "auto"):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        self._setup(converter, rows, cell_bits, dac_bits, weight_bits, input_bits, scheme, clip,
                    seed, momentum, zero_skip, slice_clips, ste, engine)

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        shape = a.shape
        y = self._forward_matrix(a.reshape(-1, shape[-1]), self.weight.t())
        if self.bias is not None:
            y = y + self.bias
        return y.reshape(*shape[:-1], self.out_features)


class IMCConv2d(_IMC):
    """A drop-in ``nn.Conv2d`` (groups 1): im2col rows (in_channels x kernel^2, channel
    major) on the crossbar, one column per output channel and weight slice. Options as
    ``IMCLinear``'s."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple,
                 stride: int | tuple = 1, padding: int | tuple = 0, bias: bool = True, *,
                 converter: str | Converter = "ideal", rows: int = 128, cell_bits: int = 1,
                 dac_bits: int = 1, weight_bits: int = 4, input_bits: int = 4,
                 scheme: str = "differential", clip: str | float | None = None, seed: int = 0,
                 momentum: float = 0.1, zero_skip: str = "hardware", slice_clips: bool = True,
                 ste: str = "slope", engine: str = "auto"):
        super().__init__()
        k = nn.modules.utils._pair(kernel_size)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride = k, nn.modules.utils._pair(stride)
        self.padding = nn.modules.utils._pair(padding)
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, *k))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        self._setup(converter, rows, cell_bits, dac_bits, weight_bits, input_bits, scheme, clip,
                    seed, momentum, zero_skip, slice_clips, ste, engine)

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
        self._pixels = oh * ow
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


@torch.no_grad()
def imc_network(model: nn.Module, inputs: torch.Tensor) -> list[dict]:
    """The IMC layers of ``model`` as ``actc adc cost --network`` layers, with the zero
    fractions measured on ``inputs`` (one eval-mode forward): per layer its shape and
    ``zero_inputs`` (per input slice, the fraction of (sub-array, row) reads whose input
    slice is all zero) and ``zero_columns`` (the fraction of weight-slice columns that are
    all zero on their sub-array). Write it with ``json.dump`` and pass the file to ``actc adc
    cost``; the cost model credits the skipped conversions with these fractions.

    >>> import torch
    >>> m = torch.nn.Sequential(IMCLinear(64, 8, rows=32))
    >>> [sorted(d) for d in imc_network(m, torch.rand(4, 64))][0][:3]
    ['digital', 'in', 'kind']
    """
    was = model.training
    layers = imc_layers(model)
    model.eval()
    for layer in layers:
        layer.recording = True
    try:
        model(inputs)
    finally:
        model.train(was)
        for layer in layers:
            layer.recording = False
    out = []
    for i, layer in enumerate(imc_layers(model)):
        s = layer.last_stats
        common = {"name": f"imc{i}", "digital": False, "zero_inputs": s["input_zero"],
                  "zero_columns": s["column_zero"]}
        if isinstance(layer, IMCConv2d):
            out.append({**common, "kind": "conv", "in": layer.in_channels,
                        "out": layer.out_channels, "kernel": layer.kernel_size[0],
                        "out_size": int(round(math.sqrt(layer._pixels)))})
        else:
            assert isinstance(layer, IMCLinear)
            out.append({**common, "kind": "linear", "in": layer.in_features,
                        "out": layer.out_features})
    return out


def to_imc(model: nn.Module, converter: str | Converter = "ideal", *, keep_first: bool = True,
           keep_last: bool = True, **config: Any) -> nn.Module:
    """Replace the model's ``nn.Linear`` and ``nn.Conv2d`` layers (groups 1) by IMC layers
    with the same weights, in place; the first and last stay full precision unless
    ``keep_first``/``keep_last`` are False (StoX-Net keeps them). ``config``: the layers'
    options (rows, cell_bits, ..., clip, seed, zero_skip, slice_clips, ste, engine).
    Returns the model."""
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

