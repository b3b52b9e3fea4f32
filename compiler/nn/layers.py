"""``ApproxLinear`` and ``ApproxConv2d``: ``nn.Linear`` and ``nn.Conv2d`` whose products are a
multiplier's.

Forward: the input is quantised per tensor (its range ``input_max``, see below), the weight per
output channel (or per tensor, ``per_channel=False``) to the multiplier's operand codes (the
activation is operand a, the weight operand b); the products are the multiplier's, summed
exactly in integers (``gemm.ApproxGemm``: bit-exact with the multiplier's evaluator and so
with its emitted Verilog, C and Python); the sum is scaled back and the bias added.
Backward: straight-through, the gradient of the exact product of the quantised operands.

The input range: ``actc.nn.calibrate(model, batches)`` sets it from data; a training-mode
forward keeps it as a running maximum of |x| (an exponential average with ``momentum``). A
layer evaluated before either raises ``RuntimeError`` naming ``calibrate``: an unset range
would give garbage.

``approximate = False`` (``HybridSchedule`` sets it) keeps the quantisation but takes exact
products. ``weight_transform`` (e.g. ``AlphabetQuantizer``) maps the weight codes before
they are multiplied.

The state dict holds, beside weight and bias, ``input_max`` and an extra state with the
multiplier's spec and widths, the approximate/exact mode and the calibration: loading a state
saved with another multiplier raises ``ValueError`` naming both; a plain ``nn.Linear``'s
state dict loads with ``strict=True`` (and leaves the layer to be calibrated again).

>>> import torch
>>> layer = ApproxLinear(4, 2, multiplier="drum:4")
>>> layer(torch.ones(3, 4)).shape   # training mode: the first batch sets the input range
torch.Size([3, 2])
>>> isinstance(layer, torch.nn.Linear), layer.eval()(torch.ones(1, 4)).shape
(True, torch.Size([1, 2]))
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from .engines import Widths, describe, identity, resolve, widths_of
from .gemm import exact_matmul
from .quant import EPS, channel_scale, quantize, tensor_scale

__all__ = ["ApproxConv2d", "ApproxLinear", "approximate_layers"]

_STATE_FORMAT = 1


class _CodesKey:
    """The GEMM engine's cache key for a layer's weight codes: equal exactly when the codes
    are, whatever changed the weights (``.data`` assignment, ``copy_``, an optimiser step,
    ``load_state_dict``), at the cost of one comparison of the codes per forward."""

    __slots__ = ("codes",)

    def __init__(self, codes: torch.Tensor) -> None:
        self.codes = codes

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _CodesKey):
            return NotImplemented
        a, b = self.codes, other.codes
        return a.shape == b.shape and a.device == b.device and bool(torch.equal(a, b))

    def __hash__(self) -> int:
        return hash((tuple(self.codes.shape), str(self.codes.device)))


def _uncached() -> bool:
    """Whether the forward is being traced or compiled: the graph must not capture a cache
    hit or miss, so nothing is cached."""
    return bool(torch.jit.is_tracing() or torch.compiler.is_compiling())


def _checked_transform(transform: nn.Module | None, widths: Widths) -> nn.Module | None:
    """The weight transform, refused when it declares other weight widths."""
    if transform is None:
        return None
    bits, signed = getattr(transform, "bits", None), getattr(transform, "signed", None)
    if (bits is not None and bits != widths.b_bits) or \
            (signed is not None and bool(signed) != widths.signed):
        kind = "signed" if signed else "unsigned"
        raise ValueError(f"weight_transform {transform!r} is for {bits}-bit {kind} weights; the "
                         f"layer's weights are {widths.b_bits}-bit "
                         f"{'signed' if widths.signed else 'unsigned'}")
    return transform


class _ApproxMAC(nn.Module):
    """What both layers share: the quantisers, the product engine, the exact/approximate
    switch, the calibration protocol (``actc.nn.calibrate``) and the state."""

    weight: torch.Tensor
    input_max: torch.Tensor
    engine: Any  # ApproxGemm or MRENoise: codes, method, matmul(a, b, cache_key)
    groups: int

    def _setup(self, multiplier: Any, bits: int | None, a_bits: int | None,
               b_bits: int | None, signed: bool | None, per_channel: bool, momentum: float,
               weight_transform: nn.Module | None) -> None:
        if not 0 < momentum <= 1:
            raise ValueError(f"momentum must be in (0, 1], got {momentum!r}")
        self.engine = resolve(multiplier, bits=bits, a_bits=a_bits, b_bits=b_bits,
                              signed=signed).to(self.weight.device)
        self.widths = widths_of(self.engine)
        self.weight_transform = _checked_transform(weight_transform, self.widths)
        self.per_channel = bool(per_channel)
        self.momentum = float(momentum)
        self.approximate = True
        self.calibrated = False
        self.calibration: str | None = None  # how input_max was set
        self._observer: Any = None  # set between calibration_begin and calibration_end
        self.register_buffer("input_max", torch.zeros((), device=self.weight.device))

    def _apply(self, fn: Any, recurse: bool = True) -> Any:
        """``.to()``, ``.cuda()``, ``.half()``, ...: the engine follows the device only; its
        tables and factors keep their types, as they hold exact integers (a float16 table
        would round products above 2048 and overflow their sums)."""
        modules = self._modules
        engine = modules.get("engine")
        self._modules = {k: v for k, v in modules.items() if k != "engine"}
        try:
            super()._apply(fn, recurse)
        finally:
            self._modules = modules
        if recurse and engine is not None:
            engine.to(fn(torch.zeros((), device=self.weight.device)).device)
        return self

    # --- widths and the multiplier ------------------------------------------------------------
    @property
    def a_bits(self) -> int:
        return self.widths.a_bits

    @property
    def b_bits(self) -> int:
        return self.widths.b_bits

    @property
    def signed(self) -> bool:
        return self.widths.signed

    def set_multiplier(self, multiplier: Any, *, bits: int | None = None,
                       a_bits: int | None = None, b_bits: int | None = None,
                       signed: bool | None = None) -> None:
        """Swap the multiplier (e.g. to test a network trained with one on another). The
        layer keeps its operand widths and signedness unless the arguments (or a multiplier
        that carries its own widths) say otherwise; every quantiser follows the new codes.
        An ``mse`` calibration chose the input range for the old codes: when they change,
        the layer must be calibrated again.

        >>> layer = ApproxLinear(4, 2, multiplier="drum:4", bits=6, signed=False)
        >>> layer.set_multiplier("exact"); layer.engine.codes
        (-63, 63, -63, 63)
        """
        engine: Any = resolve(multiplier, bits=bits, a_bits=a_bits, b_bits=b_bits,
                              signed=signed, default=self.widths).to(self.weight.device)
        new = widths_of(engine)
        transform = self.weight_transform
        if transform is not None and new != self.widths:
            rebuild = getattr(transform, "for_widths", None)
            if rebuild is None:
                raise ValueError(f"weight_transform {transform!r} cannot follow the weights to "
                                 f"{new.text()} codes (it has no for_widths method): set one "
                                 "for the new widths")
            transform = rebuild(new.b_bits, new.signed)
        old_top = self.engine.codes[1]
        self.engine, self.widths, self.weight_transform = engine, new, transform
        if self.calibration == "mse" and engine.codes[1] != old_top:
            self.calibrated, self.calibration = False, None

    # --- quantisers ---------------------------------------------------------------------------
    def _input_codes(self, x: torch.Tensor,
                     update: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
        """(codes, scale) of the input: its range updated in a training-mode forward,
        required otherwise."""
        a_lo, a_hi = self.engine.codes[:2]
        if self.training and update:
            m = x.detach().abs().amax().to(self.input_max.dtype)
            with torch.no_grad():
                if self.calibrated:
                    self.input_max.mul_(1 - self.momentum).add_(self.momentum * m)
                else:
                    self.input_max.copy_(m)
            self.calibrated, self.calibration = True, "training"
        elif not self.calibrated:
            raise RuntimeError(f"{type(self).__name__} has no input range yet: run "
                               "actc.nn.calibrate(model, batches) (or train the model) before "
                               "evaluating it")
        scale = (self.input_max / a_hi).clamp_min(EPS).to(x.dtype)
        return quantize(x, scale, a_lo, a_hi), scale

    def _weight_codes(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(codes, scale) of the weight, the scale shaped to broadcast against it."""
        b_lo, b_hi = self.engine.codes[2:]
        w = self.weight
        sw = channel_scale(w, b_hi) if self.per_channel else \
            tensor_scale(w, b_hi).expand(w.shape[0], *([1] * (w.dim() - 1)))
        qw = quantize(w, sw, b_lo, b_hi)
        if self.weight_transform is not None:
            qw = self.weight_transform(qw)
        return qw, sw

    # --- the integer products -----------------------------------------------------------------
    def accumulate_codes(self, qx: torch.Tensor, qw: torch.Tensor,
                         cache_key: Any = None) -> torch.Tensor:
        """The integer accumulations sum_k P(qx[m, k], qw[n, k]) (float64) of code tensors
        (qx: M x K activations, qw: N x K weights), approximate or exact as the layer is."""
        if self.approximate:
            out: torch.Tensor = self.engine.matmul(qx, qw.t(), cache_key)
            return out
        a_lo, a_hi, b_lo, b_hi = self.engine.codes
        bound = max(abs(a_lo), abs(a_hi)) * max(abs(b_lo), abs(b_hi))
        return exact_matmul(qx, qw.t(), bound)

    def _accumulate(self, rows: torch.Tensor, qw2: torch.Tensor) -> torch.Tensor:
        """The accumulators (M x N, float64) of activation code rows (M x groups*K) and
        weight codes (N x K), group by group."""
        rows, qw2 = rows.detach(), qw2.detach()
        with torch.no_grad():
            if self.groups == 1:
                key = None if self.training or _uncached() else _CodesKey(qw2)
                return self.accumulate_codes(rows, qw2, key)
            k, n = qw2.shape[1], qw2.shape[0] // self.groups
            return torch.cat([self.accumulate_codes(rows[:, g * k:(g + 1) * k],
                                                    qw2[g * n:(g + 1) * n])
                              for g in range(self.groups)], dim=1)

    def operand_codes(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The operand codes the hardware multiplies for input x: activation rows (M x
        groups*K; a convolution's im2col rows, channel-major) and weights (N x K). The input
        range is used as it is, even in training mode."""
        qx, _ = self._input_codes(x, update=False)
        qw, _ = self._weight_codes()
        return self._rows(qx).detach(), qw.reshape(qw.shape[0], -1).detach()

    def integer_output(self, x: torch.Tensor) -> torch.Tensor:
        """The layer's integer accumulations for input x (M x N, one row per output pixel
        of a convolution), as the hardware's accumulators hold them."""
        rows, qw2 = self.operand_codes(x)
        return self._accumulate(rows, qw2)

    def _straight_through(self, x: torch.Tensor) -> bool:
        """Whether the output carries the exact product's gradient: when one can flow, and
        always in a trace (its sanity check reruns without gradients: one graph for both)."""
        return torch.jit.is_tracing() or (torch.is_grad_enabled() and (
            x.requires_grad or self.weight.requires_grad))

    def _rows(self, qx: torch.Tensor) -> torch.Tensor:  # pragma: no cover - per class
        raise NotImplementedError

    # --- the calibration protocol (actc.nn.calibrate) -----------------------------------------
    def calibration_begin(self, make_observer: Any) -> None:
        """Enter calibration: the forward feeds its input to an observer and returns the
        float (unquantised) output, so later layers see the float network's values."""
        self._observer = make_observer()

    def calibration_values(self) -> dict[str, float]:
        """What calibration would set: the input range, from the observer (``ValueError``
        when the layer saw no non-zero input)."""
        if self._observer is None:
            raise RuntimeError("calibration_values() outside calibration")
        return {"input_max": self._observer.clip(self.engine.codes[1])}

    def calibration_end(self, values: dict[str, float] | None) -> None:
        """Leave calibration; set ``values`` (from ``calibration_values``) when given."""
        observer, self._observer = self._observer, None
        if values is not None:
            with torch.no_grad():
                self.input_max.fill_(values["input_max"])
            self.calibrated, self.calibration = True, observer.spec

    # --- state ----------------------------------------------------------------------------------
    def get_extra_state(self) -> dict[str, Any]:
        return {"format": _STATE_FORMAT, "multiplier": identity(self.engine),
                "text": describe(self.engine), "per_channel": self.per_channel,
                "approximate": self.approximate, "calibrated": self.calibrated,
                "calibration": self.calibration}

    def _check_state(self, state: Any) -> None:
        if not isinstance(state, dict) or state.get("format") != _STATE_FORMAT:
            raise ValueError(f"{type(self).__name__}: the state dict's extra state is not an "
                             "actc.nn approximate layer's")
        if state["multiplier"] != identity(self.engine):
            raise ValueError(f"the state dict was saved with multiplier {state['text']}; this "
                             f"{type(self).__name__} has {describe(self.engine)}: build it with "
                             "that multiplier (or call set_multiplier) before loading")
        if bool(state["per_channel"]) != self.per_channel:
            raise ValueError(f"the state dict was saved with per_channel="
                             f"{state['per_channel']}; this layer has per_channel="
                             f"{self.per_channel}")

    def set_extra_state(self, state: Any) -> None:
        self._check_state(state)
        self.approximate = bool(state["approximate"])
        self.calibrated = bool(state["calibrated"])
        self.calibration = state["calibration"]

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args: Any) -> None:
        extra, rng = prefix + "_extra_state", prefix + "input_max"
        if extra not in state_dict and rng not in state_dict:
            # a float layer's state: its weights, our settings, and no input range
            state = self.get_extra_state()
            state["calibrated"], state["calibration"] = False, None
            state_dict[extra], state_dict[rng] = state, torch.zeros_like(self.input_max)
        elif extra in state_dict:
            self._check_state(state_dict[extra])  # before anything of this layer is copied
        super()._load_from_state_dict(state_dict, prefix, *args)

    def _describe(self) -> str:
        return (f"multiplier={describe(self.engine)}, approximate={self.approximate}, "
                f"calibrated={self.calibrated}")


