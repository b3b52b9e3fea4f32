"""``actc adc cost``: energy, latency and area of an in-memory-computing network with a given
converter against a baseline, per layer and in total, from documented per-operation
parameters (``PARAMETERS``; README "ADC cost model" lists each with its source).

The model is ISAAC's processing element (Shafiee et al., ISCA 2016, figures via the PUMA
simulator's constants): arrays of ``rows`` x ``cols`` cells, 1-bit-per-step DACs on the rows,
weights stationary, inputs bit-serial. Per **array read** (one input slice on one array):

- ADC designs (``ideal``, ``adc:N``, ``sparse:N``): one SAR ADC per array scans the ``cols``
  columns, t = cols (1 - rho) t_adc(N); energy = (P_xbar + rows P_dac + cols P_sh + n_sa P_sa) t
  + cols (1 - rho) E_adc(N); area = A_xbar + rows A_dac + cols A_sh + A_adc(N) + n_sa A_sa.
  E_adc, t_adc and A_adc are ISAAC's 8-bit figures scaled to N bits with NeuroSim's SAR
  model: E ~ (a N + c)(N + 1), t ~ N + 1, A ~ 478 + 182 (N - 1). ``ideal`` is an ADC with the
  bits the partial sum needs; rho (``sparse_skip``) is the fraction of conversions a sparse
  ADC skips (all-zero input slices), 0 for the others.
- ``mtj:T``: one SOT-MTJ per column, all columns in parallel: t = T t_sample + t_settle;
  energy = (rows P_dac + n_sa P_sa) t + cols T E_sample (the crossbar's read current is the
  junction's write current, so the crossbar energy is inside E_sample); area = A_xbar +
  rows A_dac + n_sa A_sa + cols A_conv. Samples are summed in the shift-and-add path.

Network: counts per layer from the crossbar mapping (``Crossbar``: weight slices, input
slices); K = in_channels kernel^2 rows are tiled over ceil(K / rows) arrays, the out x slices
columns over ceil(out slices / cols); array reads = pixels x input slices x row tiles x col
tiles; every read converts all ``cols`` columns (ISAAC's fixed cycle). Energy = sum of reads
x energy per read; latency = sum of pixels x input slices x time per read (the arrays of a
layer in parallel, layers in sequence); area = sum of arrays x area per array. Layers marked
``digital`` (ResNet20's first conv and last FC, full precision in StoX-Net) are left out of
both designs.

>>> r = cost_report("resnet20", "mtj:4", "adc:8")
>>> round(r.ratio["energy"], 1), round(r.ratio["latency"], 1), round(r.ratio["area"], 1)
(16.8, 8.0, 10.0)
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .converters import Adc, Converter, Ideal, Mtj, Sparse, converter
from .crossbar import Crossbar

__all__ = ["PARAMETERS", "CostReport", "Layer", "Parameter", "cost_report", "load_network",
           "resnet20", "sensitivity"]


@dataclass(frozen=True)
class Parameter:
    """One per-operation figure: value in SI units, what it is, where it comes from, and
    whether it was calibrated to StoX-Net's headline ratios (then it is not a measurement)."""

    name: str
    value: float
    unit: str
    meaning: str
    source: str
    calibrated: bool = False


_PUMA = "ISAAC (Shafiee et al., ISCA 2016) via PUMA simulator include/constants.py"
_NEUROSIM = "DNN+NeuroSim V1.3 SarADC.cpp, 32 nm HP constants"

