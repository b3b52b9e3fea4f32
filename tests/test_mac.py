"""The MAC companion: every multiplier family against independent definitions and published
figures, the metrics against a brute force, and every target against the evaluator on every
operand pair with the real tools (gcc and g++, iverilog, Verilator lint)."""

import itertools
import math
import subprocess
from fractions import Fraction

import numpy as np
import pytest

from actc.errors import ActcError, FormatError, SemanticError
from actc.mac.api import compile as compile_mac
from actc.mac.families import FAMILIES, parse_multiplier
from actc.mac.ir import MacUnit, Multiplier
from actc.mac.metrics import measure
from actc.targets import TARGETS
from actc.targets.c import C_FLAGS, compile_and_run
from actc.targets.verilog import lint, simulate
from actc.unit import InputSpace
from actc.verification import verify

CXX_FLAGS = ["-x", "c++", "-std=c++11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O1"]
# The stricter warnings firmware builds use (-Wconversion and friends): the MAC headers are
# clean under them too.
FIRMWARE_FLAGS = [*C_FLAGS, "-Wconversion", "-Wsign-conversion", "-Wshadow", "-Wundef",
                  "-Wcast-align", "-Wdeclaration-after-statement", "-Wstrict-prototypes",
                  "-Wmissing-prototypes"]

LIBRARY = ["exact", "truncated:4", "truncated:5,correction=mean", "truncated:8,correction=grid",
           "bam:2,6", "bam:1,1", "drum:4", "drum:6", "mitchell", "ilm:0", "ilm:2", "mbm",
           "asm:1", "asm:1,3", "asm:1,3,5,7"]


def pairs(na, nb, signed):
    ra = range(-(1 << (na - 1)), 1 << (na - 1)) if signed else range(1 << na)
    rb = range(-(1 << (nb - 1)), 1 << (nb - 1)) if signed else range(1 << nb)
    return list(itertools.product(ra, rb))


# --- registry and grammar ------------------------------------------------------------------

def test_families_keyed_by_name_module_and_class():
    assert len([f for f in FAMILIES.values() if f.listed]) >= 8
    for key, cls in FAMILIES.items():
        assert key == cls.name
        assert cls.__module__ == f"actc.mac.families.{key}"
        assert cls.__name__ == key.capitalize() + "Family"


@pytest.mark.parametrize("spec, message", [
    ("truncated:99", "--multiplier 'truncated:99': K 99 is out of range for 8x8-bit operands "
                     "(use 0 to 15)"),
    ("asm:2", "--multiplier 'asm:2': alphabet letters are odd numbers 1 to 15 (even ones are "
              "shifts of odd ones); 2 is not"),
    ("drum:0", "--multiplier 'drum:0': K 0 is out of range for 8x8-bit operands (use 2 to 8)"),
    ("drumm:4", "--multiplier 'drumm:4': unknown family 'drumm'; did you mean 'drum'? (actc mac "
                "list shows them: exact, truncated, bam, drum, mitchell, ilm, mbm, asm)"),
    ("asm:3,5", "--multiplier 'asm:3,5': the alphabet must contain 1"),
    ("truncated", "--multiplier 'truncated': truncated needs columns "
                  "(truncated:K,[correction=none|mean|grid])"),
    ("bam:1,2,3", "--multiplier 'bam:1,2,3': too many arguments for bam (bam:H,V)"),
    ("ilm:x", "--multiplier 'ilm:x': ilm parameter corrections takes integers, got 'x'"),
    ("table:x", "--multiplier 'table:x': a product table is read from a MAC manifest (.json) or "
                "a .npy array, not 'x' (to characterise a circuit use actc mac import)"),
])
def test_bad_multiplier_specs(spec, message):
    with pytest.raises(SemanticError) as e:
        Multiplier(parse_multiplier(spec), 8, 8, False)
    assert str(e.value) == message


