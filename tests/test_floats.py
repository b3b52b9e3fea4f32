"""Float inputs: the conversions, and C and Python against the evaluator on every fp16 and
bf16 bit pattern (NaN, infinities and out-of-domain values included) and on the documented
fp32 set, with the C compiled as C99 and as C++ without FMA contraction."""

import numpy as np
import pytest

import actc
from actc.activation.evaluate import evaluate
from actc.errors import FormatError, TargetError
from actc.floatbits import f32_to_bits
from actc.targets import TARGETS
from actc.targets.c import WARNINGS, compile_and_run
from actc.unit import InputSpace

from .conftest import emitted_alone, grouped

FLOAT_CASES = [
    ("tanh_fp16", "tanh(x)", dict(in_format="fp16", method="geba", entries=24)),
    ("gelu_bf16", "gelu(x)", dict(in_format="bf16", method="optimal", entries=16)),
    ("sigmoid_fp32", "sigmoid(x)", dict(in_format="fp32", method="geba", entries=32)),
    ("swish_fp32_fixed", "swish(x)", dict(in_format="fp32", out_format="s16.11", method="geba",
                                          objective="mse", entries=20)),
    ("silu_fp16_u8", "silu(x)", dict(in_format="fp16", out_format="s8.5", method="optimal",
                                     entries=12, domain=(-4, 4))),
    ("tanh_bf16_fp32out", "tanh(x)", dict(in_format="bf16", out_format="fp32",
                                          method="geba", memory_bits=1500)),
]


def _case(case_id):
    return next(c for c in FLOAT_CASES if c[0] == case_id)


@pytest.mark.parametrize("target", ["c", "python", "hls"])
@pytest.mark.parametrize("case", grouped(FLOAT_CASES))
def test_float_targets_match_evaluator(build, case, target):
    d, r = build(*case, target=["c", "python"])
    if target == "hls":  # its NAME.h would clash with C's
        d, r = emitted_alone(d, r, "hls")
    space = r.unit.input_space()
    if r.unit.in_format.bits == 16:
        assert len(space) == 1 << 16
    expected = evaluate(r.unit, space.vectors["x"])
    got = TARGETS[target].run(d, r.unit, space, TARGETS[target].options())
    assert np.array_equal(got["y"], expected)


@pytest.mark.parametrize("case", grouped([_case("tanh_fp16"), _case("swish_fp32_fixed")]))
def test_float_header_as_cplusplus(build, case):
    d, r = build(*case, target=["c", "python"])
    codes = r.unit.input_space().vectors["x"][::7]
    flags = ["-x", "c++", "-std=c++11", *WARNINGS, "-O2", "-ffp-contract=off"]
    got = compile_and_run(d / f"{r.unit.name}.h", r.unit, InputSpace({"x": codes}, False, ""),
                          compiler="g++", flags=flags)
    assert np.array_equal(got["y"], evaluate(r.unit, codes))


@pytest.mark.xdist_group("sigmoid_fp32")
def test_float_errors_are_small(build):
    _, r = build(*_case("sigmoid_fp32"), target=["c", "python"])
    assert r.error["max_abs"] < 5e-4 and not r.error["exhaustive"]
    _, r = build(*_case("tanh_fp16"), target=["c", "python"])
    assert r.error["max_abs"] < 2e-3 and r.error["exhaustive"]


def test_fp16_rounding_matches_numpy():
    rng = np.random.default_rng(3)
    bits = rng.integers(0, 1 << 32, 1 << 20, dtype=np.int64)
    bits = np.concatenate([bits, np.arange(0x33000000 - 64, 0x33000000 + 64),
                           np.arange(0x387FE000, 0x38802000), np.arange(0x477FE000, 0x47800100)])
    y = bits.astype(np.uint32).view(np.float32)
    with np.errstate(all="ignore"):
        ref = y.astype(np.float16).view(np.uint16).astype(np.int64)
    got = f32_to_bits(y, "fp16")
    ok = ~np.isnan(y)
    assert np.array_equal(got[ok], ref[ok])
    assert np.all((got[~ok] & 0x7C00) == 0x7C00) and np.all(got[~ok] & 0x3FF)


def test_verilog_refuses_float_input():
    with pytest.raises(TargetError, match="--target verilog takes fixed-point inputs; fp16 is a "
                       "float format: use --target c or python, or a fixed-point --in"):
        actc.compile("tanh(x)", in_format="fp16", method="geba", entries=8, target="verilog")


def test_float_needs_geba_or_optimal():
    with pytest.raises(actc.ActcError, match="--method table takes fixed-point inputs; float "
                       "inputs \\(fp32\\) work with geba and optimal"):
        actc.build("tanh(x)", in_format="fp32")


def test_float_domain_must_be_representable():
    with pytest.raises(FormatError, match="--domain end 8.001 is not exactly representable"):
        actc.build("tanh(x)", in_format="fp16", method="geba", domain=(-8, 8.001))


def test_fixed_output_of_float_limited_to_22_bits():
    with pytest.raises(FormatError, match="take up to 22 bits"):
        actc.build("tanh(x)", in_format="fp32", out_format="s24.20", method="geba")


def test_targets_are_checked_before_the_fit(monkeypatch):
    """A target that cannot take the request says so before any fitting; ``all`` means every
    target that can."""
    from actc.activation.passes.geba import GebaPass

    def no_fit(self, domain):
        raise AssertionError("fitted before the targets were checked")

    monkeypatch.setattr(GebaPass, "run", no_fit)
    with pytest.raises(TargetError, match="--target verilog takes fixed-point inputs"):
        actc.compile("tanh(x)", in_format="fp16", method="geba", target="verilog")
    with pytest.raises(TargetError, match="--registered applies to --target verilog"):
        actc.compile("tanh(x)", in_format="fp16", method="geba", target="c", registered=True)
    monkeypatch.undo()
    r = actc.compile("tanh(x)", in_format="fp16", method="geba", entries=8, target="all")
    assert r.manifest["targets"] == ["c", "python"]
