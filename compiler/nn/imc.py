"""In-memory-computing layers for PyTorch: ``IMCLinear`` and ``IMCConv2d`` compute their
matmul through ``actc.adc``'s crossbar engine (bit slices, sub-arrays, a converter per
partial sum, skipped conversions, digital shift-and-add: ``actc.adc.engine``, the same
semantics and random stream as ``Crossbar.matmul``) and train with a straight-through
gradient across the conversion (PS-quantisation-aware training, StoX-Net style).

Quantisation (docs/reference/adc.md: actc.nn IMC layers):

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

import dataclasses
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
from .layers import _conv_settings, _copy_parameters, _Im2col

__all__ = ["IMCConv2d", "IMCLinear", "TorchOps", "imc_layers", "imc_network", "set_samples",
           "to_imc"]

_DEFAULT_CLIP = {"adc": 3.0, "mtj": 1.0}
STE = ("slope", "identity")
ENGINES = ("auto", "kernel", "torch")
_STATE_FORMAT = 1


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
    def forward(ctx: Any, xq: torch.Tensor, wq: torch.Tensor, layer: _IMC, plan: _Plan,
                convs: list[Converter]) -> torch.Tensor:
        acc = layer._run(plan, convs)
        lsb = min(c.decode.lsb for c in convs)
        ctx.save_for_backward(plan.xi, plan.wi)
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
        return grad_x.to(grad.dtype), grad_w.to(grad.dtype), None, None, None


class _IMC(nn.Module):
    """What IMCLinear and IMCConv2d share: the crossbar, the converter, the quantisers, the
    calibration (buffers and the ``actc.nn.calibrate`` protocol), the state and the
    engine."""

    act_max: torch.Tensor
    ps_rms: torch.Tensor
    weight: torch.Tensor
    groups: int

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
        device = self.weight.device
        self.register_buffer("act_max", torch.zeros((), device=device))
        self.register_buffer("ps_rms", torch.zeros(self.crossbar.input_slices, device=device))
        self.calibration: str | None = None  # how the ranges were last set
        self._clips_next = False  # recalibrate_clips(): the next forward sets the clips
        self._cal: dict[str, Any] | None = None  # between calibration_begin and _end
        self.last_conversions = 0  # conversions per sample in the last forward
        self.last_clamped = 0.0  # fraction of converted partial sums outside the range
        self.last_stats: dict[str, Any] = {}  # skipped conversions of the last forward
        self.recording = False  # ideal layers: record last_stats too (imc_network)

    @property
    def calibrated(self) -> bool:
        """Whether the layer can be evaluated: its input range is set and, when its
        converter's range is calibrated from data (``clip`` a number), so are its
        partial-sum ranges (by ``actc.nn.calibrate``, a training-mode forward or a state
        dict)."""
        return float(self.act_max) > 0 and (not self._clips_from_data()
                                            or float(self.ps_rms.sum()) > 0)

    def _uncalibrated(self, what: str) -> RuntimeError:
        return RuntimeError(f"{type(self).__name__} has no {what} yet: run "
                            "actc.nn.calibrate(model, batches) (or train the model) before "
                            "evaluating it")

    # --- quantisers -------------------------------------------------------------------------
    def _quantize_input(self, a: torch.Tensor,
                        act_max: torch.Tensor | None = None) -> tuple[torch.Tensor, Any]:
        """Codes (straight-through) and scale of the input: the range updated in training,
        required in eval; ``act_max`` given: that range, nothing updated."""
        top = (1 << self.crossbar.input_bits) - 1
        if act_max is not None:
            pass
        elif self.training:
            m = a.detach().max().clamp(min=1e-8)
            if self.act_max.item() == 0:
                self.act_max.copy_(m)
            else:
                self.act_max.mul_(1 - self.momentum).add_(self.momentum * m)
            self.calibration = "training"
        elif self.act_max.item() == 0:
            raise self._uncalibrated("input range")
        limit = self.act_max if act_max is None else act_max
        if limit.dtype in (torch.float16, torch.bfloat16):  # a half model: a float32 step
            limit = limit.float()
        scale = limit / top
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

    def _clips_from_data(self) -> bool:
        """Whether the converter's range is calibrated from data (``clip`` a number times
        the RMS partial sum), rather than the converter's own or the crossbar's."""
        c = self.converter
        return not (c.bound or self.clip == "full" or isinstance(c, (Ideal, Sparse)))

    def _converters(self, *plans: _Plan) -> list[Converter]:
        """The bound converter of each input slice: the crossbar's range, the converter's
        own, or the calibrated clips (updating the running RMS in training, from every
        plan: a grouped convolution's groups share the clips)."""
        c = self._base()
        xb = self.crossbar
        if not self._clips_from_data():
            return [xb.bind(c)] * xb.input_slices
        if self.training or self._clips_next:
            rms = self._rms(*self._ps_stats(*plans))
            if self.training and float(self.ps_rms.sum()) > 0:
                self.ps_rms.mul_(1 - self.momentum).add_(self.momentum * rms)
            else:
                self.ps_rms.copy_(rms)
            self._clips_next = False
            self.calibration = "training" if self.training else "recalibrate_clips"
        elif float(self.ps_rms.sum()) == 0:
            raise self._uncalibrated("partial-sum ranges")
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

    def _ps_stats(self, *plans: _Plan) -> tuple[torch.Tensor, torch.Tensor]:
        """Per input slice, the sum of squares and the count of the partial sums the
        converters see (skipped ones left out; all of them for zero_skip none), float64."""
        mode = self.crossbar.zero_skip
        sq_all = count_all = None
        for plan in plans:
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
            sq_all = sq if sq_all is None else sq_all + sq
            count_all = count if count_all is None else count_all + count
        assert sq_all is not None and count_all is not None
        return sq_all, count_all

    def _rms(self, sq: torch.Tensor, count: torch.Tensor) -> torch.Tensor:
        """Per input slice, the RMS partial sum (one for every slice without
        ``slice_clips``)."""
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

    def _imc_matmul(self, xq: torch.Tensor, wq: torch.Tensor, groups: int = 1) -> torch.Tensor:
        """The crossbar result (float, integer-valued times the converter's lsb) of
        integer-valued xq (batch, groups * in) @ wq (in, out), with the straight-through
        gradient. Each of the ``groups`` (a grouped convolution's) is its own matrix on its
        own sub-arrays: group g's rows xq[:, g*in:(g+1)*in] meet the columns
        wq[:, g*out/groups:(g+1)*out/groups]; the groups share the converters' ranges."""
        xb = self.crossbar
        n = xq.shape[1] // groups
        per = wq.shape[1] // groups
        xs = [xq[:, g * n:(g + 1) * n] for g in range(groups)] if groups > 1 else [xq]
        ws = [wq[:, g * per:(g + 1) * per] for g in range(groups)] if groups > 1 else [wq]
        J, S = xb.input_slices, xb.weight_slices
        self.last_conversions = groups * xb.subarrays(n) * J * (
            S * per + (1 if xb.offset else 0))
        c = self._base()
        if isinstance(c, Ideal) and not c.bound and c.clip is None:
            if self.recording:  # the statistics need the slices; the result does not
                self._record_all([_Plan(_codes(x), _codes(w), xb) for x, w in zip(xs, ws)])
            # every partial sum exact: the sum of the slices is the matmul
            return xq @ wq if groups == 1 else torch.cat([x @ w for x, w in zip(xs, ws)], 1)
        plans = [_Plan(_codes(x), _codes(w), xb) for x, w in zip(xs, ws)]
        convs = self._converters(*plans)
        out, clamped, stats = [], 0.0, []
        for x, w, plan in zip(xs, ws, plans):
            y: torch.Tensor = _CrossbarMatmul.apply(x, w, self, plan, convs)
            out.append(y)
            clamped += self.last_clamped / groups
            stats.append(self.last_stats)
        if groups == 1:
            return out[0]
        if self.training:
            self.last_clamped = clamped
        self.last_stats = _combined(stats)
        return torch.cat(out, 1)

    def _record_all(self, plans: list[_Plan]) -> None:
        stats = []
        for plan in plans:
            self._record(plan)
            stats.append(self.last_stats)
        self.last_stats = stats[0] if len(stats) == 1 else _combined(stats)

    def _forward_matrix(self, a: torch.Tensor, weight: torch.Tensor,
                        groups: int = 1) -> torch.Tensor:
        """a (batch, groups * in) through the crossbar with weight (in, out); real-valued
        output. Half-precision inputs run in float32 (the result is rounded once)."""
        if a.dtype in (torch.float16, torch.bfloat16):
            return self._forward_matrix(a.float(), weight.float(), groups).to(a.dtype)
        xq, sa = self._quantize_input(a)
        wq, sw = self._quantize_weight(weight)
        return self._imc_matmul(xq, wq, groups) * sa * sw

    def _float_forward(self, a: torch.Tensor) -> torch.Tensor:  # pragma: no cover - per class
        raise NotImplementedError

    def _matrix_input(self, a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The crossbar's rows (M, groups * in) for input a and the weight matrix (in,
        out)."""
        raise NotImplementedError  # pragma: no cover - per class

    # --- the calibration protocol (actc.nn.calibrate) -----------------------------------------
    def calibration_begin(self, make_observer: Any) -> None:
        """Enter calibration: the forward returns the float (unquantised) output; in the
        first pass it feeds the input (negative values read as 0, as the unsigned input
        codes do) to an observer; when the converter's range is calibrated from data, a
        second pass (``calibration_next``) sums the squares of the partial sums the
        converters see at the new input range."""
        self._cal = {"observer": make_observer(), "act_max": None, "sq": None, "count": None}

    def calibration_passes(self) -> int:
        """Passes over the batches this layer needs: 2 when its partial-sum ranges are
        calibrated (they depend on the input range of the first), else 1."""
        return 2 if self._clips_from_data() else 1

    def calibration_next(self) -> None:
        """Between the passes: fix the input range the second pass quantises with
        (``ValueError`` when the layer saw no non-zero input)."""
        cal = self._require_cal()
        top = (1 << self.crossbar.input_bits) - 1
        cal["act_max"] = torch.tensor(cal["observer"].clip(top), dtype=self.act_max.dtype,
                                      device=self.act_max.device)

    def calibration_values(self) -> dict[str, float]:
        """What calibration would set: ``input_max`` (the input range) and, when the
        converter's range is calibrated, ``ps_rms.j``, the RMS partial sum of input slice j
        (each converter's range is ``clip`` times it, rounded as in training)."""
        cal = self._require_cal()
        top = (1 << self.crossbar.input_bits) - 1
        values = {"input_max": float(cal["act_max"]) if cal["act_max"] is not None
                  else cal["observer"].clip(top)}
        if self._clips_from_data():
            if cal["sq"] is None or float(cal["sq"].sum()) == 0:
                raise ValueError("saw no non-zero partial sum during calibration: give "
                                 "batches that reach it (and calibrate() both passes)")
            rms = self._rms(cal["sq"], cal["count"])
            values.update({f"ps_rms.{j}": float(v) for j, v in enumerate(rms)})
        return values

    def calibration_end(self, values: dict[str, float] | None) -> None:
        """Leave calibration; set ``values`` (from ``calibration_values``) when given."""
        cal, self._cal = self._require_cal(), None
        if values is not None:
            with torch.no_grad():
                self.act_max.fill_(values["input_max"])
                if self._clips_from_data():
                    self.ps_rms.copy_(torch.tensor(
                        [values[f"ps_rms.{j}"] for j in range(self.crossbar.input_slices)]))
            self.calibration = cal["observer"].spec
            self._clips_next = False

    def _require_cal(self) -> dict[str, Any]:
        if self._cal is None:
            raise RuntimeError("the calibration protocol's methods are for actc.nn.calibrate, "
                               "between calibration_begin and calibration_end")
        return self._cal

    def _calibration_forward(self, a: torch.Tensor) -> torch.Tensor:
        cal = self._require_cal()
        if cal["act_max"] is None:
            cal["observer"].observe(a.detach().clamp(min=0))
        elif self._clips_from_data():
            rows, weight = self._matrix_input(a.detach())
            xq, _ = self._quantize_input(rows, cal["act_max"])
            wq, _ = self._quantize_weight(weight.detach())
            n, per = xq.shape[1] // self.groups, wq.shape[1] // self.groups
            plans = [_Plan(_codes(xq[:, g * n:(g + 1) * n]),
                           _codes(wq[:, g * per:(g + 1) * per]), self.crossbar)
                     for g in range(self.groups)]
            sq, count = self._ps_stats(*plans)
            cal["sq"] = sq if cal["sq"] is None else cal["sq"] + sq
            cal["count"] = count if cal["count"] is None else cal["count"] + count
        return self._float_forward(a)

    def recalibrate_clips(self) -> None:
        """Let the next forward (in eval mode too) set the partial-sum ranges from its own
        batch, at the layer's current input range, then keep them: after swapping the
        converter of a trained layer, with the ranges of the IMC network's own activations
        (each layer's clips set before it converts). ``actc.nn.calibrate`` is the usual
        way; this is the one-batch shortcut.

        >>> import torch
        >>> layer = IMCLinear(32, 4, converter="mtj:4", rows=16)
        >>> _ = layer(torch.rand(8, 32))  # training mode: input range and clips
        >>> from actc.adc import converter
        >>> layer.converter = converter("mtj:8")  # another converter, the same weights
        >>> layer.recalibrate_clips(); _ = layer.eval()(torch.rand(8, 32))
        >>> layer.calibrated
        True
        """
        with torch.no_grad():
            self.ps_rms.zero_()
        self._clips_next = self._clips_from_data()

    # --- state ------------------------------------------------------------------------------
    def _settings(self) -> dict[str, Any]:
        """What must match for a state dict to load: the converter (spec and parameters),
        the crossbar, the clip rule."""
        return {"converter": _plain(self.converter.to_json()),
                "crossbar": _plain(dataclasses.asdict(self.crossbar)),
                "clip": self.clip, "slice_clips": self.slice_clips}

    def _settings_text(self) -> str:
        xb = self.crossbar
        return (f"converter {self.converter.spec}, clip {self.clip}"
                f"{'' if self.slice_clips else ' (one for all slices)'}, rows {xb.rows}, "
                f"cell_bits {xb.cell_bits}, dac_bits {xb.dac_bits}, weight_bits "
                f"{xb.weight_bits}, input_bits {xb.input_bits}, scheme "
                f"{xb.scheme if xb.signed else 'unsigned'}, zero_skip {xb.zero_skip}")

    def get_extra_state(self) -> dict[str, Any]:
        """Plain data (``torch.load(..., weights_only=True)`` reads it): the settings, their
        text, the MTJ samples and how the ranges were calibrated."""
        return {"format": _STATE_FORMAT, "kind": "imc", **self._settings(),
                "text": self._settings_text(), "samples": self.samples,
                "calibration": self.calibration}

    def _check_state(self, state: Any) -> None:
        if not isinstance(state, dict) or state.get("format") != _STATE_FORMAT or \
                state.get("kind") != "imc":
            raise ValueError(f"{type(self).__name__}: the state dict's extra state is not an "
                             "actc.nn IMC layer's")
        mine = self._settings()
        if any(state.get(k) != v for k, v in mine.items()):
            raise ValueError(f"the state dict was saved with {state.get('text')}; this "
                             f"{type(self).__name__} has {self._settings_text()}: build it "
                             "with those settings before loading")

    def set_extra_state(self, state: Any) -> None:
        self._check_state(state)
        self.samples = state["samples"]
        self.calibration = state["calibration"]
        self._clips_next = False

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args: Any) -> None:
        extra = prefix + "_extra_state"
        names = (extra, prefix + "act_max", prefix + "ps_rms")
        if not any(k in state_dict for k in names):
            # a float layer's state: its weights, our settings, and no ranges
            state = self.get_extra_state()
            state["calibration"] = None
            state_dict[extra] = state
            state_dict[names[1]] = torch.zeros_like(self.act_max)
            state_dict[names[2]] = torch.zeros_like(self.ps_rms)
        elif extra in state_dict:
            self._check_state(state_dict[extra])  # before anything of this layer is copied
        super()._load_from_state_dict(state_dict, prefix, *args)

    def _describe(self) -> str:
        xb = self.crossbar
        t = f", samples={self.samples}" if self.samples is not None else ""
        return (f"converter={self.converter.spec}{t}, rows={xb.rows}, cell_bits={xb.cell_bits}"
                f", dac_bits={xb.dac_bits}, weight_bits={xb.weight_bits}, input_bits="
                f"{xb.input_bits}, scheme={'unsigned' if not xb.signed else xb.scheme}, "
                f"clip={self.clip}, zero_skip={xb.zero_skip}")


def _codes(q: torch.Tensor) -> torch.Tensor:
    """Integer-valued float codes as a contiguous int64 tensor."""
    return q.detach().round().to(torch.int64).contiguous()


def _combined(stats: list[dict[str, Any]]) -> dict[str, Any]:
    """``last_stats`` of a grouped layer: the groups have equal shapes, so the fractions
    average and the conversions add up."""
    n = len(stats)
    return {"conversions": sum(s["conversions"] for s in stats),
            "input_zero": [sum(v) / n for v in zip(*(s["input_zero"] for s in stats))],
            "column_zero": sum(s["column_zero"] for s in stats) / n}


def _plain(value: Any) -> Any:
    """Numbers as Python ints and floats (numpy or Fraction values of a converter or a
    crossbar would not load with weights_only=True)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    if isinstance(value, float):
        return value
    try:
        as_int = int(value)
        return as_int if as_int == value else float(value)
    except (TypeError, ValueError):
        return str(value)


_DOC_OPTIONS = """``zero_skip`` (``hardware``, ``stoxnet``, ``none``: docs/reference/adc.md:
    The crossbar mapping), ``slice_clips`` (one calibrated range per input slice), ``ste``
    (``slope`` or ``identity``), ``engine`` (``auto``: the compiled kernel on CPU tensors when
    numba is installed, else torch; ``kernel`` or ``torch`` to force one: they give the same
    results)."""

_CROSSBAR_OPTIONS = ("rows", "cell_bits", "dac_bits", "weight_bits", "input_bits", "scheme",
                     "clip", "seed", "momentum", "zero_skip", "slice_clips", "ste", "engine")


class IMCLinear(_IMC, nn.Linear):
    """An ``nn.Linear`` (a subclass: ``isinstance``, initialisation and optimisers see it)
    whose matmul runs through the crossbar model (see the module docstring). Inputs should
    be non-negative (after a ReLU): they are quantised to unsigned codes. Options beyond
    ``nn.Linear``'s: the crossbar's (``rows``, ``cell_bits``, ``dac_bits``, ``weight_bits``,
    ``input_bits``, ``scheme``), ``converter``, ``clip``, ``seed``, ``momentum``, and
    """ + _DOC_OPTIONS + """

    Evaluation needs the input range (and, for a converter with a calibrated range, the
    partial-sum ranges): ``actc.nn.calibrate(model, batches)`` or training-mode forwards
    set them; before that an eval-mode forward raises ``RuntimeError``.

    >>> import torch
    >>> from actc.nn import calibrate
    >>> fc = IMCLinear.from_linear(torch.nn.Linear(64, 8), "mtj:4", rows=32)
    >>> _ = calibrate(fc, torch.rand(16, 64))
    >>> isinstance(fc, torch.nn.Linear), fc.eval()(torch.rand(2, 64)).shape
    (True, torch.Size([2, 8]))
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device: Any = None, dtype: Any = None, *,
                 converter: str | Converter = "ideal", rows: int = 128, cell_bits: int = 1,
                 dac_bits: int = 1, weight_bits: int = 4, input_bits: int = 4,
                 scheme: str = "differential", clip: str | float | None = None, seed: int = 0,
                 momentum: float = 0.1, zero_skip: str = "hardware", slice_clips: bool = True,
                 ste: str = "slope", engine: str = "auto"):
        nn.Linear.__init__(self, in_features, out_features, bias, device, dtype)
        self.groups = 1
        self._setup(converter, rows, cell_bits, dac_bits, weight_bits, input_bits, scheme, clip,
                    seed, momentum, zero_skip, slice_clips, ste, engine)

    @classmethod
    def from_linear(cls, layer: nn.Linear, converter: str | Converter = "ideal",
                    **options: Any) -> IMCLinear:
        """An ``IMCLinear`` with ``layer``'s shape, device, dtype, training mode and a copy
        of its weight and bias (and whether they train); ``options`` as the constructor's.

        >>> import torch
        >>> fc = IMCLinear.from_linear(torch.nn.Linear(8, 3), "adc:4", rows=16)
        >>> fc.crossbar.rows, fc.converter.spec
        (16, 'adc:4')
        """
        new = cls(layer.in_features, layer.out_features, layer.bias is not None,
                  device=layer.weight.device, dtype=layer.weight.dtype, converter=converter,
                  **options)
        _copy_parameters(layer, new)
        return new

    def _matrix_input(self, a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return a.reshape(-1, a.shape[-1]), self.weight.t()

    def _float_forward(self, a: torch.Tensor) -> torch.Tensor:
        return F.linear(a, self.weight, self.bias)

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        if self._cal is not None:
            return self._calibration_forward(a)
        shape = a.shape
        y = self._forward_matrix(*self._matrix_input(a))
        if self.bias is not None:
            y = y + self.bias
        return y.reshape(*shape[:-1], self.out_features)

    def extra_repr(self) -> str:
        return f"{nn.Linear.extra_repr(self)}, {self._describe()}"


class IMCConv2d(_IMC, _Im2col, nn.Conv2d):
    """An ``nn.Conv2d`` (a subclass) whose im2col rows (in_channels / groups x kernel,
    channel major) run on the crossbar, one column per output channel and weight slice.
    Every ``nn.Conv2d`` option: ``stride``, ``padding`` (numbers, ``"same"``, ``"valid"``),
    ``dilation``, ``padding_mode`` (the padded values are quantised and converted like any
    other input) and ``groups``: each group is its own matrix on its own sub-arrays (a
    depthwise 3x3 uses 9 rows of each sub-array), the groups sharing the converters'
    ranges. Crossbar options as ``IMCLinear``'s.

    >>> import torch
    >>> conv = IMCConv2d.from_conv2d(torch.nn.Conv2d(4, 4, 3, padding="same", groups=2),
    ...                              "adc:6", rows=16)
    >>> conv(torch.rand(1, 4, 6, 6)).shape   # training mode: the ranges follow the data
    torch.Size([1, 4, 6, 6])
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] = 1, padding: str | int | tuple[int, int] = 0,
                 dilation: int | tuple[int, int] = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None, *,
                 converter: str | Converter = "ideal", rows: int = 128, cell_bits: int = 1,
                 dac_bits: int = 1, weight_bits: int = 4, input_bits: int = 4,
                 scheme: str = "differential", clip: str | float | None = None, seed: int = 0,
                 momentum: float = 0.1, zero_skip: str = "hardware", slice_clips: bool = True,
                 ste: str = "slope", engine: str = "auto"):
        nn.Conv2d.__init__(self, in_channels, out_channels, kernel_size, stride, padding,
                           dilation, groups, bias, padding_mode,  # type: ignore[arg-type]
                           device, dtype)
        self._setup(converter, rows, cell_bits, dac_bits, weight_bits, input_bits, scheme, clip,
                    seed, momentum, zero_skip, slice_clips, ste, engine)
        self._out_hw = (0, 0)

    @classmethod
    def from_conv2d(cls, layer: nn.Conv2d, converter: str | Converter = "ideal",
                    **options: Any) -> IMCConv2d:
        """An ``IMCConv2d`` with every setting of ``layer`` (stride, padding, dilation,
        groups, padding mode), its device, dtype, training mode and a copy of its weight and
        bias; ``options`` as the constructor's."""
        new = cls(**_conv_settings(layer), converter=converter, **options)
        _copy_parameters(layer, new)
        return new

    def _matrix_input(self, a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        padded = self._pad(a)
        self._out_hw = self._out_size(padded)
        return self._unfold(padded), self.weight.reshape(self.out_channels, -1).t()

    def _float_forward(self, a: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(a, self.weight, self.bias)

    @property
    def _pixels(self) -> int:
        return self._out_hw[0] * self._out_hw[1]

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        if self._cal is not None:
            return self._calibration_forward(a)
        n = a.shape[0]
        rows, weight = self._matrix_input(a)
        oh, ow = self._out_hw
        y = self._forward_matrix(rows, weight, self.groups)
        if self.bias is not None:
            y = y + self.bias
        self.last_conversions *= oh * ow
        return y.reshape(n, oh * ow, self.out_channels).transpose(1, 2).reshape(
            n, self.out_channels, oh, ow)

    def extra_repr(self) -> str:
        return f"{nn.Conv2d.extra_repr(self)}, {self._describe()}"


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
    >>> from actc.nn import calibrate
    >>> m = torch.nn.Sequential(IMCLinear(64, 8, rows=32))
    >>> _ = calibrate(m, torch.rand(4, 64))
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
            if layer.groups != 1 or layer._out_hw[0] != layer._out_hw[1] or \
                    layer.kernel_size[0] != layer.kernel_size[1]:
                raise ConfigError(f"imc_network: layer {i} ({layer!r}) has groups, a "
                                  "non-square kernel or a non-square output: the cost "
                                  "model's conv layers have groups 1 and square shapes")
            out.append({**common, "kind": "conv", "in": layer.in_channels,
                        "out": layer.out_channels, "kernel": layer.kernel_size[0],
                        "out_size": layer._out_hw[0]})
        else:
            assert isinstance(layer, IMCLinear)
            out.append({**common, "kind": "linear", "in": layer.in_features,
                        "out": layer.out_features})
    return out


def to_imc(model: nn.Module, converter: str | Converter = "ideal", *, keep_first: bool = True,
           keep_last: bool = True, inplace: bool = True, **options: Any) -> nn.Module:
    """Replace the model's ``nn.Linear`` and ``nn.Conv2d`` layers (module order, every
    ``nn.Conv2d`` option) by ``IMCLinear``/``IMCConv2d`` with the same settings, device,
    dtype, training mode, weights and biases (``from_linear``/``from_conv2d``); layers
    already IMC or approximate are left alone, and a ``UserWarning`` names the modules whose
    products stay exact (as ``to_approx``).

    - ``keep_first``/``keep_last`` (default True: StoX-Net keeps the first and last layers
      full precision) keep the first/last such layer as it is;
    - ``inplace`` (default True, unlike ``to_approx``: ``to_imc`` has converted in place
      since it landed, and a script that ignores the return value must keep getting the
      IMC model): False converts a deep copy and leaves ``model`` untouched;
    - ``options``: the layers' ``rows``, ``cell_bits``, ``dac_bits``, ``weight_bits``,
      ``input_bits``, ``scheme``, ``clip``, ``seed`` (layer i gets seed + i), ``momentum``,
      ``zero_skip``, ``slice_clips``, ``ste``, ``engine``.

    The converted layers must be calibrated (``actc.nn.calibrate``) or trained before
    evaluation. Returns the converted model.

    >>> import torch
    >>> from actc.nn import calibrate, imc_layers
    >>> float_model = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(),
    ...                                   torch.nn.Linear(32, 32), torch.nn.ReLU(),
    ...                                   torch.nn.Linear(32, 4))
    >>> model = to_imc(float_model, "mtj:4", rows=16, inplace=False)
    >>> [type(m).__name__ for m in model][::2]
    ['Linear', 'IMCLinear', 'Linear']
    >>> _ = calibrate(model, [torch.rand(8, 16) for _ in range(4)])
    >>> model.eval()(torch.rand(2, 16)).shape
    torch.Size([2, 4])
    """
    from .convert import convert_layers

    unknown = set(options) - set(_CROSSBAR_OPTIONS)
    if unknown:
        raise TypeError(f"to_imc got unexpected options: {', '.join(sorted(unknown))}")
    seed = int(options.pop("seed", 0))
    spec = converter

    def make(i: int, child: nn.Module) -> nn.Module:
        if isinstance(child, nn.Linear):
            return IMCLinear.from_linear(child, spec, seed=seed + i, **options)
        assert isinstance(child, nn.Conv2d)
        return IMCConv2d.from_conv2d(child, spec, seed=seed + i, **options)

    return convert_layers(model, make, keep_first=keep_first, keep_last=keep_last,
                          inplace=inplace, who="to_imc")