@pytest.mark.parametrize("bits", [0, 3, 17])
def test_operand_widths_out_of_range(bits):
    with pytest.raises(FormatError, match=f"operand a of {bits} bits is impossible: multipliers "
                       "take 4 to 16 bits per operand"):
        Multiplier(parse_multiplier("exact"), bits, 8)


def test_spec_round_trip_and_defaults():
    for spec in LIBRARY + ["asm:1,3,tie=down", "truncated:6,correction=mean"]:
        f = parse_multiplier(spec)
        assert parse_multiplier(f.spec()) == f
    assert parse_multiplier("truncated:6,mean").spec() == "truncated:6,correction=mean"
    assert parse_multiplier("asm:7,1,3").spec() == "asm:1,3,7"


# --- the evaluators against independent definitions ------------------------------------------

def _bit(x, i):
    return (x >> i) & 1


def ref_truncated(a, b, na, nb, k):  # unsigned: every kept partial-product bit
    return sum(_bit(a, i) * _bit(b, j) << (i + j) for i in range(na) for j in range(nb)
               if i + j >= k)


def ref_drum(x, k):
    s = bin(x)[2:]
    if len(s) <= k:
        return x
    return int(s[:k - 1] + "1", 2) << (len(s) - k)


def ref_mitchell(a, b):
    if a == 0 or b == 0:
        return 0
    k1, k2 = a.bit_length() - 1, b.bit_length() - 1
    x1, x2 = Fraction(a, 1 << k1) - 1, Fraction(b, 1 << k2) - 1
    v = (1 + x1 + x2) * 2 ** (k1 + k2) if x1 + x2 < 1 else (x1 + x2) * 2 ** (k1 + k2 + 1)
    assert v.denominator == 1
    return int(v)


def ref_ilm(a, b, c):
    if a == 0 or b == 0 or c < 0:
        return 0
    k1, k2 = a.bit_length() - 1, b.bit_length() - 1
    r1, r2 = a - (1 << k1), b - (1 << k2)
    return (1 << (k1 + k2)) + (r1 << k2) + (r2 << k1) + ref_ilm(r1, r2, c - 1)


def ref_mbm(a, b, na, nb):
    if a == 0 or b == 0:
        return 0
    k1, k2 = a.bit_length() - 1, b.bit_length() - 1
    x1, x2 = Fraction(a, 1 << k1) - 1, Fraction(b, 1 << k2) - 1
    c = Fraction(10, 128)
    if x1 + x2 < 1:
        v = math.floor((1 + x1 + x2 + c) * 2 ** (k1 + k2))
    else:
        v = math.floor((x1 + x2 + c / 2) * 2 ** (k1 + k2 + 1))
    return ref_mitchell(a, b) if v >= 1 << (na + nb) else v


def ref_asm_weight(m, alphabet, mmax, tie="up"):
    quartet = {0} | {a << s for a in alphabet for s in range(4) if a << s <= 15}
    reps = [v for v in range(mmax + 1)
            if all((v >> (4 * i)) & 15 in quartet for i in range(5))]
    best = min(abs(r - m) for r in reps)
    near = [r for r in reps if abs(r - m) == best]
    return max(near) if tie == "up" else min(near)


def sm(core, a, b):
    p = core(abs(a), abs(b))
    return -p if (a < 0) != (b < 0) else p


