"""``actc adc cost``: energy, latency and area of an in-memory-computing network with a given
converter against a baseline, per layer and in total, from per-operation parameters that each
carry a published source (``PARAMETERS``; docs/reference/adc-cost.md lists them). None is fitted;
``PRESETS["stoxnet-v2"]`` holds the values fitted to StoX-Net's v2 headline, labelled so.

The model is ISAAC's processing element (Shafiee et al., ISCA 2016, figures via the PUMA
simulator's constants): arrays of ``rows`` x ``cols`` cells, 1-bit-per-step DACs on the rows,
weights stationary, inputs bit-serial. Per **array read** (one input slice on one array)
with n conversions:

- ADC designs (``ideal``, ``adc:N``, ``sparse:N``): one SAR ADC per array scans the
  columns it converts, t = n t_adc(N); energy = (P_xbar + rows P_dac + cols P_sh) t +
  n (E_adc(N) + E_acc); area = A_xbar + rows A_dac + cols A_sh + A_adc(N) + n_sa A_sa.
  E_adc, t_adc and A_adc are ISAAC's 8-bit figures scaled to N bits with NeuroSim's SAR
  model: E ~ (a N + c)(N + 1), t ~ N + 1, A ~ 478 + 182 (N - 1). ``ideal`` is an ADC with the
  bits the partial sum needs.
- ``mtj:T``: one SOT-MTJ per column, all columns in parallel: t = t_dac + T t_sample;
  energy = rows P_dac t + n T (E_sample + E_count) + n E_acc (the crossbar's read current
  is the junction's write current, so the crossbar energy is inside E_sample); area =
  A_xbar + rows A_dac + n_sa A_sa + conversion columns x (A_conv + A_counter(T)).
- Digital accumulation is counted per operation, as NeuroSim does (its adders' and
  registers' energy per read, not a power times the read time): E_acc = one add of the
  accumulator's width (the bits of the column back end's result for the layer) at E_add_bit
  per bit; the per-column sample counter of ``mtj:T`` (bit_length(T) bits) adds E_count =
  bit_length(T) E_add_bit per sample and bit_length(T) (A_add_bit + A_dff) of area.

**Skipped conversions** (the crossbar's ``zero_skip``, default hardware): a read whose input
slice is all zero on its sub-array is skipped (fraction ``zero_inputs[j]`` of the reads of
input slice j: no crossbar, DAC, converter or accumulation energy); of the columns read,
those whose weight slice is all zero on the sub-array are skipped (fraction
``zero_columns`` of the weight columns; columns that hold no weights at all are never
converted). Latency credits only the column skips (known at mapping; which reads skip is
data-dependent and the arrays of a layer run in lock step). With ``zero_skip none`` every
read converts all ``cols`` columns (ISAAC's fixed cycle). The fractions come from the
network file (``actc.nn.imc.imc_network`` measures them on a network's actual slices) or,
for the built-in ResNet20, from ``DEFAULT_ZEROS``, measured here on the digits CNN (not
on CIFAR-10; docs/reference/adc-cost.md states it). ``stoxnet`` (every zero partial sum
skipped) is a software model: the cost model credits the hardware-detectable skips only.

Network: counts per layer from the crossbar mapping (``Crossbar``: weight slices, input
slices); K = in_channels kernel^2 rows are tiled over ceil(K / rows) arrays, the out x slices
columns over ceil(out slices / cols); array reads = pixels x input slices x row tiles x col
tiles. Energy = sum of reads x energy per read; latency = sum of pixels x input slices x
time per read (the arrays of a layer in parallel, layers in sequence); area = sum of arrays x
area per array. Layers marked ``digital`` (ResNet20's first conv and last FC, full precision
in StoX-Net) are left out of both designs.

>>> r = cost_report("resnet20", "mtj:4", "adc:8", preset="stoxnet-v2")
>>> [round(r.ratio[k]) for k in ("energy", "latency", "area")]
[16, 8, 10]
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

__all__ = ["DEFAULT_ZEROS", "PARAMETERS", "PRESETS", "CostReport", "Layer", "Parameter",
           "cost_report", "load_network", "resnet20", "sensitivity"]


@dataclass(frozen=True)
class Parameter:
    """One per-operation figure: value in SI units, what it is, and where it was published
    (``calibrated``: fitted to a paper's ratios, then not a measurement)."""

    name: str
    value: float
    unit: str
    meaning: str
    source: str
    calibrated: bool = False

    def to_json(self) -> dict:
        return {"value": self.value, "unit": self.unit, "meaning": self.meaning,
                "source": self.source, "calibrated": self.calibrated}


_PUMA = "ISAAC (Shafiee et al., ISCA 2016) via the PUMA simulator's include/constants.py"
_NEUROSIM = "DNN+NeuroSim V1.3/V1.4 SarADC.cpp, 32 nm HP constants"
_HOROWITZ = ("M. Horowitz, Computing's energy problem, ISSCC 2014, 45 nm: 32-bit integer add "
             "0.1 pJ and 137 um^2 (per bit: / 32); scaled to 32 nm by node_scale")
_NANGATE = ("Nangate 45 nm Open Cell Library, DFF_X1 4.522 um^2 (OpenROAD-flow-scripts "
            "platforms/nangate45); scaled to 32 nm by node_scale")

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
    Parameter("t_dac", 1e-9, "s", "DAC and column settling before the first MTJ sample (one "
              "1 ns cycle)", "PUMA include/constants.py: dac_lat 1 cycle, cycle_time 1 ns"),
    Parameter("P_sh", 9.8e-9, "W", "sample and hold, per column (ADC designs)", _PUMA),
    Parameter("A_sh", 0.039e-12, "m2", "sample and hold, per column", _PUMA),
    Parameter("A_sa", 60e-12, "m2", "shift-and-add unit", _PUMA),
    Parameter("n_sa", 0.5, "-", "shift-and-add units per array (4 per 8-array IMA)", _PUMA),
    Parameter("node_scale", 32 / 45, "-", "45 nm figures (adders, flip-flops) to ISAAC's "
              "32 nm: energy and area times 32/45", "PUMA include/constants.py scales its "
              "45 nm ALU the same way (alu_area = 0.00567 * 32/45)"),
    Parameter("E_add_bit", 0.1e-12 / 32, "J", "one bit of an integer add at 45 nm: the "
              "digital accumulation (per conversion) and the MTJ sample counter (per sample)",
              _HOROWITZ),
    Parameter("A_add_bit", 137e-12 / 32, "m2", "one bit of an adder at 45 nm (the sample "
              "counter's incrementer)", _HOROWITZ),
    Parameter("A_dff", 4.522e-12, "m2", "one register bit at 45 nm (the sample counter's)",
              _NANGATE),
    Parameter("E_sample", 0.1e-12, "J", "one SOT-MTJ stochastic sample per column",
              "arXiv 2211.16588 (IEEE JxCDC 2022), Random bitstream generation using VCMA "
              "and SOT MTJs: 0.1 pJ per SOT sample"),
    Parameter("t_sample", 1.7e-9, "s", "one sample: write pulse, read, reset pulse",
              "0.35 ns SOT write (Huang et al., Nature Electronics 2025, W-based SOT-MRAM, "
              "0.35 ns at 156 fJ) + 1 ns read (one cycle of NeuroSim V1.4's 1 GHz clock, "
              "Param.cpp clkFreq) + 0.35 ns reset write"),
    Parameter("A_conv", 4.522e-12 * 32 / 45, "m2", "per conversion column: the junction's "
              "sense latch and access devices (the junction sits above the transistors), "
              "taken as one flip-flop at 32 nm", _NANGATE),
    Parameter("sparse_extra_skip", 0.0, "-", "conversions a sparse:N ADC skips beyond the "
              "zero_skip rule that every design applies", "none published: the sparse ADC "
              "(Leugering et al., ISCAS 2025) is a low-resolution quantiser; its skipping is "
              "the zero_skip rule"),
)

