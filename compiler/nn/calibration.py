"""``calibrate``: set every layer's quantisation ranges from data, in evaluation mode, with a
progress bar (brevitas' calibration mode and TorchApprox's observers play this part for their
layers).

>>> import torch
>>> from actc.nn import ApproxLinear
>>> model = torch.nn.Sequential(ApproxLinear(4, 3, multiplier="drum:4"), torch.nn.ReLU(),
...                             ApproxLinear(3, 2, multiplier="drum:4"))
>>> values = calibrate(model, [torch.randn(16, 4) for _ in range(4)], observer="percentile:99")
>>> sorted(values), model.eval()(torch.randn(1, 4)).shape
(['0', '2'], torch.Size([1, 2]))

Observers (``observer=``) choose the range r that the largest code stands for (the scale is
r / largest code) from every value the layer's input took over the batches:

- ``"max"``: the largest |x|. Nothing is clipped, so one outlier widens the step for every
  other value; cheap, and right for bounded inputs (pixels, a saturating activation).
- ``"percentile:P"`` (0 < P <= 100, e.g. ``percentile:99.99``): the P-th percentile of |x|.
  The rare largest values are clipped to r and the rest get a finer step; the better choice
  for long-tailed inputs at few bits, and P is a knob to tune on held-out data.
- ``"mse"``: the r that minimises the mean squared quantisation error (rounding plus
  clipping) of the observed values at the layer's own code range: usually the best
  signal-to-noise ratio, at the cost of a search over 256 candidate ranges per layer.

The percentile and mse observers work on a histogram of |x| (4096 bins; the top bin edge
doubles, merging pairs of bins exactly, when a larger value arrives), so memory does not grow
with the data; they are exact to a bin width (the range / 4096 at worst).

The protocol. ``calibrate`` works with any module that has these three methods (duck-typed;
``ApproxLinear`` and ``ApproxConv2d`` implement them, and an in-memory-computing layer can
implement them for its input range and its partial-sum clips):

- ``calibration_begin(make_observer)``: enter calibration. The layer calls
  ``make_observer()`` once per range it calibrates (an ``Observer``: ``observe(tensor)``,
  ``clip(largest_code) -> float``, ``spec``), and until ``calibration_end`` its forward feeds
  each observer the values that range must cover and returns its float, unquantised output
  (so that later layers see the float network's values, as in brevitas).
- ``calibration_values() -> dict[str, float]``: the ranges it would set, by name; raises
  ``ValueError`` when an observer saw no data (the layer was not reached by the batches).
- ``calibration_end(values)``: leave calibration; set ``values`` (from
  ``calibration_values``) when not None, and count as calibrated.

``calibrate`` asks every layer for its values before it sets any, so a failure leaves the
whole model as it was.

Optional, for ranges that depend on others (an IMC layer's partial-sum clips depend on its
input range): ``calibration_passes() -> int``, the passes over the batches the layer needs
(1 when absent), and ``calibration_next()``, called before each further pass; ``calibrate``
then runs the batches as many times as the most demanding layer asks (so they must be a
list, a tensor or a ``DataLoader``, not a one-shot iterator).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import torch
from torch import nn

from .progress import progress

__all__ = ["HistogramObserver", "MaxObserver", "Observer", "calibrate", "make_observer"]

OBSERVERS = ("max", "percentile:P", "mse")
_BINS = 4096
_CANDIDATES = 256


class Observer:
    """What an observer does: ``observe`` values, then give the ``clip`` range for a largest
    code. ``spec`` is its text (``"max"``, ``"percentile:99.9"``, ``"mse"``)."""

    spec: str = ""

    def observe(self, x: torch.Tensor) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def clip(self, top: int) -> float:  # pragma: no cover - interface
        raise NotImplementedError


class MaxObserver(Observer):
    """The largest |x| seen."""

    spec = "max"

    def __init__(self) -> None:
        self.max = 0.0
        self.count = 0

    def observe(self, x: torch.Tensor) -> None:
        if x.numel():
            self.max = max(self.max, float(x.detach().abs().amax()))
            self.count += x.numel()

    def clip(self, top: int) -> float:
        if self.max == 0.0:
            what = "no input" if self.count == 0 else "only zeros"
            raise ValueError(f"saw {what} during calibration: give batches that reach it")
        return self.max


class HistogramObserver(MaxObserver):
    """A histogram of |x| over [0, edge) in 4096 bins; ``mode`` is ``("percentile", P)`` or
    ``("mse", None)``."""

    def __init__(self, mode: str, percentile: float | None = None) -> None:
        super().__init__()
        self.mode, self.percentile = mode, percentile
        self.spec = "mse" if mode == "mse" else f"percentile:{percentile:g}"
        self.edge = 0.0
        self.counts = torch.zeros(_BINS, dtype=torch.float64)

    def observe(self, x: torch.Tensor) -> None:
        a = x.detach().abs().flatten().to(torch.float64)
        if not a.numel():
            return
        super().observe(a)
        if self.max == 0.0:
            self.counts[0] += a.numel()
            return
        if self.edge == 0.0:
            self.edge = self.max
        while self.edge < self.max:  # double the range: merge pairs of bins
            merged = self.counts.reshape(-1, 2).sum(dim=1)
            self.counts = torch.cat([merged, torch.zeros_like(merged)])
            self.edge *= 2
        self.counts += torch.histc(a, _BINS, 0.0, self.edge).cpu()

    def clip(self, top: int) -> float:
        peak = super().clip(top)
        width = self.edge / _BINS
        if self.mode == "percentile":
            assert self.percentile is not None
            if self.percentile >= 100:
                return peak
            cum = torch.cumsum(self.counts, 0)
            target = cum[-1].item() * self.percentile / 100
            i = int(torch.searchsorted(cum, torch.tensor([target], dtype=cum.dtype)).item())
            below = cum[i - 1].item() if i > 0 else 0.0
            inside = self.counts[i].item()
            frac = (target - below) / inside if inside else 1.0
            return min(peak, (i + frac) * width)
        centres = (torch.arange(_BINS, dtype=torch.float64) + 0.5) * width
        ranges = peak * torch.arange(1, _CANDIDATES + 1, dtype=torch.float64) / _CANDIDATES
        step = (ranges / top)[:, None]
        q = torch.clamp(torch.round(centres[None, :] / step), max=top) * step
        err = ((centres[None, :] - q) ** 2 * self.counts[None, :]).sum(dim=1)
        return float(ranges[int(torch.argmin(err))])


def make_observer(spec: str) -> Callable[[], Observer]:
    """A factory of fresh observers for the text ``spec`` (``ValueError`` when it is not
    one of ``max``, ``percentile:P``, ``mse``)."""
    text = spec.strip().lower() if isinstance(spec, str) else spec
    if text == "max":
        return MaxObserver
    if text == "mse":
        return lambda: HistogramObserver("mse")
    if isinstance(text, str) and text.startswith("percentile:"):
        try:
            p = float(text.split(":", 1)[1])
        except ValueError:
            p = math.nan
        if not 0 < p <= 100:
            raise ValueError(f"observer {spec!r}: the percentile must be a number in (0, 100]")
        return lambda: HistogramObserver("percentile", p)
    raise ValueError(f"observer {spec!r}: use one of {', '.join(OBSERVERS)}")


def _calibratable(m: nn.Module) -> bool:
    return all(callable(getattr(m, name, None)) for name in
               ("calibration_begin", "calibration_values", "calibration_end"))


def _passes(m: nn.Module) -> int:
    count = getattr(m, "calibration_passes", None)
    return int(count()) if callable(count) else 1


def _named(name: str, m: nn.Module, step: Callable[[], Any]) -> Any:
    """``step()``, its ``ValueError`` naming the layer."""
    try:
        return step()
    except ValueError as exc:
        what = f"layer {name!r}" if name else f"the {type(m).__name__}"
        raise ValueError(f"{what} {exc}") from None


def _run(model: nn.Module, batch: Any) -> None:
    if isinstance(batch, torch.Tensor):
        model(batch)
    elif isinstance(batch, dict):
        model(**batch)
    elif isinstance(batch, (list, tuple)) and batch:
        model(batch[0])
    else:
        raise TypeError(f"a calibration batch is a tensor, an (inputs, targets, ...) tuple or "
                        f"a dict of keyword inputs, not {type(batch).__name__}")


def calibrate(model: nn.Module, batches: Iterable[Any] | torch.Tensor,
              observer: str = "max", *, desc: str = "calibrate") -> dict[str, dict[str, float]]:
    """Run the batches through the model in evaluation mode without gradients and set every
    calibratable layer's ranges from what it saw (see the module docstring). ``batches``:
    tensors, ``(inputs, targets)`` pairs (a ``DataLoader``), dicts of keyword inputs, or one
    tensor (one batch). The model's training mode is restored. Returns each layer's values by
    its name in the model. ``ValueError``: no calibratable layer, no batch, a bad observer,
    or a layer that saw no non-zero input (nothing is changed then).

    >>> import torch
    >>> from actc.nn import to_approx
    >>> model = to_approx(torch.nn.Sequential(torch.nn.Linear(4, 2)), "drum:4")
    >>> calibrate(model, torch.ones(8, 4) * 3)["0"]["input_max"]
    3.0
    """
    factory = make_observer(observer)
    layers = [(name, m) for name, m in model.named_modules() if _calibratable(m)]
    if not layers:
        raise ValueError("the model has no layer to calibrate (actc.nn.to_approx converts "
                         "nn.Linear and nn.Conv2d layers)")
    if isinstance(batches, torch.Tensor):
        batches = [batches]
    total = len(batches) if hasattr(batches, "__len__") else None  # type: ignore[arg-type]
    was_training = model.training
    values: dict[str, dict[str, float]] | None = None
    for _, m in layers:
        m.calibration_begin(factory)
    try:
        passes = {name: _passes(m) for name, m in layers}
        most = max(passes.values())
        if most > 1 and isinstance(batches, Iterator):
            raise ValueError(f"calibrate needs {most} passes over the batches (IMC partial-sum "
                             "ranges follow the input ranges): give a list, a tensor or a "
                             "DataLoader, not an iterator")
        model.eval()
        for p in range(most):
            if p:
                for name, m in layers:
                    if passes[name] > p:
                        _named(name, m, m.calibration_next)
            seen = 0
            label = desc if most == 1 else f"{desc} {p + 1}/{most}"
            with torch.no_grad():
                for batch in progress(batches, desc=label, total=total):
                    _run(model, batch)
                    seen += 1
            if seen == 0:
                raise ValueError("calibrate got no batches")
        values = {name: _named(name, m, m.calibration_values) for name, m in layers}
    finally:
        for name, m in layers:
            m.calibration_end(None if values is None else values[name])
        model.train(was_training)
    return values
