"""actc.adc, the numpy model: every converter against an independent formula, the crossbar
against the integer matmul, the stochastic MTJ against its analytic mean and variance."""

import math

import numpy as np
import pytest

from actc.adc import Crossbar, converter
from actc.adc.converters import CONVERTERS, MTJ_K, MTJ_X0
from actc.errors import ConfigError


def _weights(xb, rng, shape):
    lo, hi = xb.weight_range
    return rng.integers(lo, hi + 1, shape)


CONFIGS = [
    dict(rows=16, cell_bits=1, dac_bits=1, weight_bits=4, input_bits=4),
    dict(rows=16, cell_bits=2, dac_bits=2, weight_bits=5, input_bits=3),
    dict(rows=64, cell_bits=4, dac_bits=4, weight_bits=8, input_bits=8),
    dict(rows=128, cell_bits=1, dac_bits=3, weight_bits=1, input_bits=8),
    dict(rows=32, cell_bits=2, dac_bits=1, weight_bits=2, input_bits=1),
    dict(rows=512, cell_bits=4, dac_bits=1, weight_bits=7, input_bits=2),
]
SIGNS = [dict(signed=True, scheme="differential"), dict(signed=True, scheme="offset"),
         dict(signed=False)]


@pytest.mark.parametrize("sign", SIGNS, ids=["differential", "offset", "unsigned"])
@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: "r{rows}c{cell_bits}d{dac_bits}"
                         "w{weight_bits}i{input_bits}".format(**c))
def test_ideal_converter_reproduces_the_integer_matmul_exactly(cfg, sign):
    xb = Crossbar(**cfg, **sign)
    rng = np.random.default_rng(cfg["rows"] + cfg["weight_bits"])
    n_in = 3 * cfg["rows"] + 5  # several sub-arrays, the last one partly used
    x = rng.integers(0, 1 << cfg["input_bits"], (7, n_in))
    w = _weights(xb, rng, (n_in, 6))
    x[0] = (1 << cfg["input_bits"]) - 1  # corners: all inputs at full scale
    w[:, 0] = xb.weight_range[0]
    w[:, 1] = xb.weight_range[1]
    y = xb.matmul(x, w, "ideal")
    assert y.dtype == np.int64 and np.array_equal(y, x @ w)
    assert xb.output_lsb("ideal") == 1.0


def test_partial_sums_are_the_sliced_products():
    """ps[b, r, j, s, o] against a direct triple loop on one small case."""
    xb = Crossbar(rows=16, cell_bits=2, dac_bits=2, weight_bits=5, input_bits=4)
    rng = np.random.default_rng(3)
    x = rng.integers(0, 16, (2, 20))
    w = _weights(xb, rng, (20, 3))
    ps, ref = xb.partial_sums(x, w)
    assert ref is None and ps.shape == (2, 2, 2, 2, 3)
    for b in range(2):
        for r in range(2):
            for j in range(2):
                for s in range(2):
                    for o in range(3):
                        tot = 0
                        for i in range(r * 16, min(20, (r + 1) * 16)):
                            xj = (x[b, i] >> (2 * j)) & 3
                            m = abs(int(w[i, o]))
                            cell = (m >> (2 * s)) & 3
                            tot += xj * cell * (1 if w[i, o] >= 0 else -1)
                        assert ps[b, r, j, s, o] == tot
    lo, hi = xb.ps_range
    assert (lo, hi) == (-16 * 3 * 3, 16 * 3 * 3)


def _levels_nearest(ps, lo, hi, bits):
    """Independent adc:N: the nearest of the 2^N levels spread evenly over [lo, hi], ties to
    the upper level, by brute force over the levels."""
    n = 1 << bits
    if float(lo).is_integer() and n - 1 >= hi - lo:
        levels = lo + np.arange(n, dtype=np.float64)
    else:
        levels = lo + np.arange(n) * (hi - lo) / (n - 1)
    d = np.abs(ps[:, None] - levels[None, :])
    best = d.min(axis=1, keepdims=True)
    tie = np.isclose(d, best, rtol=0, atol=1e-9)
    return n - 1 - np.argmax(tie[:, ::-1], axis=1), levels  # the highest of the nearest