PARAMETERS: tuple[Parameter, ...] = (
    Parameter("E_adc8", 1.5625e-12, "J", "8-bit SAR conversion (2 mW at 1.28 GS/s)", _PUMA),
    Parameter("t_adc8", 0.78125e-9, "s", "8-bit SAR conversion time (1/1.28 GS/s)", _PUMA),
    Parameter("A_adc8", 1200e-12, "m2", "one 8-bit SAR ADC (0.0012 mm^2)", _PUMA),
    Parameter("sar_a", 1.0157, "-", "SAR power a in (a N + c) uW: scales E_adc to N bits",
              _NEUROSIM),
    Parameter("sar_c", 7.6286, "-", "SAR power c in (a N + c) uW", _NEUROSIM),
    Parameter("P_xbar", 0.3e-3, "W", "128x128 crossbar read power", _PUMA),
    Parameter("A_xbar", 25e-12, "m2", "128x128 crossbar (2.5e-5 mm^2)", _PUMA),
    Parameter("P_dac", 3.9e-6, "W", "1-bit DAC, per row", _PUMA),
    Parameter("A_dac", 0.167e-12, "m2", "1-bit DAC, per row", _PUMA),
    Parameter("P_sh", 9.8e-9, "W", "sample and hold, per column (ADC designs)", _PUMA),
    Parameter("A_sh", 0.039e-12, "m2", "sample and hold, per column", _PUMA),
    Parameter("P_sa", 0.05e-3, "W", "shift-and-add unit", _PUMA),
    Parameter("A_sa", 60e-12, "m2", "shift-and-add unit", _PUMA),
    Parameter("n_sa", 0.5, "-", "shift-and-add units per array (4 per 8-array IMA)", _PUMA),
    Parameter("E_sample", 20e-15, "J", "one SOT-MTJ sample per column: write pulse, read, "
              "reset", "calibrated to StoX-Net's 16x energy; plausible for ~100 uA at ~0.2 V "
              "for 1 ns (I^2 R of a 500-ohm heavy metal alone: 5 fJ)", True),
    Parameter("t_sample", 3e-9, "s", "one sample: 1 ns write, 1 ns read, 1 ns reset",
              "calibrated to StoX-Net's 8x latency", True),
    Parameter("t_settle", 0.5e-9, "s", "column settling before the first sample",
              "assumed", True),
    Parameter("A_conv", 0.40e-12, "m2", "per column: access transistors and sense latch of "
              "the SOT-MTJ (~390 F^2 at 32 nm; the junction sits above the transistors)",
              "calibrated to StoX-Net's 10x area", True),
    Parameter("sparse_skip", 0.2, "-", "fraction of conversions a sparse ADC skips (all-zero "
              "input slices)", "assumed workload statistic (not measured on CIFAR-10); sets "
              "the 24x EDP versus sparse:4", True),
)

_DEFAULTS = {p.name: p.value for p in PARAMETERS}


@dataclass(frozen=True)
class Layer:
    """A layer's shape: ``in_channels`` x ``kernel``^2 rows, ``out_channels`` columns (before
    slicing), ``pixels`` output positions (1 for a linear layer). ``digital`` layers are
    left out of the IMC cost (computed elsewhere in full precision)."""

    name: str
    in_channels: int
    out_channels: int
    kernel: int = 1
    pixels: int = 1
    digital: bool = False

    @property
    def fan_in(self) -> int:
        return self.in_channels * self.kernel * self.kernel

    @property
    def macs(self) -> int:
        return self.fan_in * self.out_channels * self.pixels


def resnet20() -> list[Layer]:
    """ResNet20 for CIFAR-10 (He et al. 2016, option-A shortcuts, no 1x1 convolutions): conv1
    and fc digital, as in StoX-Net's code; 18 3x3 convolutions on the crossbars."""
    layers = [Layer("conv1", 3, 16, 3, 32 * 32, digital=True)]
    cin = 16
    for stage, (c, hw) in enumerate([(16, 32), (32, 16), (64, 8)], start=1):
        for block in range(1, 4):
            layers.append(Layer(f"s{stage}b{block}c1", cin, c, 3, hw * hw))
            layers.append(Layer(f"s{stage}b{block}c2", c, c, 3, hw * hw))
            cin = c
    layers.append(Layer("fc", 64, 10, 1, 1, digital=True))
    return layers


NETWORKS = {"resnet20": resnet20}


def load_network(spec: str) -> list[Layer]:
    """A built-in network by name, or a JSON file: a list of layers, each
    ``{"name", "kind": "conv"|"linear", "in", "out"}`` plus for conv ``"kernel"`` and
    ``"out_size"`` (an int or [h, w]), and optionally ``"digital": true``."""
    if spec in NETWORKS:
        return NETWORKS[spec]()
    path = Path(spec)
    if not path.is_file():
        raise ConfigError(f"--network {spec!r}: not a built-in network ({', '.join(NETWORKS)}) "
                          "and no such file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {spec!r}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{spec!r}: invalid JSON at line {exc.lineno} column {exc.colno}"
                          ) from None
    except (RecursionError, ValueError):  # nested too deeply, or a number too long to read
        raise ConfigError(f"{spec!r}: not a list of layers (nested too deeply or a number too "
                          "long)") from None
    if not isinstance(data, list) or not data:
        raise ConfigError(f"{spec!r}: expected a non-empty JSON list of layers")
    return [_layer(obj, i, spec) for i, obj in enumerate(data)]