class ApproxLinear(_ApproxMAC, nn.Linear):
    """``nn.Linear`` with a multiplier's products (see the module docstring).

    ``multiplier``: spec text, ``Multiplier``, MAC manifest path or ``MRENoise``
    (``actc.nn.engines``); ``bits`` (or ``a_bits``/``b_bits``) and ``signed``: the operand
    widths of a spec (8, signed, when not given; a multiplier that carries its own widths
    refuses other ones); ``per_channel``: one weight scale per output; ``momentum``: of the
    running input range in training; ``weight_transform``: applied to the weight codes.

    >>> import torch
    >>> fc = ApproxLinear.from_linear(torch.nn.Linear(8, 3), "mitchell", bits=6)
    >>> fc.a_bits, fc.b_bits, fc.signed
    (6, 6, True)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device: Any = None, dtype: Any = None, *, multiplier: Any = "exact",
                 bits: int | None = None, a_bits: int | None = None,
                 b_bits: int | None = None, signed: bool | None = None,
                 per_channel: bool = True, momentum: float = 0.1,
                 weight_transform: nn.Module | None = None) -> None:
        nn.Linear.__init__(self, in_features, out_features, bias, device, dtype)
        self.groups = 1
        self._setup(multiplier, bits, a_bits, b_bits, signed, per_channel, momentum,
                    weight_transform)

    @classmethod
    def from_linear(cls, layer: nn.Linear, multiplier: Any = "exact",
                    **options: Any) -> ApproxLinear:
        """An ``ApproxLinear`` with ``layer``'s shape, device, dtype, training mode and a copy
        of its weight and bias; ``options`` as the constructor's."""
        new = cls(layer.in_features, layer.out_features, layer.bias is not None,
                  device=layer.weight.device, dtype=layer.weight.dtype, multiplier=multiplier,
                  **options)
        _copy_parameters(layer, new)
        return new

    def _rows(self, qx: torch.Tensor) -> torch.Tensor:
        return qx.reshape(-1, self.in_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self._observer is not None:
            self._observer.observe(x)
            return F.linear(x, self.weight, self.bias)
        qx, sx = self._input_codes(x)
        qw, sw = self._weight_codes()
        acc = self._accumulate(self._rows(qx), qw)
        # scaled in float64, then rounded once: a float16 model's sums would overflow
        y = (acc * (sx * sw.reshape(1, -1)).to(acc.dtype)).to(x.dtype).reshape(
            *x.shape[:-1], self.out_features)
        if self._straight_through(x):
            exact = F.linear(qx * sx, qw * sw)
            y = y + (exact - exact.detach())  # adds exactly 0; the gradient is exact's
        return y + self.bias if self.bias is not None else y

    def extra_repr(self) -> str:
        return f"{nn.Linear.extra_repr(self)}, {self._describe()}"


class _Im2col:
    """A ``nn.Conv2d``'s input as GEMM rows, for every option (stride, padding numbers,
    ``"same"``/``"valid"``, dilation, groups, padding mode); shared by the approximate and
    the in-memory-computing convolutions."""

    kernel_size: Any
    stride: Any
    dilation: Any
    padding_mode: Any
    _reversed_padding_repeated_twice: Any

    def _pad(self, x: torch.Tensor) -> torch.Tensor:
        pad = self._reversed_padding_repeated_twice
        if not any(pad):
            return x
        mode = "constant" if self.padding_mode == "zeros" else self.padding_mode
        return F.pad(x, pad, mode=mode)

    def _unfold(self, padded: torch.Tensor) -> torch.Tensor:
        """im2col rows (N * out_h * out_w, channels * kernel), channel-major, of an input
        already padded."""
        cols = F.unfold(padded, self.kernel_size, self.dilation, 0, self.stride)
        return cols.transpose(1, 2).reshape(-1, cols.shape[1])

    def _out_size(self, padded: torch.Tensor) -> tuple[int, int]:
        (kh, kw), (dh, dw), (sh, sw) = self.kernel_size, self.dilation, self.stride
        h, w = padded.shape[2], padded.shape[3]
        return (h - dh * (kh - 1) - 1) // sh + 1, (w - dw * (kw - 1) - 1) // sw + 1


class ApproxConv2d(_ApproxMAC, _Im2col, nn.Conv2d):
    """``nn.Conv2d`` with a multiplier's products, computed as a GEMM over the im2col rows of
    the input (one per group). Every ``nn.Conv2d`` option: ``stride``, ``padding`` (numbers,
    ``"same"``, ``"valid"``), ``dilation``, ``groups`` (depthwise too), ``padding_mode``
    (the padded values are quantised and multiplied like any other input). Multiplier options
    as ``ApproxLinear``."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] = 1, padding: str | int | tuple[int, int] = 0,
                 dilation: int | tuple[int, int] = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None, *,
                 multiplier: Any = "exact", bits: int | None = None,
                 a_bits: int | None = None, b_bits: int | None = None,
                 signed: bool | None = None, per_channel: bool = True, momentum: float = 0.1,
                 weight_transform: nn.Module | None = None) -> None:
        nn.Conv2d.__init__(self, in_channels, out_channels, kernel_size, stride, padding,
                           dilation, groups, bias, padding_mode,  # type: ignore[arg-type]
                           device, dtype)
        self._setup(multiplier, bits, a_bits, b_bits, signed, per_channel, momentum,
                    weight_transform)

    @classmethod
    def from_conv2d(cls, layer: nn.Conv2d, multiplier: Any = "exact",
                    **options: Any) -> ApproxConv2d:
        """An ``ApproxConv2d`` with every setting of ``layer`` (stride, padding, dilation,
        groups, padding mode), its device, dtype, training mode and a copy of its weight and
        bias; ``options`` as the constructor's."""
        new = cls(**_conv_settings(layer), multiplier=multiplier, **options)
        _copy_parameters(layer, new)
        return new

    def _rows(self, qx: torch.Tensor) -> torch.Tensor:
        return self._unfold(self._pad(qx))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self._observer is not None:
            self._observer.observe(x)
            return self._conv_forward(x, self.weight, self.bias)
        qx, sx = self._input_codes(x)
        qw, sw = self._weight_codes()
        padded = self._pad(qx)
        n, (ho, wo) = x.shape[0], self._out_size(padded)
        acc = self._accumulate(self._unfold(padded), qw.reshape(self.out_channels, -1))
        y = (acc * (sx * sw.reshape(1, -1)).to(acc.dtype)).to(x.dtype).reshape(
            n, ho * wo, self.out_channels).transpose(1, 2).reshape(n, self.out_channels, ho, wo)
        if self._straight_through(x):
            exact = F.conv2d(padded * sx, qw * sw, None, self.stride, 0, self.dilation,
                             self.groups)
            y = y + (exact - exact.detach())
        return y + self.bias.reshape(1, -1, 1, 1) if self.bias is not None else y

    def extra_repr(self) -> str:
        return f"{nn.Conv2d.extra_repr(self)}, {self._describe()}"


def _conv_settings(layer: nn.Conv2d) -> dict[str, Any]:
    """An ``nn.Conv2d``'s constructor arguments: every option, its device and dtype."""
    return {"in_channels": layer.in_channels, "out_channels": layer.out_channels,
            "kernel_size": layer.kernel_size, "stride": layer.stride,
            "padding": layer.padding, "dilation": layer.dilation, "groups": layer.groups,
            "bias": layer.bias is not None, "padding_mode": layer.padding_mode,
            "device": layer.weight.device, "dtype": layer.weight.dtype}


def _copy_parameters(old: nn.Linear | nn.Conv2d, new: nn.Linear | nn.Conv2d) -> None:
    """Weight and bias values (and whether they train), and the training mode."""
    with torch.no_grad():
        new.weight.copy_(old.weight)
        new.weight.requires_grad_(old.weight.requires_grad)
        if new.bias is not None and old.bias is not None:
            new.bias.copy_(old.bias)
            new.bias.requires_grad_(old.bias.requires_grad)
    new.train(old.training)


def approximate_layers(model: nn.Module) -> list[_ApproxMAC]:
    """Every ApproxLinear and ApproxConv2d in a model, in module order."""
    return [m for m in model.modules() if isinstance(m, _ApproxMAC)]