@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("na, nb", [(5, 6), (6, 4)])
def test_families_match_independent_definitions(na, nb, signed):
    cases = {
        "drum:3": lambda a, b: sm(lambda x, y: ref_drum(x, 3) * ref_drum(y, 3), a, b),
        "mitchell": lambda a, b: sm(ref_mitchell, a, b),
        "ilm:1": lambda a, b: sm(lambda x, y: ref_ilm(x, y, 1), a, b),
        "mbm": lambda a, b: sm(lambda x, y: ref_mbm(x, y, na, nb), a, b),
        "asm:1,3": lambda a, b: a * (-1 if b < 0 else 1) * ref_asm_weight(
            abs(b), (1, 3), (1 << (nb - 1)) if signed else (1 << nb) - 1),
    }
    if not signed:
        cases["truncated:3"] = lambda a, b: ref_truncated(a, b, na, nb, 3)
        cases["bam:1,4"] = lambda a, b: sum(
            _bit(a, i) * _bit(b, j) << (i + j) for i in range(na) for j in range(nb)
            if j >= 1 and i + j >= 4)
    ab = pairs(na, nb, signed)
    a = np.array([p[0] for p in ab])
    b = np.array([p[1] for p in ab])
    for spec, ref in cases.items():
        m = Multiplier(parse_multiplier(spec), na, nb, signed)
        want = [ref(x, y) for x, y in ab]
        assert m.product(a, b).tolist() == want, spec


@pytest.mark.parametrize("na, nb", [(6, 6), (5, 7)])
def test_signed_baugh_wooley_truncation_drops_exactly_its_bits(na, nb):
    """Signed truncated:K + the value of the dropped Baugh-Wooley bits = a*b (mod 2^n)."""
    k = 4
    p = na + nb
    for a, b in pairs(na, nb, True):
        pa, pb = a & ((1 << na) - 1), b & ((1 << nb) - 1)
        dropped = 0
        for i in range(na):
            for j in range(nb):
                if i + j < k:
                    v = _bit(pa, i) & _bit(pb, j)
                    if (i == na - 1) != (j == nb - 1):
                        v = 1 - v
                    dropped += v << (i + j)
        m = Multiplier(parse_multiplier(f"truncated:{k}"), na, nb, True)
        got = int(m.product(a, b))
        assert (got + dropped - a * b) % (1 << p) == 0


def test_exactness_identities_at_every_width():
    rng = np.random.default_rng(5)
    for na, nb in itertools.product(range(4, 17, 3), range(4, 17, 4)):
        for signed in (False, True):
            fa = Multiplier(parse_multiplier("exact"), na, nb, signed).a_format
            fb = Multiplier(parse_multiplier("exact"), na, nb, signed).b_format
            a = rng.integers(fa.code_min, fa.code_max + 1, 4000)
            b = rng.integers(fb.code_min, fb.code_max + 1, 4000)
            a[:2], b[:2] = [fa.code_min, fa.code_max], [fb.code_min, fb.code_max]
            for spec in ("exact", "truncated:0", "bam:0,0", f"drum:{max(na, nb)}",
                         f"ilm:{min(na, nb) - 1}", "asm:1,3,5,7,9,11,13,15"):
                m = Multiplier(parse_multiplier(spec), na, nb, signed)
                assert np.array_equal(m.product(a, b), a * b), (spec, na, nb, signed)


# Published or independently computed MRE % at 8 x 8 unsigned, exhaustive (the research notes;
# Hashemi et al. ICCAD 2015, Babic et al. 2011, Mitchell 1962).
ANCHORS = {"mitchell": 3.788, "drum:4": 5.887, "drum:6": 1.301, "drum:3": 12.095,
           "truncated:4": 0.564, "truncated:6": 2.638, "truncated:8": 9.780, "ilm:0": 8.913,
           "ilm:1": 0.834, "ilm:2": 0.071, "bam:1,1": 1.336, "asm:1": 18.784, "asm:1,3": 5.377,
           "asm:1,3,5,7": 1.117, "mbm": 2.711}


@pytest.mark.parametrize("spec", sorted(ANCHORS))
def test_mre_matches_published_and_reference_figures(spec):
    m = measure(Multiplier(parse_multiplier(spec), 8, 8, False))
    assert m["exhaustive"] and m["pairs"] == 65536
    assert round(m["mre_percent"], 3) == pytest.approx(ANCHORS[spec], abs=0.0015)