def _layer(obj: Any, i: int, spec: str) -> Layer:
    where = f"{spec!r} layer {i}"
    if not isinstance(obj, dict):
        raise ConfigError(f"{where}: expected an object")
    kind = obj.get("kind")
    if kind not in ("conv", "linear"):
        raise ConfigError(f"{where}: unknown layer kind {kind!r} (use conv or linear)")

    def count(key: str, default: Any = None) -> int:
        v = obj.get(key, default)
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ConfigError(f"{where}: {key!r} must be a positive integer, got {v!r}")
        return v

    name = str(obj.get("name", f"layer{i}"))
    digital = obj.get("digital", False)
    if not isinstance(digital, bool):
        raise ConfigError(f"{where}: 'digital' must be true or false")
    if kind == "linear":
        return Layer(name, count("in"), count("out"), 1, 1, digital)
    size = obj.get("out_size")
    if isinstance(size, list) and len(size) == 2:
        pixels = 1
        for v in size:
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ConfigError(f"{where}: 'out_size' must hold positive integers")
            pixels *= v
    elif isinstance(size, int) and not isinstance(size, bool) and size >= 1:
        pixels = size * size
    else:
        raise ConfigError(f"{where}: 'out_size' must be a positive integer or [h, w], got "
                          f"{size!r}")
    return Layer(name, count("in"), count("out"), count("kernel"), pixels, digital)


# --- per array read ---------------------------------------------------------------------------
@dataclass(frozen=True)
class PerRead:
    """One array read: its time (s), energy per component (J) and area per component (m2)."""

    time: float
    energy: dict[str, float]
    area: dict[str, float]


def _sar(p: dict, bits: int) -> tuple[float, float, float]:
    """(energy, time, area) of one N-bit conversion: ISAAC's 8-bit figures scaled with
    NeuroSim's SAR model."""
    a, c = p["sar_a"], p["sar_c"]
    e = p["E_adc8"] * (a * bits + c) * (bits + 1) / ((8 * a + c) * 9)
    t = p["t_adc8"] * (bits + 1) / 9
    area = p["A_adc8"] * (478 + 182 * (bits - 1)) / (478 + 182 * 7)
    return e, t, area


def per_read(conv: Converter, xb: Crossbar, cols: int, p: dict,
             samples: int | None = None) -> PerRead:
    """Time, energy and area of one array read with this converter (module docstring)."""
    rows = xb.rows
    scale = rows * cols / (128 * 128)  # crossbar figures are ISAAC's 128x128
    conv_cols = cols // 2 if xb.differential else cols  # a differential pair: one conversion
    sa_e = p["n_sa"] * p["P_sa"]
    if isinstance(conv, Mtj):
        t_samples = samples if samples is not None else conv.samples
        t = t_samples * p["t_sample"] + p["t_settle"]
        energy = {"crossbar": 0.0, "dac": rows * p["P_dac"] * t, "sample_hold": 0.0,
                  "converter": conv_cols * t_samples * p["E_sample"], "shift_add": sa_e * t}
        area = {"crossbar": p["A_xbar"] * scale, "dac": rows * p["A_dac"], "sample_hold": 0.0,
                "converter": conv_cols * p["A_conv"], "shift_add": p["n_sa"] * p["A_sa"]}
        return PerRead(t, energy, area)
    if isinstance(conv, (Adc, Sparse)):
        bits = conv.bits
    elif isinstance(conv, Ideal):
        lo, hi = xb.ps_range
        bits = max(1, int(hi - lo).bit_length())
    else:  # pragma: no cover - the registry has no other kind
        raise ConfigError(f"no cost model for converter {conv.spec}")
    rho = p["sparse_skip"] if isinstance(conv, Sparse) else 0.0
    e_conv, t_conv, a_conv = _sar(p, bits)
    n = conv_cols * (1 - rho)
    t = n * t_conv
    energy = {"crossbar": p["P_xbar"] * scale * t, "dac": rows * p["P_dac"] * t,
              "sample_hold": cols * p["P_sh"] * t, "converter": n * e_conv,
              "shift_add": sa_e * t}
    area = {"crossbar": p["A_xbar"] * scale, "dac": rows * p["A_dac"],
            "sample_hold": cols * p["A_sh"], "converter": a_conv,
            "shift_add": p["n_sa"] * p["A_sa"]}
    return PerRead(t, energy, area)


