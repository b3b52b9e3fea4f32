"""The digital back end of one crossbar column: a Unit (kind ``adc``).

It takes the converter outputs of one output column, one port per conversion: sub-array r,
input slice j, weight slice s (ports ``c_j{j}_r{r}_s{s}``; ``..._ref`` for the offset
scheme's reference column). For ``mtj:T`` a port carries the T sample bits of the junction
(ports ``b_...``) and the back end counts them; for the ADCs it carries the code. When the
crossbar skips conversions (``zero_skip`` hardware or stoxnet, the default), each conversion
also has a one-bit port ``z_j{j}_r{r}_s{s}`` (after all the code ports, same order): 1 means
the conversion was skipped and contributes zero (its code is ignored). The meaning, which
every target reproduces (``evaluate``)::

    code(port) = popcount(bits) (mtj) or the port's value
    y = sum over ports not skipped of sign * (2^(shift + log2 gain) * code - offset * 2^shift)

with shift = j dac_bits + s cell_bits, sign -1 for a reference column, and (gain, offset,
lsb) the converter's ``Decode``; without skip ports the offsets sum to a constant K =
offset * sum of sign * 2^shift, subtracted once. ``y`` is the accumulated column code;
its format (the manifest's ``output``) has scale lsb * input_scale * weight_scale and zero
point 0, so ``scale * y`` estimates the layer's output in real units, exactly for ``ideal``.

>>> unit = build_column("mtj:4", subarrays=2, rows=16, weight_bits=2, input_bits=2)
>>> [p.name for p in unit.inputs][:3], unit.out_format.text
(['b_j0_r0_s0', 'b_j0_r1_s0', 'b_j1_r0_s0'], 's6.-2')
>>> codes = {p.name: np.array([0b1111]) for p in unit.ports()}
>>> skips = {p.skip_name: np.array([0]) for p in unit.ports()}
>>> int(unit.evaluate(**codes, **skips)["y"][0])
24
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from .. import __version__
from ..errors import ConfigError
from ..formats import NumberFormat
from ..unit import EXHAUSTIVE_LIMIT, InputSpace, Port, Range, signed_width, unsigned_width
from .converters import Converter, Mtj, converter
from .crossbar import Crossbar

__all__ = ["ColumnPort", "ColumnUnit", "build_column", "compile_column", "stimulus"]

MAX_PORT_BITS = 63  # a port's codes travel as signed 64-bit words through the harnesses


@dataclass(frozen=True)
class ColumnPort:
    """One conversion of the column: its port name, input slice, sub-array, weight slice
    (-1: the reference column), shift and sign."""

    name: str
    j: int
    r: int
    s: int
    shift: int
    sign: int

    @property
    def beat_name(self) -> str:
        """The port of the serial (one input slice a clock) Verilog module."""
        return self.name.split("_", 2)[0] + "_" + self.name.split("_", 2)[2]

    @property
    def skip_name(self) -> str:
        """The conversion's skip flag port."""
        return "z_" + self.name.split("_", 1)[1]