@pytest.mark.parametrize("bits", [1, 2, 3, 4, 6, 8])
@pytest.mark.parametrize("rng_", [(-64, 64), (0, 64), (-20.5, 20.5), (0, 7)])
def test_adc_is_the_nearest_uniform_level(bits, rng_):
    lo, hi = rng_
    c = converter(f"adc:{bits}", lo=lo, hi=hi)
    ps = np.arange(int(math.floor(lo)) - 5, int(math.ceil(hi)) + 6)
    want, levels = _levels_nearest(ps.astype(np.float64), lo, hi, bits)
    got = c.convert(ps)
    assert np.array_equal(got, want)
    assert np.allclose(c.decode.values(got), levels[want], rtol=0, atol=1e-9)
    assert np.array_equal(c.expected(ps), got.astype(float))


def test_adc_with_enough_bits_equals_ideal_through_the_crossbar():
    xb = Crossbar(rows=16, cell_bits=1, dac_bits=1, weight_bits=4, input_bits=4)
    rng = np.random.default_rng(5)
    x = rng.integers(0, 16, (5, 50))
    w = _weights(xb, rng, (50, 4))
    # ps range [-16, 16]: 33 values need 6 bits
    assert np.array_equal(xb.matmul(x, w, "adc:6"), x @ w)
    y5 = xb.matmul(x, w, "adc:5") * xb.output_lsb("adc:5")
    assert not np.array_equal(y5, x @ w)


@pytest.mark.parametrize("bits", [1, 2, 4])
@pytest.mark.parametrize("signed", [True, False])
def test_sparse_is_exact_in_the_central_region_and_saturates(bits, signed):
    lo, hi = (-64, 64) if signed else (0, 64)
    c = converter(f"sparse:{bits}", lo=lo, hi=hi)
    ps = np.arange(lo, hi + 1)
    low = -(1 << (bits - 1)) if signed else 0
    top = low + (1 << bits) - 1
    want = np.clip(ps, low, top)  # independent: the saturated partial sum itself
    assert np.array_equal(c.decode.values(c.convert(ps)), want)
    assert c.convert(ps).min() == 0 and c.convert(ps).max() == (1 << bits) - 1


def _p(ps, lo, hi):
    """Independent p(x): StoX-Net's curve written out, x = ps / (half range) - centre."""
    x = np.clip((ps - (lo + hi) / 2) / ((hi - lo) / 2), -1, 1)
    return 1 / (1 + np.exp(-MTJ_K * (x - MTJ_X0)))


@pytest.mark.parametrize("samples", [1, 4, 16, 64])
def test_mtj_mean_and_variance_match_the_binomial(samples):
    """n = 40000 conversions of each of 9 partial sums. The mean code must lie within 5
    standard errors of T p(x) and the sample variance within 5 standard errors of
    T p (1 - p) (its standard error from the binomial's fourth central moment); the chance
    that a correct implementation fails any of the 18 checks is below 1e-5. A wrong curve
    (sigmoid(4x) without x0, StoX-Net's older default) is off by > 15 standard errors at
    x = ±0.5 for T >= 4, so it cannot pass by chance (asserted below)."""
    lo, hi = -64, 64
    c = converter(f"mtj:{samples}", lo=lo, hi=hi)
    ps = np.array([-80, -64, -32, -8, 0, 8, 32, 64, 80])
    n = 40000
    codes = c.convert(np.repeat(ps[None, :], n, axis=0), np.random.default_rng(11))
    assert codes.min() >= 0 and codes.max() <= samples
    p = _p(ps, lo, hi)
    mean, var = samples * p, samples * p * (1 - p)
    assert np.allclose(c.expected(ps), mean, rtol=1e-12)
    m = codes.mean(axis=0)
    assert np.all(np.abs(m - mean) <= 5 * np.sqrt(var / n))
    # fourth central moment of a binomial: T p q (1 + 3 (T - 2) p q)
    pq = p * (1 - p)
    mu4 = samples * pq * (1 + 3 * (samples - 2) * pq)
    se_var = np.sqrt((mu4 - var**2) / n)
    assert np.all(np.abs(codes.var(axis=0, ddof=1) - var) <= 5 * se_var)
    if samples >= 4:
        wrong = samples / (1 + np.exp(-4 * np.clip(ps / 64, -1, 1)))
        z = np.abs(m - wrong) / np.sqrt(var / n)
        assert z[[2, 6]].min() > 15