# Zero fractions for the built-in network: measured here, by benchmarks/adc_zeros.py, on the
# digits CNN (scikit-learn's 8x8 digits; ideal-trained, ReLU activations) with 128-row
# sub-arrays, 1-bit DACs and cells, 4-bit activations and 4-bit offset-mapped weights
# (benchmarks/results/adc_zeros.json). Not CIFAR-10: a network's own file (imc_network)
# replaces them.
DEFAULT_ZEROS: dict[str, Any] = {
    "config": {"rows": 128, "dac_bits": 1, "input_bits": 4, "cell_bits": 1,
               "weight_bits": 4, "scheme": "offset"},
    "zero_inputs": [0.0223, 0.0106, 0.1054, 0.5874],
    "zero_columns": 0.0,
    "source": "benchmarks/results/adc_zeros.json (digits CNN, not CIFAR-10)",
}


@dataclass(frozen=True)
class Preset:
    """Parameter values fitted to a paper's headline: not measurements."""

    description: str
    values: dict[str, float]


PRESETS: dict[str, Preset] = {
    "stoxnet-v2": Preset(
        "fitted to StoX-Net's v2 headline (arXiv 2407.12378v2, abstract: mtj:4 on ResNet20 "
        "16x energy, 8x latency, 10x area vs adc:8 and 24x EDP vs sparse:4): E_sample, "
        "t_sample, A_conv and sparse_extra_skip solved for those four ratios, A_conv holding "
        "the whole per-column periphery (the published counter alone exceeds the area the "
        "10x allows, so A_add_bit and A_dff are folded into it); not measurements",
        {"E_sample": 7.16e-15, "t_sample": 1.359e-9, "A_conv": 0.404e-12, "A_add_bit": 0.0,
         "A_dff": 0.0, "sparse_extra_skip": 0.146}),
}