def test_mbm_matches_the_paper_with_its_all_pairs_mean():
    """Saadat et al. average over all 65536 pairs (zero products count 0): 2.69 %, bias 0.05 %."""
    m = Multiplier(parse_multiplier("mbm"), 8, 8, False)
    a = m.operands("a")[:, None]
    b = m.operands("b")[None, :]
    rel = np.where(a * b != 0, (m.product(a, b) - a * b) / np.maximum(a * b, 1), 0.0)
    assert np.abs(rel).mean() * 100 == pytest.approx(2.690, abs=0.001)
    assert rel.mean() * 100 == pytest.approx(0.047, abs=0.001)


def test_asm_representable_counts_and_rounding():
    f = parse_multiplier("asm:1")
    counts = {alpha: len(parse_multiplier(f"asm:{alpha}").layout(8, False).representable())
              for alpha in ("1", "1,3", "1,3,5,7", "1,3,5,7,9,11,13,15")}
    assert counts == {"1": 25, "1,3": 64, "1,3,5,7": 144, "1,3,5,7,9,11,13,15": 256}
    t = f.rounding(8, False)
    assert t[15] == 16 and t[3] == 4  # global nearest; the tie 3 (2 or 4) goes up
    assert parse_multiplier("asm:1,tie=down").rounding(8, False)[3] == 2
    m = Multiplier(parse_multiplier("asm:1,3"), 8, 8, True)
    b = m.operands("b")
    assert np.array_equal(m.port_product(7, m.encode(b)), m.product(7, b))
    assert m.weight_bits == 9


# --- metrics against a brute force ----------------------------------------------------------

@pytest.mark.parametrize("spec, signed", [("drum:3", False), ("truncated:5,correction=mean", True),
                                          ("asm:1,3", True), ("mitchell", False)])
def test_metrics_match_a_brute_force(spec, signed):
    m = Multiplier(parse_multiplier(spec), 6, 7, signed)
    got = measure(m)
    errs, rels = [], []
    for a, b in pairs(6, 7, signed):
        e = int(m.product(a, b)) - a * b
        errs.append(e)
        if a * b:
            rels.append(Fraction(abs(e), abs(a * b)))
    n = len(errs)
    assert got["pairs"] == n == 1 << 13 and got["exhaustive"]
    assert got["ep_percent"] == pytest.approx(100 * sum(e != 0 for e in errs) / n, abs=1e-12)
    assert got["mae"] == pytest.approx(sum(map(abs, errs)) / n, rel=1e-12)
    assert got["mae_percent"] == pytest.approx(100 * sum(map(abs, errs)) / n / 2 ** 13, rel=1e-12)
    assert got["wce"] == max(map(abs, errs))
    assert got["wce_percent"] == pytest.approx(100 * max(map(abs, errs)) / 2 ** 13, rel=1e-12)
    assert got["mre_percent"] == pytest.approx(float(100 * sum(rels) / len(rels)), rel=1e-12)
    assert got["wcre_percent"] == pytest.approx(float(100 * max(rels)), rel=1e-12)
    assert got["mse"] == pytest.approx(sum(e * e for e in errs) / n, rel=1e-12)
    assert got["bias"] == pytest.approx(sum(errs) / n, rel=1e-12, abs=1e-12)
    mean = Fraction(sum(errs), n)
    assert got["std"] == pytest.approx(math.sqrt(float(sum((e - mean) ** 2 for e in errs) / n)),
                                       rel=1e-9)


def test_sampled_metrics_carry_a_confidence_interval_that_covers_the_truth():
    """16 x 16 DRUM-6: 2^22 sampled pairs; the paper's 1.47 % (10^9 pairs) lies inside 95 %
    bounds of about +-0.001 (a z-score of 2 at most)."""
    m = measure(Multiplier(parse_multiplier("drum:6"), 16, 16, False))
    assert not m["exhaustive"] and m["pairs"] == 1 << 22
    half = m["ci95"]["mre_percent"]
    assert 0 < half < 0.005
    assert abs(m["mre_percent"] - 1.467) < 2 * half + 0.0005