def test_mtj_sample_bits_are_independent_bernoulli():
    c = converter("mtj:8", lo=-64, hi=64)
    ps = np.full(50000, 16)
    bits = c.sample_bits(ps, np.random.default_rng(2))
    p = float(_p(np.array([16]), -64, 64)[0])
    assert bits.shape == (50000, 8) and set(np.unique(bits)) <= {0, 1}
    se = math.sqrt(p * (1 - p) / 50000)
    assert np.all(np.abs(bits.mean(axis=0) - p) <= 5 * se)
    # correlation of neighbouring samples: ~N(0, 1/n) under independence
    r = np.corrcoef(bits[:, :-1].ravel(), bits[:, 1:].ravel())[0, 1]
    assert abs(r) <= 5 / math.sqrt(50000 * 7)


def test_mtj_decode_reads_the_normalised_value():
    c = converter("mtj:4", lo=-64, hi=64)
    assert c.decode.values(np.arange(5)).tolist() == [-64.0, -32.0, 0.0, 32.0, 64.0]
    u = converter("mtj:4", lo=0, hi=64)
    assert u.decode.values(np.arange(5)).tolist() == [0.0, 16.0, 32.0, 48.0, 64.0]


def test_mtj_matmul_mean_is_the_accumulated_expectation():
    """The crossbar's integer output averages (n = 400 seeded runs) to the back end applied
    to the expected codes, within 5 standard errors (no conversion skipped)."""
    xb = Crossbar(rows=16, weight_bits=3, input_bits=2, zero_skip="none")
    rng = np.random.default_rng(8)
    x = rng.integers(0, 4, (1, 40))
    w = _weights(xb, rng, (40, 3))
    conv = xb.bind("mtj:4")
    ps, _ = xb.partial_sums(x, w)
    want = np.zeros(3)
    var = np.zeros(3)
    d = conv.decode
    for t in xb.terms():
        p = conv.probability(ps[:, :, t.j, t.s, :])[0]
        want += (2**t.shift) * (d.gain * 4 * p - d.offset).sum(axis=0)
        var += (2**t.shift * d.gain) ** 2 * (4 * p * (1 - p)).sum(axis=0)
    g = np.random.default_rng(9)
    runs = np.array([xb.matmul(x, w, conv, g)[0] for _ in range(400)])
    assert np.all(np.abs(runs.mean(axis=0) - want) <= 5 * np.sqrt(var / 400))


@pytest.mark.parametrize("scheme", ["differential", "offset", "unsigned"])
def test_skip_flags_follow_the_rules(scheme):
    """hardware skips exactly the conversions whose input slice on the sub-array or weight
    column slice is all zero (so their partial sums are zero); stoxnet every zero partial
    sum; none nothing."""
    rng = np.random.default_rng(6)
    kw = dict(rows=16, cell_bits=2, dac_bits=1, weight_bits=5, input_bits=3)
    xb = Crossbar.from_scheme(scheme, **kw)
    x = rng.integers(0, 8, (5, 40))
    x[rng.random(x.shape) < 0.7] = 0
    x[0, :16] = 0
    w = _weights(xb, rng, (40, 4))
    w[:16, 1] = 0
    ps, ref = xb.partial_sums(x, w)
    skip, ref_skip = xb.skips(x, w)
    assert skip.shape == ps.shape and (ref is None) == (ref_skip is None)
    assert skip.any() and not ps[skip].any()  # skipped partial sums are zero
    assert skip[0, 0].all()  # no input on sub-array 0 for vector 0
    sto, _ = Crossbar.from_scheme(scheme, zero_skip="stoxnet", **kw).skips(x, w)
    assert np.array_equal(sto, ps == 0) and (sto | ~skip).all()
    none, _ = Crossbar.from_scheme(scheme, zero_skip="none", **kw).skips(x, w)
    assert not none.any()


def test_a_seeded_run_is_reproducible():
    xb = Crossbar(rows=16)
    rng = np.random.default_rng(1)
    x = rng.integers(0, 16, (4, 33))
    w = _weights(xb, rng, (33, 2))
    a = xb.matmul(x, w, "mtj:2", np.random.default_rng(7))
    b = xb.matmul(x, w, "mtj:2", np.random.default_rng(7))
    c = xb.matmul(x, w, "mtj:2", np.random.default_rng(8))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.array_equal(xb.matmul(x, w, "mtj:2"), xb.matmul(x, w, "mtj:2"))  # seed 0


def test_clip_calibrates_the_range_with_the_crossbar_sign():
    assert converter("adc:4", clip=10).bind(-64, 64).lo == -10.0
    assert converter("adc:4", clip=10).bind(0, 64).lo == 0.0
    assert converter("adc:4", lo=-5, hi=5).bind(-64, 64).hi == 5