# --- the network ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Counts:
    arrays: int
    cycles: int  # pixels x input slices: array reads of one array
    reads: int
    conversions: int  # converted per read: every column (pair), used or not
    used_conversions: int  # of them, columns (pairs) that hold weights


def counts(layer: Layer, xb: Crossbar, cols: int) -> Counts:
    """Arrays, cycles, reads and conversions of a layer (a differential pair takes two
    physical columns and one conversion; the offset scheme adds a reference column)."""
    pair = 2 if xb.differential else 1
    width = layer.out_channels * xb.weight_slices + (1 if xb.offset else 0)
    rt = math.ceil(layer.fan_in / xb.rows)
    ct = math.ceil(width * pair / cols)
    cycles = layer.pixels * xb.input_slices
    reads = cycles * rt * ct
    return Counts(rt * ct, cycles, reads, reads * (cols // pair), cycles * rt * width)


@dataclass
class CostReport:
    """The result of ``cost_report``: per-layer rows, totals, ratios (baseline / converter),
    and the configuration and parameters used."""

    network: str
    converter: str
    baseline: str
    config: dict
    parameters: dict
    layers: list[dict]
    total: dict
    ratio: dict
    sensitivity: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"network": self.network, "converter": self.converter,
                "baseline": self.baseline, "config": self.config,
                "parameters": self.parameters, "layers": self.layers, "total": self.total,
                "ratio": self.ratio, "sensitivity": self.sensitivity}

    def table(self) -> str:
        """The per-layer table, the totals and the ratios, as text."""
        head = (f"{'layer':<10} {'arrays':>6} {'reads':>9} {'conversions':>12} "
                f"{'samples':>11} {'E conv nJ':>10} {'E base nJ':>10} {'L conv us':>10} "
                f"{'L base us':>10}")
        lines = [f"actc adc cost: {self.network}, {self.converter} vs {self.baseline} "
                 f"(rows {self.config['rows']}, cols {self.config['cols']})", head,
                 "-" * len(head)]
        for r in self.layers:
            if r["digital"]:
                lines.append(f"{r['name']:<10} {'digital (full precision, not counted)':>40}")
                continue
            c, b = r["converter"], r["baseline"]
            lines.append(f"{r['name']:<10} {r['arrays']:>6} {r['reads']:>9} "
                         f"{r['conversions']:>12} {r['samples']:>11} "
                         f"{c['energy_j'] * 1e9:>10.2f} {b['energy_j'] * 1e9:>10.2f} "
                         f"{c['latency_s'] * 1e6:>10.2f} {b['latency_s'] * 1e6:>10.2f}")
        lines.append("-" * len(head))
        for key in ("converter", "baseline"):
            t = self.total[key]
            lines.append(f"{key:<10} {t['spec']:<9} energy {t['energy_j'] * 1e6:.4g} uJ, "
                         f"latency {t['latency_s'] * 1e3:.4g} ms, area {t['area_mm2']:.4g} mm2, "
                         f"EDP {t['edp_js']:.4g} J s")
        r = self.ratio
        lines.append(f"ratio (baseline / converter): energy {r['energy']:.2f}x, latency "
                     f"{r['latency']:.2f}x, area {r['area']:.2f}x, EDP {r['edp']:.1f}x")
        if self.sensitivity:
            lines.append("")
            lines.append(sensitivity_table(self.sensitivity))
        return "\n".join(lines)


def _samples(conv: Converter, samples: list[int] | None, n_layers: int) -> list[int | None]:
    if samples is None:
        return [None] * n_layers
    if not isinstance(conv, Mtj):
        raise ConfigError("--samples sets the MTJ samples per layer: it needs --converter mtj:T")
    if len(samples) != n_layers:
        raise ConfigError(f"--samples gives {len(samples)} values for {n_layers} crossbar "
                          "layers: give one per layer")
    for t in samples:
        if not 1 <= t <= 64:
            raise ConfigError(f"--samples {t}: samples per conversion must be 1 to 64")
    return list(samples)


def _design_total(layers: list[Layer], conv: Converter, xb: Crossbar, cols: int, p: dict,
                  samples: list[int | None]) -> tuple[list[dict], dict]:
    rows_out: list[dict] = []
    energy = latency = area = 0.0
    parts_e: dict[str, float] = {}
    parts_a: dict[str, float] = {}
    it = iter(samples)
    for layer in layers:
        if layer.digital:
            rows_out.append({})
            continue
        c = counts(layer, xb, cols)
        t_layer = next(it)
        pr = per_read(conv, xb, cols, p, t_layer)
        e = {k: v * c.reads for k, v in pr.energy.items()}
        a = {k: v * c.arrays for k, v in pr.area.items()}
        lat = c.cycles * pr.time
        energy_j = sum(e.values())
        row: dict[str, Any] = {"samples_per_conversion": (t_layer if t_layer is not None else
                                          conv.samples if isinstance(conv, Mtj) else None),
               "energy_j": energy_j, "latency_s": lat,
               "area_mm2": sum(a.values()) * 1e6, "energy_breakdown_j": e,
               "area_breakdown_mm2": {k: v * 1e6 for k, v in a.items()}}
        rows_out.append(row)
        energy += energy_j
        latency += lat
        area += sum(a.values())
        for k, v in e.items():
            parts_e[k] = parts_e.get(k, 0.0) + v
        for k, v in a.items():
            parts_a[k] = parts_a.get(k, 0.0) + v
    total = {"spec": conv.spec, "energy_j": energy, "latency_s": latency,
             "area_mm2": area * 1e6, "edp_js": energy * latency,
             "energy_breakdown_j": parts_e,
             "area_breakdown_mm2": {k: v * 1e6 for k, v in parts_a.items()}}
    return rows_out, total


def cost_report(network: str | list[Layer], conv: str | Converter, baseline: str | Converter,
                *, rows: int = 128, cols: int = 128, cell_bits: int = 1, dac_bits: int = 1,
                weight_bits: int = 4, input_bits: int = 4, scheme: str = "offset",
                samples: list[int] | None = None, parameters: dict[str, float] | None = None,
                with_sensitivity: bool = False) -> CostReport:
    """The cost of ``network`` (a built-in name, a JSON file, or layers) with ``conv`` against
    ``baseline``. ``scheme`` defaults to ``offset`` (ISAAC's biased weights: one column per
    weight slice); ``parameters`` override ``PARAMETERS`` by name."""
    p = dict(_DEFAULTS)
    for k, v in (parameters or {}).items():
        if k not in p:
            raise ConfigError(f"unknown cost parameter {k!r} (known: {', '.join(p)})")
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
            raise ConfigError(f"cost parameter {k} must be a finite number >= 0, got {v!r}")
        p[k] = float(v)
    if not 0 <= p["sparse_skip"] < 1:
        raise ConfigError("sparse_skip must lie in [0, 1)")
    if not 1 <= cols <= 4096:
        raise ConfigError(f"cols {cols} is out of range: use 1 to 4096")
    xb = Crossbar.from_scheme(scheme, rows=rows, cell_bits=cell_bits, dac_bits=dac_bits,
                              weight_bits=weight_bits, input_bits=input_bits)
    name = network if isinstance(network, str) else "custom"
    layers = load_network(network) if isinstance(network, str) else list(network)
    c, b = converter(conv), converter(baseline)
    n_imc = sum(1 for layer in layers if not layer.digital)
    if n_imc == 0:
        raise ConfigError("the network has no crossbar layer (all are digital)")
    rows_c, tot_c = _design_total(layers, c, xb, cols, p, _samples(c, samples, n_imc))
    rows_b, tot_b = _design_total(layers, b, xb, cols, p, [None] * n_imc)
    out_rows = []
    for layer, rc, rb in zip(layers, rows_c, rows_b):
        row: dict[str, Any] = {"name": layer.name, "in_channels": layer.in_channels,
                               "out_channels": layer.out_channels, "kernel": layer.kernel,
                               "pixels": layer.pixels, "macs": layer.macs,
                               "digital": layer.digital}
        if not layer.digital:
            n = counts(layer, xb, cols)
            t = rc["samples_per_conversion"]
            row.update(arrays=n.arrays, array_cycles=n.cycles, reads=n.reads,
                       conversions=n.conversions, used_conversions=n.used_conversions,
                       samples=n.conversions * t if t else 0, converter=rc, baseline=rb)
        out_rows.append(row)
    ratio = {"energy": tot_b["energy_j"] / tot_c["energy_j"],
             "latency": tot_b["latency_s"] / tot_c["latency_s"],
             "area": tot_b["area_mm2"] / tot_c["area_mm2"],
             "edp": tot_b["edp_js"] / tot_c["edp_js"]}
    config = {"rows": rows, "cols": cols, "cell_bits": cell_bits, "dac_bits": dac_bits,
              "weight_bits": weight_bits, "input_bits": input_bits, "scheme": scheme,
              "weight_slices": xb.weight_slices, "input_slices": xb.input_slices,
              "samples": samples}
    report = CostReport(name, c.spec, b.spec, config, p, out_rows,
                        {"converter": tot_c, "baseline": tot_b}, ratio)
    if with_sensitivity:
        report.sensitivity = sensitivity(network, c, b, rows=rows, cols=cols,
                                         cell_bits=cell_bits, dac_bits=dac_bits,
                                         weight_bits=weight_bits, input_bits=input_bits,
                                         scheme=scheme, samples=samples, parameters=p)
    return report


SENSITIVITY = ("E_sample", "t_sample", "A_conv", "E_adc8", "t_adc8", "A_adc8", "P_dac",
               "P_xbar", "A_xbar", "sparse_skip")


def sensitivity(network: str | list[Layer], conv: Converter, baseline: Converter,
                **kw: Any) -> list[dict]:
    """Each ratio with each main parameter halved and doubled (and the MTJ samples T)."""
    base = dict(kw.pop("parameters", None) or _DEFAULTS)
    out = []
    for name in SENSITIVITY:
        for factor in (0.5, 2.0):
            value = base[name] * factor
            if name == "sparse_skip" and value >= 1:
                continue
            r = cost_report(network, conv, baseline, parameters={**base, name: value},
                            **kw).ratio
            out.append({"parameter": name, "factor": factor, "value": value, **r})
    if isinstance(conv, Mtj):
        for factor in (0.5, 2.0):
            t = int(conv.samples * factor)
            if 1 <= t <= 64:
                samples = kw.get("samples")
                kw2 = {**kw, "samples": [max(1, min(64, int(s * factor))) for s in samples]
                       if samples else None}
                r = cost_report(network, replace(conv, samples=t), baseline, parameters=base,
                                **kw2).ratio
                out.append({"parameter": "samples T", "factor": factor, "value": t, **r})
    return out


def sensitivity_table(rows: list[dict]) -> str:
    head = (f"{'parameter':<12} {'x':>4} {'value':>10} {'energy':>8} {'latency':>8} "
            f"{'area':>8} {'EDP':>8}")
    lines = ["sensitivity: each ratio with one parameter halved (x0.5) or doubled (x2)", head,
             "-" * len(head)]
    for r in rows:
        lines.append(f"{r['parameter']:<12} {r['factor']:>4.1f} {r['value']:>10.4g} "
                     f"{r['energy']:>8.2f} {r['latency']:>8.2f} {r['area']:>8.2f} "
                     f"{r['edp']:>8.1f}")
    return "\n".join(lines)


def figure(report: CostReport) -> Any:
    """Per-layer bars: energy, latency and area of the converter and the baseline (log
    scale). Needs matplotlib."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    rows = [r for r in report.layers if not r["digital"]]
    names = [r["name"] for r in rows]
    x = np.arange(len(rows))
    fig, axes = plt.subplots(3, 1, figsize=(max(8, 0.5 * len(rows) + 2), 9), sharex=True)
    for ax, (key, unit, scale) in zip(axes, [("energy_j", "energy (nJ)", 1e9),
                                             ("latency_s", "latency (us)", 1e6),
                                             ("area_mm2", "area (mm^2)", 1.0)]):
        for off, (which, label) in zip((-0.2, 0.2), [("baseline", report.baseline),
                                                     ("converter", report.converter)]):
            ax.bar(x + off, [r[which][key] * scale for r in rows], 0.4, label=label)
        ax.set_yscale("log")
        ax.set_ylabel(unit)
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend()
    r = report.ratio
    axes[0].set_title(f"{report.network}: {report.converter} vs {report.baseline}: energy "
                      f"{r['energy']:.1f}x, latency {r['latency']:.1f}x, area {r['area']:.1f}x, "
                      f"EDP {r['edp']:.0f}x")
    axes[-1].set_xticks(x)
    axes[-1].set_xticklabels(names, rotation=60, ha="right")
    fig.tight_layout()
    return fig