# --- every target, every operand pair ------------------------------------------------------

_BUILT: dict = {}


def built(tmp_path_factory, case):
    case_id, spec, kw = case
    if case_id not in _BUILT:
        d = tmp_path_factory.mktemp(case_id)
        r = compile_mac(spec, name=case_id, **kw)
        r.write(d)
        _BUILT[case_id] = (d, r)
    return _BUILT[case_id]


def _cases():
    out = []
    for spec in LIBRARY:
        for signed in (False, True):
            cid = "m_" + spec.replace(":", "_").replace(",", "_").replace("=", "_") + \
                ("_s" if signed else "_u")
            out.append((cid, spec, {"bits": 8, "signed": signed}))
    out += [
        ("m_drum4_lanes4", "drum:4", {"bits": 8, "signed": True, "lanes": 4}),
        ("m_asm13_lanes3_acc", "asm:1,3", {"bits": 8, "signed": True, "lanes": 3,
                                           "accumulate": True, "acc_bits": 20}),
        ("m_exact_acc", "exact", {"bits": 8, "accumulate": True, "acc_bits": 17}),
        ("m_mitchell_reg", "mitchell", {"bits": 8, "registered": True}),
        ("m_mbm_5x11", "mbm", {"a_bits": 5, "b_bits": 11, "signed": True}),
        ("m_trunc_12x6", "truncated:9,correction=mean", {"a_bits": 12, "b_bits": 6,
                                                          "signed": True}),
        ("m_ilm_4x4", "ilm:1", {"bits": 4, "signed": True}),
        ("m_bam_7x9", "bam:3,5", {"a_bits": 7, "b_bits": 9}),
    ]
    return out


CASES = _cases()


def grouped(cases):
    return [pytest.param(c, id=c[0], marks=pytest.mark.xdist_group(c[0])) for c in cases]


@pytest.mark.parametrize("case", grouped(CASES))
def test_every_target_matches_the_evaluator_on_every_pair(tmp_path_factory, case):
    d, r = built(tmp_path_factory, case)
    report = verify(d / f"{r.unit.name}.json")
    assert report.ok, report.table()
    assert [row.target for row in report.rows] == [t for t in TARGETS if "mac" in TARGETS[t].kinds]
    space = r.unit.input_space()
    m = r.unit.multiplier
    assert space.exhaustive and len(space) >= 1 << (m.a_bits + m.weight_bits)


@pytest.mark.parametrize("case", grouped(CASES))
def test_header_compiles_as_cplusplus_and_under_firmware_warnings(tmp_path_factory, case):
    d, r = built(tmp_path_factory, case)
    space = r.unit.input_space()
    want = r.unit.evaluate(**space.vectors)
    for cc, flags in (("g++", CXX_FLAGS), ("gcc", FIRMWARE_FLAGS)):
        got = compile_and_run(d / f"{r.unit.name}.h", r.unit, space, compiler=cc, flags=flags)
        assert all(np.array_equal(got[k], want[k]) for k in want)


@pytest.mark.parametrize("case", grouped(CASES))
def test_verilog_is_lint_clean(tmp_path_factory, case):
    d, r = built(tmp_path_factory, case)
    lint(d / f"{r.unit.name}.v", r.unit.name)