def test_converter_registry_is_keyed_by_name():
    assert set(CONVERTERS) == {"ideal", "adc", "sparse", "mtj"}
    assert all(key == cls.name for key, cls in CONVERTERS.items())


@pytest.mark.parametrize("call, message", [
    (lambda: converter("flash:4"),
     "unknown converter 'flash:4': use ideal, adc:N, sparse:N or mtj:T"),
    (lambda: converter("adc:0"), "adc:0: bits must be 1 to 16"),
    (lambda: converter("adc:x"), "converter 'adc:x': write adc:N with a whole number (bits)"),
    (lambda: converter("mtj:65"), "mtj:65: samples per conversion must be 1 to 64"),
    (lambda: converter("ideal:3"), "converter 'ideal:3': ideal takes no argument"),
    (lambda: converter("mtj:4", gain=2), "converter mtj has no parameter 'gain' (it takes "
     "clip, hi, k, lo, x0)"),
    (lambda: converter("adc:4", lo=-3, hi=5),
     "adc:4: the range must be [0, c] or [-c, c], got [-3.0, 5.0]"),
    (lambda: converter("adc:4").convert([1, 2]),
     "adc:4: no partial-sum range: pass lo=/hi= or clip=, or use it through a Crossbar"),
    (lambda: converter("ideal", lo=-4, hi=4).convert([1.5]), "partial sums must be integers"),
    (lambda: Crossbar(rows=8), "rows 8 is out of range: use 16 to 512"),
    (lambda: Crossbar(cell_bits=3), "cell_bits 3 is impossible: use 1, 2 or 4"),
    (lambda: Crossbar(weight_bits=9), "weight_bits 9 is out of range: use 1 to 8"),
    (lambda: Crossbar(input_bits=4, dac_bits=5), "dac_bits 5 is out of range: use 1 to 4"),
    (lambda: Crossbar(scheme="twos"), "scheme 'twos': use differential or offset"),
    (lambda: Crossbar(zero_skip="zeros"),
     "zero_skip 'zeros': use hardware, stoxnet, none"),
    (lambda: Crossbar().matmul(np.zeros((2, 3)), np.full((3, 1), np.nan), "ideal"),
     "w contains NaN or infinity"),
    (lambda: Crossbar().matmul(np.zeros((2, 3)), np.zeros((4, 1)), "ideal"),
     "shapes do not match: x (2, 3) must be (batch, in) and w (4, 1) (in, out)"),
    (lambda: Crossbar(weight_bits=4).matmul(np.zeros((1, 2)), np.full((2, 1), 8), "ideal"),
     "weights must lie in [-7, 7] (4 bits, signed differential)"),
    (lambda: Crossbar(input_bits=4).matmul(np.full((1, 2), 16), np.zeros((2, 1)), "ideal"),
     "inputs must be 4-bit unsigned codes (0..15)"),
])
def test_bad_configuration_is_one_clear_error(call, message):
    with pytest.raises(ConfigError) as e:
        call()
    assert str(e.value) == message


def test_sample_search_takes_only_moves_that_beat_their_noise():
    """Per-item scores with a common part (noise 20, cancelling in paired differences) and
    an independent part (noise 10: the paired difference's standard error is about 0.7 over
    400 items): a real gain of 8 points is taken, one of 0.2 is not (below two standard
    errors), and the history states each step's gain and standard error."""
    from actc.adc.sampling import search_samples

    conv = [100, 10, 10]
    rng = np.random.default_rng(3)
    noise = rng.normal(0, 20, 400)  # common random numbers: the same items for every T

    def score(gain):
        def f(ts):
            better = ts == [2, 8, 4] or ts == [1, 16, 4]
            return noise + rng.normal(0, 10, 400) + (gain if better else 0.0)
        return f

    best, _, steps = search_samples(conv, 480, score(8.0), start=[4, 4, 4])
    assert best != [4, 4, 4] and steps[1].accepted and steps[1].gain > 2 * steps[1].se > 0
    assert not steps[-1].accepted  # the last round found nothing beyond its noise
    best, _, steps = search_samples(conv, 480, score(0.2), start=[4, 4, 4])
    assert best == [4, 4, 4] and len(steps) == 2 and not steps[1].accepted
    assert len(steps[1].candidates) == 2 and all(se > 0 for _, _, se in steps[1].candidates)