_DEFAULTS = {p.name: p.value for p in PARAMETERS}


@dataclass(frozen=True)
class Layer:
    """A layer's shape: ``in_channels`` x ``kernel``^2 rows, ``out_channels`` columns (before
    slicing), ``pixels`` output positions (1 for a linear layer). ``digital`` layers are
    left out of the IMC cost (computed elsewhere in full precision). ``zero_inputs`` (per
    input slice) and ``zero_columns``: the measured fractions of skipped reads and columns
    (None: ``DEFAULT_ZEROS``)."""

    name: str
    in_channels: int
    out_channels: int
    kernel: int = 1
    pixels: int = 1
    digital: bool = False
    zero_inputs: tuple[float, ...] | None = None
    zero_columns: float | None = None

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
    ``"out_size"`` (an int or [h, w]), and optionally ``"digital": true``,
    ``"zero_inputs": [fraction per input slice]`` and ``"zero_columns": fraction`` (what
    ``actc.nn.imc.imc_network`` writes)."""
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

    def fraction(v: Any, key: str) -> float:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1:
            raise ConfigError(f"{where}: {key!r} must hold fractions in [0, 1], got {v!r}")
        return float(v)

    name = str(obj.get("name", f"layer{i}"))
    digital = obj.get("digital", False)
    if not isinstance(digital, bool):
        raise ConfigError(f"{where}: 'digital' must be true or false")
    zi = obj.get("zero_inputs")
    if zi is not None:
        if not isinstance(zi, list) or not zi:
            raise ConfigError(f"{where}: 'zero_inputs' must be a list of fractions, one per "
                              "input slice")
        zi = tuple(fraction(v, "zero_inputs") for v in zi)
    zc = obj.get("zero_columns")
    zc = None if zc is None else fraction(zc, "zero_columns")
    if kind == "linear":
        return Layer(name, count("in"), count("out"), 1, 1, digital, zi, zc)
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
    return Layer(name, count("in"), count("out"), count("kernel"), pixels, digital, zi, zc)


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


def counter_bits(samples: int) -> int:
    """Bits of the per-column counter that sums T sample bits (0..T)."""
    return int(samples).bit_length()


def per_read(conv: Converter, xb: Crossbar, cols: int, p: dict, samples: int | None = None,
             conversions: float | None = None, acc_bits: int = 16) -> PerRead:
    """Time, energy and area of one array read with this converter and ``conversions``
    conversions (default: every column or pair), each accumulated by an ``acc_bits``-bit
    add (module docstring)."""
    rows = xb.rows
    scale = rows * cols / (128 * 128)  # crossbar figures are ISAAC's 128x128
    conv_cols = cols // 2 if xb.differential else cols  # a differential pair: one conversion
    n = float(conv_cols if conversions is None else conversions)
    e_bit = p["E_add_bit"] * p["node_scale"]
    a_bit = (p["A_add_bit"] + p["A_dff"]) * p["node_scale"]
    e_acc = acc_bits * e_bit
    area_sa = p["n_sa"] * p["A_sa"]
    if isinstance(conv, Mtj):
        t_samples = samples if samples is not None else conv.samples
        c = counter_bits(t_samples)
        t = p["t_dac"] + t_samples * p["t_sample"]
        energy = {"crossbar": 0.0, "dac": rows * p["P_dac"] * t, "sample_hold": 0.0,
                  "converter": n * t_samples * p["E_sample"],
                  "counter": n * t_samples * c * e_bit, "shift_add": n * e_acc}
        area = {"crossbar": p["A_xbar"] * scale, "dac": rows * p["A_dac"], "sample_hold": 0.0,
                "converter": conv_cols * p["A_conv"], "counter": conv_cols * c * a_bit,
                "shift_add": area_sa}
        return PerRead(t, energy, area)
    if isinstance(conv, (Adc, Sparse)):
        bits = conv.bits
    elif isinstance(conv, Ideal):
        lo, hi = xb.ps_range
        bits = max(1, int(hi - lo).bit_length())
    else:  # pragma: no cover - the registry has no other kind
        raise ConfigError(f"no cost model for converter {conv.spec}")
    if isinstance(conv, Sparse):
        n *= 1 - p["sparse_extra_skip"]
    e_conv, t_conv, a_conv = _sar(p, bits)
    t = n * t_conv
    energy = {"crossbar": p["P_xbar"] * scale * t, "dac": rows * p["P_dac"] * t,
              "sample_hold": cols * p["P_sh"] * t, "converter": n * e_conv, "counter": 0.0,
              "shift_add": n * e_acc}
    area = {"crossbar": p["A_xbar"] * scale, "dac": rows * p["A_dac"],
            "sample_hold": cols * p["A_sh"], "converter": a_conv, "counter": 0.0,
            "shift_add": area_sa}
    return PerRead(t, energy, area)


# --- the network ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Counts:
    arrays: int
    cycles: int  # pixels x input slices: array reads of one array
    reads: int
    conversions: int  # converted per read without skipping: every column (pair)
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


def accumulator_bits(layer: Layer, xb: Crossbar) -> int:
    """Bits of a layer's accumulated column result (signed): the digital adds' width."""
    lo, hi = xb.weight_range
    top = layer.fan_in * ((1 << xb.input_bits) - 1) * max(abs(lo), abs(hi))
    return top.bit_length() + 1


def zeros(layer: Layer, xb: Crossbar) -> tuple[list[float], float, str]:
    """(skipped fraction of the reads of each input slice, of the weight columns, where the
    fractions come from) for a layer (module docstring)."""
    if xb.zero_skip == "none":
        return [0.0] * xb.input_slices, 0.0, "zero_skip none"
    if layer.zero_inputs is not None or layer.zero_columns is not None:
        zi = list(layer.zero_inputs) if layer.zero_inputs is not None else \
            [0.0] * xb.input_slices
        if len(zi) != xb.input_slices:
            raise ConfigError(f"layer {layer.name}: {len(zi)} zero_inputs fractions for "
                              f"{xb.input_slices} input slices")
        return zi, float(layer.zero_columns or 0.0), "network file"
    cfg = DEFAULT_ZEROS["config"]
    if all(getattr(xb, k) == v for k, v in cfg.items() if k != "scheme") and (
            xb.scheme if xb.signed else "unsigned") == cfg["scheme"]:
        return list(DEFAULT_ZEROS["zero_inputs"]), float(DEFAULT_ZEROS["zero_columns"]), \
            DEFAULT_ZEROS["source"]
    return [0.0] * xb.input_slices, 0.0, ("no default measured for this crossbar: no "
                                          "skipped conversions credited")
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
    sources: dict[str, dict] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"network": self.network, "converter": self.converter,
                "baseline": self.baseline, "config": self.config,
                "parameters": self.parameters, "sources": self.sources,
                "layers": self.layers, "total": self.total, "ratio": self.ratio,
                "sensitivity": self.sensitivity}

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
                         f"{r['conversions']:>12.0f} {r['samples']:>11.0f} "
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
        preset = self.config.get("preset")
        fitted = [k for k, v in self.sources.items() if v["calibrated"]]
        lines.append("parameters: " + (f"preset {preset} ({', '.join(fitted)} fitted to the "
                                       "paper's headline, not measured)" if preset else
                                       "published figures (sources in the JSON and "
                                       "docs/reference/adc-cost.md)"))
        where = {row["zeros_source"] for row in self.layers if not row["digital"]}
        lines.append(f"skipped conversions ({self.config['zero_skip']}): {'; '.join(where)}")
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


def _layer_cost(layer: Layer, conv: Converter, xb: Crossbar, cols: int, p: dict,
                samples: int | None) -> dict[str, Any]:
    """A layer's energy, latency and area with one converter, skipped conversions credited
    (module docstring)."""
    c = counts(layer, xb, cols)
    rt = math.ceil(layer.fan_in / xb.rows)
    ct = c.arrays // rt
    zin, zcol, _ = zeros(layer, xb)
    acc = accumulator_bits(layer, xb)
    if xb.zero_skip == "none":
        n = None  # every column (pair) of every read
    else:  # the columns holding weights, less the zero ones, spread over the column tiles
        n = (layer.out_channels * xb.weight_slices * (1 - zcol) + (1 if xb.offset else 0)) / ct
    pr = per_read(conv, xb, cols, p, samples, n, acc)
    live = sum(1 - f for f in zin)  # input slices read, on average, per pixel
    reads = layer.pixels * rt * ct * live
    e = {k: v * reads for k, v in pr.energy.items()}
    a = {k: v * c.arrays for k, v in pr.area.items()}
    lat = c.cycles * pr.time
    return {"samples_per_conversion": (samples if samples is not None else
                                       conv.samples if isinstance(conv, Mtj) else None),
            "conversions_per_read": (n if n is not None else
                                     float(cols // 2 if xb.differential else cols)),
            "reads_performed": reads, "accumulator_bits": acc,
            "energy_j": sum(e.values()), "latency_s": lat, "area_mm2": sum(a.values()) * 1e6,
            "energy_breakdown_j": e, "area_breakdown_mm2": {k: v * 1e6 for k, v in a.items()}}


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
        row = _layer_cost(layer, conv, xb, cols, p, next(it))
        rows_out.append(row)
        energy += row["energy_j"]
        latency += row["latency_s"]
        area += row["area_mm2"] / 1e6
        for k, v in row["energy_breakdown_j"].items():
            parts_e[k] = parts_e.get(k, 0.0) + v
        for k, v in row["area_breakdown_mm2"].items():
            parts_a[k] = parts_a.get(k, 0.0) + v / 1e6
    total = {"spec": conv.spec, "energy_j": energy, "latency_s": latency,
             "area_mm2": area * 1e6, "edp_js": energy * latency,
             "energy_breakdown_j": parts_e,
             "area_breakdown_mm2": {k: v * 1e6 for k, v in parts_a.items()}}
    return rows_out, total


def parameters_for(preset: str | None = None, overrides: dict[str, float] | None = None
                   ) -> dict[str, float]:
    """The parameter values: the published defaults, a preset's fitted values over them,
    then ``overrides`` (``--set``), checked."""
    p = dict(_DEFAULTS)
    if preset is not None:  # the fitted values
        if preset not in PRESETS:
            raise ConfigError(f"unknown preset {preset!r} (known: {', '.join(PRESETS)})")
        p.update(PRESETS[preset].values)
    for k, v in (overrides or {}).items():
        if k not in p:
            raise ConfigError(f"unknown cost parameter {k!r} (known: {', '.join(p)})")
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
            raise ConfigError(f"cost parameter {k} must be a finite number >= 0, got {v!r}")
        p[k] = float(v)
    if not 0 <= p["sparse_extra_skip"] < 1:
        raise ConfigError("sparse_extra_skip must lie in [0, 1)")
    return p


def cost_report(network: str | list[Layer], conv: str | Converter, baseline: str | Converter,
                *, rows: int = 128, cols: int = 128, cell_bits: int = 1, dac_bits: int = 1,
                weight_bits: int = 4, input_bits: int = 4, scheme: str = "offset",
                zero_skip: str = "hardware", samples: list[int] | None = None,
                parameters: dict[str, float] | None = None, preset: str | None = None,
                with_sensitivity: bool = False) -> CostReport:
    """The cost of ``network`` (a built-in name, a JSON file, or layers) with ``conv`` against
    ``baseline``. ``scheme`` defaults to ``offset`` (ISAAC's biased weights: one column per
    weight slice); ``preset`` (``stoxnet-v2``) replaces parameters by fitted values;
    ``parameters`` override any parameter by name."""
    p = parameters_for(preset, parameters)
    if not 1 <= cols <= 4096:
        raise ConfigError(f"cols {cols} is out of range: use 1 to 4096")
    xb = Crossbar.from_scheme(scheme, rows=rows, cell_bits=cell_bits, dac_bits=dac_bits,
                              weight_bits=weight_bits, input_bits=input_bits,
                              zero_skip=zero_skip)
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
            zi, zc, where = zeros(layer, xb)
            conversions = rc["reads_performed"] * rc["conversions_per_read"]
            row.update(arrays=n.arrays, array_cycles=n.cycles, reads=n.reads,
                       conversions=conversions, used_conversions=n.used_conversions,
                       samples=conversions * t if t else 0,
                       zero_inputs=zi, zero_columns=zc, zeros_source=where,
                       converter=rc, baseline=rb)
        out_rows.append(row)
    ratio = {"energy": tot_b["energy_j"] / tot_c["energy_j"],
             "latency": tot_b["latency_s"] / tot_c["latency_s"],
             "area": tot_b["area_mm2"] / tot_c["area_mm2"],
             "edp": tot_b["edp_js"] / tot_c["edp_js"]}
    config = {"rows": rows, "cols": cols, "cell_bits": cell_bits, "dac_bits": dac_bits,
              "weight_bits": weight_bits, "input_bits": input_bits, "scheme": scheme,
              "zero_skip": zero_skip, "weight_slices": xb.weight_slices,
              "input_slices": xb.input_slices, "samples": samples, "preset": preset}
    report = CostReport(name, c.spec, b.spec, config, p, out_rows,
                        {"converter": tot_c, "baseline": tot_b}, ratio,
                        sources=_sources(p, preset))
    if with_sensitivity:
        report.sensitivity = sensitivity(network, c, b, rows=rows, cols=cols,
                                         cell_bits=cell_bits, dac_bits=dac_bits,
                                         weight_bits=weight_bits, input_bits=input_bits,
                                         scheme=scheme, zero_skip=zero_skip, samples=samples,
                                         parameters=p)
    return report


def _sources(p: dict[str, float], preset: str | None) -> dict[str, dict]:
    """Each parameter's value and source; a preset's or an override's value says so."""
    out = {}
    for q in PARAMETERS:
        entry = q.to_json()
        entry["value"] = p[q.name]
        if preset is not None and q.name in PRESETS[preset].values:
            entry.update(source=f"preset {preset}: {PRESETS[preset].description}",
                         calibrated=True)
        elif p[q.name] != q.value:
            entry.update(source=f"set by the user (published default {q.value:g}: "
                         f"{q.source})", calibrated=False)
        out[q.name] = entry
    return out


SENSITIVITY = ("E_sample", "t_sample", "A_conv", "E_adc8", "t_adc8", "A_adc8", "P_dac",
               "P_xbar", "A_xbar", "E_add_bit", "A_add_bit", "A_dff")


def sensitivity(network: str | list[Layer], conv: Converter, baseline: Converter,
                **kw: Any) -> list[dict]:
    """Each ratio with each main parameter halved and doubled (and the MTJ samples T)."""
    base = dict(kw.pop("parameters", None) or _DEFAULTS)
    out = []
    for name in SENSITIVITY:
        for factor in (0.5, 2.0):
            value = base[name] * factor
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