@pytest.mark.xdist_group("m_asm13_lanes3_acc")
def test_emitted_testbench_self_checks_and_catches_a_wrong_vector(tmp_path_factory):
    d, r = built(tmp_path_factory, next(c for c in CASES if c[0] == "m_asm13_lanes3_acc"))
    name = r.unit.name
    subprocess.run(["iverilog", "-g2005", "-o", "tb.vvp", f"{name}_tb.v", f"{name}.v"], cwd=d,
                   check=True)
    out = subprocess.run(["vvp", "-n", "tb.vvp"], cwd=d, check=True, capture_output=True,
                         text=True).stdout
    assert f"PASS {len(r.unit.input_space())} vectors" in out
    lines = (d / f"{name}_vectors.hex").read_text().splitlines()
    lines[300] = f"{int(lines[300], 16) ^ 1:0{len(lines[300])}x}"
    (d / "bad.hex").write_text("\n".join(lines) + "\n")
    out = subprocess.run(["vvp", "-n", "tb.vvp", "+vectors=bad.hex"], cwd=d, check=True,
                         capture_output=True, text=True).stdout
    assert f"FAIL 1 of {len(lines)} vectors" in out


def test_accumulator_semantics_and_wrap():
    u = MacUnit("acc", Multiplier(parse_multiplier("exact"), 8, 8, True), 1, True, 17)
    a = np.array([100, 100, 100, 3, -5, 7])
    b = np.array([100, 100, 100, 4, 5, 1])
    clear = np.array([1, 0, 0, 1, 0, 0])
    valid = np.array([1, 1, 1, 1, 1, 0])
    got = u.evaluate(a=a, b=b, clear=clear, valid=valid)["acc"]
    # 3 * 10000 = 30000 wraps in 17 bits (two's complement, max 65535): 30000 - 131072? no:
    # 10000, 20000, 30000 fit; then clear: 12, -13, -13 (valid low)
    assert got.tolist() == [10000, 20000, 30000, 12, -13, -13]
    space = u.input_space()
    assert "wraps the accumulator" in space.description
    acc = u.evaluate(**space.vectors)["acc"]
    assert acc.min() < -(1 << 15) and acc.max() > (1 << 15)  # the wrap run reaches both ends
    with pytest.raises(ValueError, match="starts with clear"):
        u.evaluate(a=a, b=b, clear=np.zeros(6, int), valid=valid)


@pytest.mark.parametrize("spec, signed", [("mbm", True), ("asm:1,3", True), ("drum:6", False),
                                          ("truncated:12,correction=mean", True)])
def test_16_bit_units_on_the_sample(tmp_path, spec, signed):
    """16 x 16 bits: C and Python on the whole 2^20-pair sample; Verilog (slow to simulate) on
    its corner pairs and the first random ones."""
    r = compile_mac(spec, bits=16, signed=signed, name="w16")
    r.write(tmp_path)
    u = r.unit
    space = u.input_space()
    assert not space.exhaustive and len(space) == 1 << 20
    want = u.evaluate(**space.vectors)
    got = compile_and_run(tmp_path / "w16.h", u, space, flags=FIRMWARE_FLAGS)
    assert np.array_equal(got["y"], want["y"])
    got = TARGETS["python"].run(tmp_path, u, space, TARGETS["python"].options())
    assert np.array_equal(got["y"], want["y"])
    head = InputSpace({k: v[:6000] for k, v in space.vectors.items()}, False, "head")
    got = simulate([tmp_path / "w16_tb.v", tmp_path / "w16.v"], "w16_tb", u, head)
    assert np.array_equal(got["y"], want["y"][:6000])
    lint(tmp_path / "w16.v", "w16")


def test_identical_inputs_give_byte_identical_files():
    a = compile_mac("asm:1,3", bits=8, signed=True, lanes=2).files
    b = compile_mac("asm:1,3", bits=8, signed=True, lanes=2).files
    assert a == b


def test_verilog_architecture_and_registered_rules():
    with pytest.raises(ActcError, match="a MAC unit's Verilog is parallel"):
        compile_mac("exact", target="verilog", architecture="serial")
    with pytest.raises(ActcError, match="drop --registered"):
        compile_mac("exact", accumulate=True, registered=True)
    with pytest.raises(ActcError, match="--acc-bits needs --accumulate"):
        compile_mac("exact", acc_bits=20)