@dataclass(frozen=True)
class ColumnUnit:
    """A column back end: see the module docstring."""

    kind: ClassVar[str] = "adc"

    name: str
    converter: dict  # the bound converter's JSON (spec, range, device curve)
    crossbar: dict  # Crossbar's fields
    subarrays: int
    code_bits: int  # bits of one port: the code, or the T sample bits of an mtj conversion
    sample_bits: bool  # ports carry sample bits to count (mtj)
    gain: int
    offset: int
    lsb: float  # real value of one unit of y before the layer scales
    input_scale: float = 1.0
    weight_scale: float = 1.0
    seed: int = 0
    vectors: int = 2048
    meta: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if not 1 <= self.code_bits <= MAX_PORT_BITS:
            raise ConfigError(f"a conversion's port would take {self.code_bits} bits: at most "
                              f"{MAX_PORT_BITS}")
        if self.out_format.bits > 62:
            raise ConfigError("the accumulated column code needs more than 62 bits")

    # --- structure ----------------------------------------------------------------------
    @property
    def xbar(self) -> Crossbar:
        return Crossbar(**{"zero_skip": "none", **self.crossbar})

    @property
    def conv(self) -> Converter:
        obj = dict(self.converter)
        return converter(obj.pop("spec"), **obj)

    @property
    def input_slices(self) -> int:
        return self.xbar.input_slices

    @property
    def skip(self) -> bool:
        """Whether the conversions carry skip flags (the crossbar skips: ``zero_skip``)."""
        return self.crossbar.get("zero_skip", "none") != "none"

    def ports(self) -> list[ColumnPort]:
        """Every conversion, in port order: input slice, then sub-array, then weight slice
        (the reference column last)."""
        prefix = "b" if self.sample_bits else "c"
        out = []
        terms = self.xbar.terms()
        for j in range(self.input_slices):
            for r in range(self.subarrays):
                for t in terms:
                    if t.j != j:
                        continue
                    s = "ref" if t.s < 0 else f"s{t.s}"
                    out.append(ColumnPort(f"{prefix}_j{j}_r{r}_{s}", j, r, t.s, t.shift,
                                          t.sign))
        return out

    @property
    def port_format(self) -> NumberFormat:
        return NumberFormat(self.code_bits, False, 1.0, 0)

    @property
    def code_max(self) -> int:
        """The largest code a port can stand for: T (mtj) or 2^bits - 1."""
        return self.code_bits if self.sample_bits else (1 << self.code_bits) - 1

    @property
    def gain_shift(self) -> int:
        return self.gain.bit_length() - 1

    @property
    def constant(self) -> int:
        """K = offset * sum of sign * 2^shift (0 with skip ports: each port subtracts its
        own offset term when it is not skipped)."""
        if self.skip:
            return 0
        return self.offset * sum(p.sign << p.shift for p in self.ports())

    def term_range(self, p: ColumnPort) -> Range:
        """The range of one port's term sign * (2^(shift + g) code - offset 2^shift), or of
        sign * 2^(shift + g) code without skip ports (their offsets are in K)."""
        off = (self.offset << p.shift) if self.skip else 0
        ends = [p.sign * ((c << (p.shift + self.gain_shift)) - off) for c in (0, self.code_max)]
        if self.skip:
            ends.append(0)
        return min(ends), max(ends)

    def signals(self) -> dict[str, Range]:
        """Ranges: ``code`` (one port's code), ``sum`` (any partial sum of the terms before
        K), ``y``."""
        lo = hi = 0
        for p in self.ports():
            a, b = self.term_range(p)
            lo, hi = lo + min(a, 0), hi + max(b, 0)
        k = self.constant
        return {"code": (0, self.code_max), "sum": (lo, hi), "y": (lo - k, hi - k)}

    @property
    def out_format(self) -> NumberFormat:
        lo, hi = self.signals()["y"]
        bits = signed_width(lo, hi) if lo < 0 else unsigned_width(hi)
        return NumberFormat(bits, lo < 0, self.lsb * self.input_scale * self.weight_scale, 0)

    # --- the Unit protocol --------------------------------------------------------------
    @property
    def inputs(self) -> tuple[Port, ...]:
        f = self.port_format
        codes = tuple(Port(p.name, f) for p in self.ports())
        if not self.skip:
            return codes
        flag = NumberFormat(1, False, 1.0, 0)
        return codes + tuple(Port(p.skip_name, flag) for p in self.ports())

    @property
    def outputs(self) -> tuple[Port, ...]:
        return (Port("y", self.out_format),)

    @property
    def memory_bits(self) -> int:
        return 0

    def evaluate(self, **inputs: Any) -> dict[str, np.ndarray]:
        y: np.ndarray | None = None
        g = self.gain_shift
        for p in self.ports():
            c = np.asarray(inputs[p.name], dtype=np.int64)
            if self.sample_bits:
                c = _popcount(c)
            if self.skip:
                term = p.sign * ((c << (p.shift + g)) - (self.offset << p.shift))
                term = np.where(np.asarray(inputs[p.skip_name]) != 0, 0, term)
            else:
                term = p.sign * (c << (p.shift + g))
            y = term if y is None else y + term
        assert y is not None
        return {"y": y - self.constant}

    def input_space(self) -> InputSpace:
        ports = self.inputs
        total = sum(p.bits for p in ports)
        if total <= math.log2(EXHAUSTIVE_LIMIT):
            grids = np.meshgrid(*[np.arange(1 << p.bits) for p in ports], indexing="ij")
            return InputSpace({p.name: g.ravel().astype(np.int64) for p, g in
                               zip(ports, grids)}, True, "every input vector")
        vec = corners(self)
        model = stimulus(self)[2]
        rng = np.random.default_rng(self.seed + 1)
        rand = {p.name: rng.integers(0, (1 << p.bits) - 1, self.vectors // 4, endpoint=True)
                for p in ports}
        space = {p.name: np.concatenate([vec[p.name], model[p.name], rand[p.name]]).astype(
            np.int64) for p in ports}
        return InputSpace(space, False, _SAMPLE)

    def summary(self) -> str:
        n = len(self.ports())
        what = f"{self.code_bits} sample bits" if self.sample_bits else \
            f"{self.code_bits}-bit codes"
        skip = f" and skip flags ({self.crossbar['zero_skip']})" if self.skip else ""
        return (f"{self.converter['spec']}, {self.subarrays} sub-arrays x "
                f"{self.input_slices} input slices: {n} conversions of {what}{skip}, y "
                f"{self.out_format.text}")

    def to_json(self) -> dict:
        return {"kind": self.kind, "name": self.name, "converter": self.converter,
                "crossbar": self.crossbar, "subarrays": self.subarrays,
                "code_bits": self.code_bits, "sample_bits": self.sample_bits,
                "gain": self.gain, "offset": self.offset, "lsb": self.lsb,
                "input_scale": self.input_scale, "weight_scale": self.weight_scale,
                "seed": self.seed, "vectors": self.vectors}

    @classmethod
    def from_json(cls, obj: dict) -> ColumnUnit:
        return cls(str(obj["name"]), dict(obj["converter"]), dict(obj["crossbar"]),
                   int(obj["subarrays"]), int(obj["code_bits"]), bool(obj["sample_bits"]),
                   int(obj["gain"]), int(obj["offset"]), float(obj["lsb"]),
                   float(obj["input_scale"]), float(obj["weight_scale"]), int(obj["seed"]),
                   int(obj["vectors"]))


_SAMPLE = ("corners (all ports zero, all at full scale, each port alone at full scale and "
           "alone at zero, alternating ports), the Python model's conversions of seeded "
           "random layers (sample bits of a seeded run for mtj; skip flags by the crossbar's "
           "rule), and seeded uniform random port values")


def _popcount(c: np.ndarray) -> np.ndarray:
    v = c.astype(np.uint64)
    n = np.zeros(v.shape, dtype=np.int64)
    while np.any(v):
        n += (v & np.uint64(1)).astype(np.int64)
        v >>= np.uint64(1)
    return n


def corners(unit: ColumnUnit) -> dict[str, np.ndarray]:
    """The corner vectors of the sample (see ``_SAMPLE``), over every input port (codes and
    skip flags)."""
    ports = list(unit.inputs)
    top = np.array([(1 << p.bits) - 1 for p in ports], dtype=np.int64)
    n = len(ports)
    rows = [np.zeros(n, dtype=np.int64), top.copy()]
    for i in range(n):
        one = np.zeros(n, dtype=np.int64)
        one[i] = top[i]
        rows.append(one)
        rest = top.copy()
        rest[i] = 0
        rows.append(rest)
    alt = np.where(np.arange(n) % 2 == 0, top, 0).astype(np.int64)
    rows += [alt, top - alt]
    m = np.stack(rows)
    return {p.name: m[:, i] for i, p in enumerate(ports)}


def stimulus(unit: ColumnUnit) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """The model-driven vectors: seeded random layers (``vectors`` outputs: inputs x of
    which half are zero, as after a ReLU, and 8 random weight columns) through the
    crossbar and the converter. Returns x (batch x in), w (in x 8) and the port values per
    output (batch x 8 outputs, flattened batch-major)."""
    xb = unit.xbar
    conv = unit.conv
    rng = np.random.default_rng(unit.seed)
    n_in = unit.subarrays * xb.rows
    cols = 8
    batch = max(1, unit.vectors // cols)
    lo, hi = xb.weight_range
    w = rng.integers(lo, hi, (n_in, cols), endpoint=True)
    x = rng.integers(0, (1 << xb.input_bits) - 1, (batch, n_in), endpoint=True)
    x[rng.random(x.shape) < 0.5] = 0
    # both skip rules fire: every third vector has no input on the first sub-array, the next
    # one no most significant input slice on the last, and output 0 no weight on the first
    x[::3, :xb.rows] = 0
    x[1::3, -xb.rows:] &= (1 << (xb.input_bits - xb.dac_bits)) - 1
    w[:xb.rows, 0] = 0
    ps, ref = xb.partial_sums(x, w)
    skip, ref_skip = xb.skips(x, w)
    out: dict[str, np.ndarray] = {}
    for p in unit.ports():
        if p.s < 0:
            assert ref is not None and ref_skip is not None
            v = ref[:, p.r, p.j][:, None].repeat(cols, axis=1)
            z = ref_skip[:, p.r, p.j][:, None].repeat(cols, axis=1)
        else:
            v = ps[:, p.r, p.j, p.s, :]
            z = skip[:, p.r, p.j, p.s, :]
        if isinstance(conv, Mtj):
            bits = conv.sample_bits(v, rng).astype(np.int64)
            code = (bits << np.arange(conv.samples, dtype=np.int64)).sum(axis=-1)
        else:
            code = conv.convert(v, rng)
        if unit.skip:  # a skipped conversion delivers no code: its port holds 0
            out[p.skip_name] = z.reshape(-1).astype(np.int64)
            code = np.where(z, 0, code)
        out[p.name] = code.reshape(-1)
    return x, w, out


def build_column(conv: str | Converter, *, subarrays: int = 1, name: str = "col",
                 input_scale: float = 1.0, weight_scale: float = 1.0, vectors: int = 2048,
                 seed: int = 0, scheme: str = "differential",
                 converter_params: dict | None = None, **crossbar: Any) -> ColumnUnit:
    """The column back end for a converter and a crossbar (``rows``, ``cell_bits``,
    ``dac_bits``, ``weight_bits``, ``input_bits``; ``scheme`` differential, offset or
    unsigned) with ``subarrays`` sub-arrays summed into each output."""
    xb = Crossbar.from_scheme(scheme, **crossbar)
    if isinstance(subarrays, bool) or not isinstance(subarrays, int) or not 1 <= subarrays <= 64:
        raise ConfigError(f"--subarrays {subarrays!r} is out of range: use 1 to 64")
    for what, v in (("--input-scale", input_scale), ("--weight-scale", weight_scale)):
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            raise ConfigError(f"{what} must be a positive number, got {v!r}")
    if not 16 <= vectors <= 1 << 20:
        raise ConfigError(f"--vectors {vectors} is out of range: use 16 to 1048576")
    c = xb.bind(converter(conv, **(converter_params or {})))
    d = c.decode
    sample_bits = isinstance(c, Mtj)
    bits = c.samples if isinstance(c, Mtj) else c.code_bits
    if bits > MAX_PORT_BITS:
        raise ConfigError(f"{c.spec}: a back end takes at most {MAX_PORT_BITS} sample bits "
                          "per conversion")
    if d.gain not in (1, 2):  # pragma: no cover - every converter's decode has gain 1 or 2
        raise ConfigError("the back end takes a decode gain of 1 or 2")
    xb_json = {"rows": xb.rows, "cell_bits": xb.cell_bits, "dac_bits": xb.dac_bits,
               "weight_bits": xb.weight_bits, "input_bits": xb.input_bits,
               "signed": xb.signed, "scheme": xb.scheme, "zero_skip": xb.zero_skip}
    return ColumnUnit(name, c.to_json(), xb_json, subarrays, bits, sample_bits, d.gain,
                      d.offset, d.lsb, float(input_scale), float(weight_scale), seed, vectors)


def compile_column(conv: str | Converter, *, target: str | list[str] = "all",
                   name: str = "col", architecture: str = "parallel",
                   registered: bool = False, **kw: Any) -> Any:
    """``actc adc compile``: the back end unit, its files for the targets and the manifest
    (nothing written until ``Result.write``). Takes ``build_column``'s keywords.

    >>> r = compile_column("adc:4", rows=16, weight_bits=2, input_bits=1, target="python")
    >>> sorted(r.files), r.manifest["output"]["text"]
    (['col.json', 'col.py'], 's5:1.0666666666666667:0')
    """
    from actc.targets import TARGETS, EmitInfo
    from actc.targets.base import check_name

    from ..api import Result, emit_files, select_targets, target_options_json
    from ..manifest import SCHEMA, dumps

    check_name(name, TARGETS)
    options: dict[str, Any] = {}
    if architecture != "parallel":
        options["architecture"] = architecture
    if registered:
        options["registered"] = True
    unit = build_column(conv, name=name, **kw)
    formats = [p.format for p in unit.inputs] + [unit.out_format]
    targets = select_targets(target, "adc", formats, (ColumnUnit,), options, set())
    space = unit.input_space()
    expected = unit.evaluate(**space.vectors)
    info = EmitInfo(version=__version__, provenance={"converter": unit.converter["spec"]},
                    error={}, space=space, expected=expected)
    files = emit_files(unit, targets, info)
    manifest_name = f"{unit.name}.json"
    latency = unit.input_slices if architecture == "serial" else (1 if registered else 0)
    manifest = {
        "schema": SCHEMA,
        "actc_version": __version__,
        "kind": unit.kind,
        "name": unit.name,
        "converter": unit.converter,
        "crossbar": unit.crossbar,
        "subarrays": unit.subarrays,
        "decode": {"lsb": unit.lsb, "gain": unit.gain, "offset": unit.offset},
        "inputs": [{"name": p.name, "bits": p.bits} for p in unit.inputs],
        "output": unit.out_format.to_json(),
        "output_range": list(unit.signals()["y"]),
        "latency": latency,
        "targets": list(targets),
        "target_options": target_options_json(targets),
        "files": [*files, manifest_name],
        "memory_bits": 0,
        "vectors": {"count": len(space), "exhaustive": space.exhaustive,
                    "description": space.description, "seed": unit.seed},
        "design": unit.to_json(),
    }
    files[manifest_name] = dumps(manifest)
    params = {"converter": unit.converter["spec"], "subarrays": unit.subarrays,
              **unit.crossbar}
    return Result(None, unit, "column", params, {}, files, manifest)

