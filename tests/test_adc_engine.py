"""The crossbar engine (actc.adc.engine, actc.adc.kernel, the torch layers): the compiled
kernel equals the generic numpy and torch forms bit for bit; the torch layers equal
Crossbar.matmul, MTJ included; the previous engine's results (deterministic converters,
no skipping) and gradients are reproduced; zero skipping in every mode; the MTJ's
one-uniform inverse CDF has the Binomial(T, p) distribution (fixed seeds, bounds a wrong
implementation cannot pass); chunking and threads do not change a bit."""

import itertools
import math

import numpy as np
import pytest
import torch
from scipy.stats import binom, chi2
from torch.nn import functional as F

from actc.adc import Crossbar, converter, engine
from actc.adc.converters import Adc, Ideal, Mtj, Sparse
from actc.adc.kernel import set_threads
from actc.errors import ConfigError
from actc.nn import IMCLinear
from actc.nn.imc import TorchOps

CONFIGS = [dict(rows=16, cell_bits=1, dac_bits=1, weight_bits=4, input_bits=4),
           dict(rows=16, cell_bits=2, dac_bits=2, weight_bits=5, input_bits=3),
           dict(rows=32, cell_bits=2, dac_bits=1, weight_bits=2, input_bits=1)]
SCHEMES = ["differential", "offset", "unsigned"]
CONVERTERS = ["ideal", "adc:3", "adc:8", "sparse:2", "mtj:5"]


def _operands(xb, seed=0, batch=7):
    rng = np.random.default_rng(seed)
    n = 3 * xb.rows + 5
    x = rng.integers(0, 1 << xb.input_bits, (batch, n))
    x[rng.random(x.shape) < 0.6] = 0
    x[0, : xb.rows] = 0  # a whole sub-array without input
    lo, hi = xb.weight_range
    w = rng.integers(lo, hi + 1, (n, 6))
    w[:, 2] = 0
    w[: xb.rows, 3] = 0
    return x, w


@pytest.mark.parametrize("cfg, scheme, mode", list(itertools.product(
    CONFIGS, SCHEMES, engine.MODES)))
def test_kernel_equals_the_generic_forms(cfg, scheme, mode):
    """numba, numpy and torch give the same integers for every converter (MTJ included:
    one random stream), and a deterministic converter equals Crossbar.accumulate of its
    codes with the skip flags."""
    xb = Crossbar.from_scheme(scheme, zero_skip=mode, **cfg)
    x, w = _operands(xb)
    for spec in CONVERTERS:
        convs = [xb.bind(spec)] * xb.input_slices
        fast = engine.matmul(xb, x, w, convs, key=12345, mode=mode, kernel=True)
        slow = engine.matmul(xb, x, w, convs, key=12345, mode=mode, kernel=False)
        assert np.array_equal(fast, slow), spec
        plan_ops = TorchOps(torch.device("cpu"))
        xs, wt = engine.slices(plan_ops, torch.as_tensor(x), torch.as_tensor(w), xb)
        xz, wz = engine.skip_flags(xs, wt)
        J, R, B, rows = xs.shape
        ps = torch.bmm(xs.permute(1, 0, 2, 3).reshape(R, -1, rows),
                       wt.reshape(R, rows, -1)).reshape(R, J, B, wt.shape[2], wt.shape[3])
        ref = xs.sum(-1).permute(1, 0, 2) * xb.ref_cell if xb.offset else None
        lo, hi = xb.ps_range
        tables = [engine.conversion_table(c, lo, hi) for c in convs]
        torch_y = engine.convert_accumulate(plan_ops, ps, ref, xz, wz, mode, tables, 12345,
                                            0, B, xb)
        assert np.array_equal(engine.combine(xb, torch_y.numpy(), convs), fast), spec
        c = convs[0]
        if not c.stochastic:
            ps_np, ref_np = xb.partial_sums(x, w)
            skip, ref_skip = xb.skips(x, w)
            want = xb.accumulate(c.convert(ps_np), None if ref_np is None else
                                 c.convert(ref_np), c, skip, ref_skip)
            assert np.array_equal(fast, want), spec


def _previous_engine(xq, wq, xb, c):
    """The IMC layers' engine before the rewrite (deterministic converters, no skipping):
    per-slice einsums in float32 and an autograd straight-through mask."""
    batch, n = xq.shape
    out = wq.shape[1]
    r = xb.subarrays(n)
    J, S = xb.input_slices, xb.weight_slices
    pad = r * xb.rows - n
    db, cb = xb.dac_bits, xb.cell_bits
    xi, wi = xq.detach().round().long(), wq.detach().round().long()
    dmask, cmask = (1 << db) - 1, (1 << cb) - 1
    xs = torch.stack([((xi >> (j * db)) & dmask).to(xq.dtype) for j in range(J)])
    if xb.differential:
        pos, neg = wi.clamp(min=0), (-wi).clamp(min=0)
        ints = [((pos >> (s * cb)) & cmask) - ((neg >> (s * cb)) & cmask) for s in range(S)]
    else:
        u = wi + (1 << (xb.weight_bits - 1)) if xb.offset else wi
        ints = [(u >> (s * cb)) & cmask for s in range(S)]
    ws = torch.stack([t.to(wq.dtype) for t in ints])
    dx, dw = xq - xq.detach(), wq - wq.detach()
    xs = xs + torch.stack([dx / (J * 2 ** (j * db)) for j in range(J)])
    ws = ws + torch.stack([dw / (S * 2 ** (s * cb)) for s in range(S)])
    xs = F.pad(xs, (0, pad)).reshape(J, batch, r, xb.rows)
    ws = F.pad(ws, (0, 0, 0, pad)).reshape(S, r, xb.rows, out)
    ps = torch.einsum("jbrk,srko->brjso", xs, ws)

    def through(v):
        lo, hi = float(c.lo), float(c.hi)
        p = v.detach().to(torch.float64)
        if isinstance(c, Ideal):
            hat, mask = v.detach(), torch.ones_like(v)
        elif isinstance(c, Sparse):
            low = -(1 << (c.bits - 1)) if lo < 0 else 0
            k = torch.floor(p / c.step + 0.5).clamp(low, low + (1 << c.bits) - 1)
            hat, mask = k * c.step, (k * c.step - p).abs() <= c.step / 2
        else:
            assert isinstance(c, Adc)
            top = (1 << c.bits) - 1
            if c.exact:
                hat = lo + (p - lo).clamp(0, top)
            else:
                span = int(hi - lo)
                k = torch.div(2 * (p.long() - int(lo)) * top + span, 2 * span,
                              rounding_mode="floor").clamp(0, top).to(torch.float64)
                hat = lo + k * (hi - lo) / top
            mask = (p >= lo) & (p <= hi)
        hat, mask = hat.to(v.dtype), mask.to(v.dtype)
        mixed = v * mask + v.detach() * (1 - mask)
        return mixed + (hat - mixed).detach()

    shifts = torch.tensor([[2.0 ** (j * db + s * cb) for s in range(S)] for j in range(J)])
    y = torch.einsum("brjso,js->bo", through(ps), shifts)
    if xb.offset:
        ref = xs.sum(dim=3).permute(1, 2, 0) * xb.ref_cell
        rshift = torch.tensor([2.0 ** (j * db + xb.ref_slice * cb) for j in range(J)])
        y = y - torch.einsum("brj,j->b", through(ref), rshift)[:, None]
    return y


@pytest.mark.parametrize("spec", ["ideal", "adc:4", "adc:7", "adc:6", "sparse:3"])
@pytest.mark.parametrize("scheme", SCHEMES)
def test_previous_engine_reproduced(spec, scheme):
    """Without skipping, the deterministic converters give the previous engine's outputs:
    bit-identical where its float32 sums were exact (integer levels: ideal, sparse, an
    ADC whose levels cover the range), else within its float32 rounding, the new engine
    being the exact lsb * y of Crossbar.matmul; the gradients (identity straight-through)
    agree to float32 rounding."""
    torch.manual_seed(0)
    layer = IMCLinear(70, 5, bias=False, converter=spec, rows=16, weight_bits=4,
                      input_bits=4, scheme=scheme, clip="full", zero_skip="none",
                      ste="identity")
    xb = layer.crossbar
    c = xb.bind(spec)
    lo, hi = xb.weight_range
    xq = torch.randint(0, 16, (6, 70)).float().requires_grad_(True)
    wq = torch.randint(lo, hi + 1, (70, 5)).float().requires_grad_(True)
    new = layer._imc_matmul(xq, wq)
    old = _previous_engine(xq, wq, xb, c)
    exact = xb.matmul(xq.detach().long().numpy(), wq.detach().long().numpy(), c) * \
        xb.output_lsb(c)
    assert np.array_equal(new.detach().numpy(), exact.astype(np.float32))
    integer_levels = not isinstance(c, Adc) or c.exact
    if integer_levels:
        assert torch.equal(new, old)
    else:
        assert torch.allclose(new, old, rtol=1e-6, atol=1e-6 * float(hi) * 70 * 15)
    g = torch.randn(6, 5)
    gx_new, gw_new = torch.autograd.grad(new, (xq, wq), g)
    gx_old, gw_old = torch.autograd.grad(old, (xq, wq), g)
    assert torch.allclose(gx_new, gx_old, rtol=1e-5, atol=1e-4)
    assert torch.allclose(gw_new, gw_old, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("spec", ["mtj:4", "adc:3", "sparse:2"])
@pytest.mark.parametrize("mode", engine.MODES)
def test_torch_layer_equals_crossbar_matmul(spec, mode):
    """The layer's output is lsb * the engine's integer result for its key (the key is the
    first draw of the layer's generator), on both engines, MTJ included."""
    torch.manual_seed(1)
    c = converter(spec) if spec.startswith("sparse") else converter(spec, lo=-9, hi=9)
    out = {}
    w = torch.randint(-3, 4, (4, 50)).float()
    w[:, 0] = 3  # per-channel scale 1: the weights are their own codes
    w[1, :20] = 0
    x = torch.randint(0, 4, (9, 50)).float()
    x[2, :16] = 0
    for eng in ("kernel", "torch"):
        layer = IMCLinear(50, 4, bias=False, converter=c, rows=16, weight_bits=3,
                          input_bits=2, zero_skip=mode, seed=3, engine=eng).eval()
        layer.act_max.fill_(3.0)  # input scale 1
        layer.weight.data = w.clone()
        out[eng] = layer(x).detach()
        xb = layer.crossbar
        key = int(torch.randint(0, 1 << 62, (1,), generator=torch.Generator().manual_seed(3)))
        convs = xb.bind_slices(c)
        y = engine.matmul(xb, x.long().numpy(), w.t().long().numpy(), convs, key, mode)
        assert np.array_equal(out[eng].numpy(), (y * xb.output_lsb(c)).astype(np.float32))
    assert torch.equal(out["kernel"], out["torch"])


def test_zero_partial_sums_give_exactly_zero_in_every_mode():
    """adc:2 on a symmetric range has no level at zero (it reads 0 as +-step/2) and mtj:4
    reads 0 as a coin flip: skipped conversions contribute zero instead. hardware skips an
    all-zero input slice on a sub-array and an all-zero weight column; stoxnet every zero
    partial sum; none converts them."""
    x = np.zeros((3, 32), dtype=np.int64)
    x[1, :16] = 1  # sub-array 0 has input, sub-array 1 none
    x[2, :16] = 1
    x[2, 20] = 1
    w = np.zeros((32, 3), dtype=np.int64)
    w[:16, 1] = 1
    w[:, 2] = np.tile([1, -1], 16)  # nonzero weights whose partial sums cancel
    for spec in ("adc:2", "mtj:4"):
        c = converter(spec, lo=-8, hi=8)
        got = {m: Crossbar(rows=16, weight_bits=2, input_bits=1, zero_skip=m).matmul(
            x, w, c) for m in engine.MODES}
        # column 0 has no weights: hardware and stoxnet give exactly 0, none does not
        assert (got["hardware"][:, 0] == 0).all() and (got["stoxnet"][:, 0] == 0).all()
        # column 2 partial sums cancel to 0 on sub-array 0 (rows 0..15 of x[1]): only
        # stoxnet skips them; row 0 has no input at all: hardware skips it too
        assert got["stoxnet"][1, 2] == 0 and got["hardware"][0, 2] == 0
        assert got["none"][0, 0] != 0
        if spec == "adc:2":  # +-step/2 per conversion, two sub-arrays
            assert abs(int(got["none"][0, 0])) > 0 and got["hardware"][1, 2] != 0


def _single_conversions(spec, values, n, seed):
    """Codes of n conversions of each partial sum in ``values`` through the engine (one
    sub-array, one input slice, one weight slice: y = gain * code - offset)."""
    xb = Crossbar(rows=16, weight_bits=2, input_bits=1, zero_skip="none")
    c = converter(spec, lo=-16, hi=16)
    x = np.ones((n, 16), dtype=np.int64)
    w = np.zeros((16, len(values)), dtype=np.int64)
    for o, v in enumerate(values):
        w[: abs(v), o] = np.sign(v)
    y = engine.matmul(xb, x, w, [c], key=seed, mode="none")
    d = c.decode
    return (y + d.offset) // d.gain, c


@pytest.mark.parametrize("samples", [1, 4, 16, 64])
def test_mtj_inverse_cdf_has_the_binomial_distribution(samples):
    """40000 conversions of each of 7 partial sums. Mean within 5 standard errors of T p,
    variance within 5 standard errors of T p (1 - p), and Pearson's chi-square of the code
    histogram against Binomial(T, p) below its 1 - 1e-6 quantile (bins with expected
    counts >= 5): a correct engine fails one of these 21 checks with probability below
    1e-5. A threshold off by one place (code shifted by one) is off by more than 20
    standard errors (asserted)."""
    values = [-16, -12, -4, 0, 4, 12, 16]
    n = 40000
    codes, c = _single_conversions(f"mtj:{samples}", values, n, seed=20 + samples)
    assert codes.min() >= 0 and codes.max() <= samples
    p = c.probability(np.array(values))
    for o in range(len(values)):
        k = codes[:, o]
        mean, var = samples * p[o], samples * p[o] * (1 - p[o])
        assert abs(k.mean() - mean) <= 5 * math.sqrt(var / n)
        pq = p[o] * (1 - p[o])
        mu4 = samples * pq * (1 + 3 * (samples - 2) * pq)
        assert abs(k.var(ddof=1) - var) <= 5 * math.sqrt((mu4 - var**2) / n)
        expect = n * binom.pmf(np.arange(samples + 1), samples, p[o])
        seen = np.bincount(k, minlength=samples + 1)
        ok = expect >= 5
        stat = (((seen - expect) ** 2)[ok] / expect[ok]).sum()
        assert stat <= chi2.ppf(1 - 1e-6, max(1, ok.sum() - 1))
        if samples >= 4:
            shifted = np.minimum(k + 1, samples)
            assert abs(shifted.mean() - mean) > 20 * math.sqrt(var / n)


def test_mtj_stream_is_one_uniform_per_conversion_against_the_thresholds():
    """The engine's code of a conversion equals the count of Binomial CDF thresholds at or
    below SplitMix64's high half for that conversion's position, computed here directly."""
    values = [-5, 0, 7]
    n = 50
    codes, c = _single_conversions("mtj:6", values, n, seed=99)
    for b in range(n):
        for o, v in enumerate(values):
            pos = np.array([b * len(values) + o], dtype=np.int64)  # R = J = S = 1
            u = int(engine.mix32(99, pos)[0])
            cdf = binom.cdf(np.arange(6), 6, c.probability(np.array([v]))[0])
            thresholds = np.rint(np.ldexp(cdf, 32))
            assert codes[b, o] == int((thresholds <= u).sum())


def test_neighbouring_conversions_are_independent():
    codes, _ = _single_conversions("mtj:8", [0] * 8, 20000, seed=5)
    flat = codes.ravel().astype(float)
    r = np.corrcoef(flat[:-1], flat[1:])[0, 1]
    assert abs(r) <= 5 / math.sqrt(flat.size)


def test_chunks_and_threads_do_not_change_a_bit(monkeypatch):
    xb = Crossbar(rows=16, weight_bits=4, input_bits=4, scheme="offset")
    x, w = _operands(xb, seed=4, batch=40)
    convs = [xb.bind("mtj:3")] * xb.input_slices
    whole = engine.matmul(xb, x, w, convs, key=7)
    set_threads(1)
    one = engine.matmul(xb, x, w, convs, key=7)
    set_threads(2)
    monkeypatch.setattr(engine, "CHUNK", 1000)  # several chunks of the batch
    assert np.array_equal(whole, one)
    assert np.array_equal(whole, engine.matmul(xb, x, w, convs, key=7))
    assert np.array_equal(whole, engine.matmul(xb, x, w, convs, key=7, kernel=False))
    torch.manual_seed(0)
    layers = []
    for chunk in (1 << 22, 700):
        monkeypatch.setattr(engine, "CHUNK", chunk)
        layer = IMCLinear(53, 6, converter=converter("mtj:3", lo=-12, hi=12), rows=16,
                          seed=1, scheme="offset")
        layer.load_state_dict(layers[0].state_dict()) if layers else None
        layers.append(layer)
    a = torch.rand(30, 53, requires_grad=True)
    ys = [layer(a) for layer in layers]
    assert torch.equal(ys[0], ys[1])
    g0 = torch.autograd.grad(ys[0].sum(), a)[0]
    g1 = torch.autograd.grad(ys[1].sum(), a)[0]
    assert torch.allclose(g0, g1, rtol=1e-5, atol=1e-6)


def test_slope_scaled_gradient_is_the_expected_decodes_derivative():
    """One sub-array, one input slice, one weight slice: d y / d w equals x times the slope
    2 k p (1 - p) of E[ps_hat] at the partial sum (inside the range), and 0 beyond it;
    ste="identity" passes 1 inside the range."""
    torch.manual_seed(0)
    c = converter("mtj:8", lo=-6, hi=6)
    for ste in ("slope", "identity"):
        layer = IMCLinear(16, 3, bias=False, converter=c, rows=16, weight_bits=2,
                          input_bits=1, ste=ste, zero_skip="none")
        xq = torch.ones(1, 16)
        wq = torch.zeros(16, 3)
        wq[:2, 0], wq[:9, 1], wq[:5, 2] = 1, 1, -1  # ps 2, 9 (beyond 6), -5
        wq.requires_grad_(True)
        y = layer._imc_matmul(xq, wq)
        (gw,) = torch.autograd.grad(y.sum(), wq)
        ps = torch.tensor([2.0, 9.0, -5.0])
        x = (ps / 6).clamp(-1, 1)
        p = torch.sigmoid(c.k * (x - c.x0))
        slope = 2 * c.k * p * (1 - p) if ste == "slope" else torch.ones(3)
        slope = slope * (ps.abs() <= 6)
        assert torch.allclose(gw[0], slope, rtol=1e-5)  # input 1, share 1/S = 1


def test_per_slice_clips_are_power_of_two_ratios_and_match_the_crossbar():
    """Calibrated per input slice, the ranges are the widest divided by powers of two (the
    sparse most significant slice gets a narrower one), and the layer equals the engine with
    those per-slice converters, in units of the smallest lsb."""
    from actc.nn.imc import _Plan

    torch.manual_seed(2)
    layer = IMCLinear(64, 5, converter="mtj:4", rows=32, weight_bits=4, input_bits=4,
                      seed=4)
    a = torch.relu(torch.randn(200, 64)) ** 2  # heavy tail: a sparse top slice
    layer.train()
    layer(a)
    layer.eval()
    xq, _ = layer._quantize_input(a)
    wq, _ = layer._quantize_weight(layer.weight.t())
    xi, wi = xq.detach().round().long(), wq.detach().round().long()
    convs = layer._converters(_Plan(xi, wi, layer.crossbar))
    his = [float(c.hi) for c in convs]
    assert len(set(his)) > 1 and all(math.log2(max(his) / h).is_integer() for h in his)
    assert his[-1] < his[0]
    layer.generator.manual_seed(11)
    y = layer._imc_matmul(xq, wq)
    key = int(torch.randint(0, 1 << 62, (1,), generator=torch.Generator().manual_seed(11)))
    xb = layer.crossbar
    want = engine.matmul(xb, xi.numpy(), wi.numpy(), convs, key)
    assert np.array_equal(y.detach().numpy(),
                          (want * xb.output_lsb(convs)).astype(np.float32))


def test_engine_errors():
    xb = Crossbar(rows=16)
    with pytest.raises(ConfigError, match="zero_skip 'often'"):
        engine.matmul(xb, np.zeros((1, 4), dtype=np.int64), np.zeros((4, 1), dtype=np.int64),
                      [xb.bind("ideal")] * 4, 0, mode="often")
    with pytest.raises(ConfigError, match="power-of-two ratios"):
        engine.lsb_ratios([converter("mtj:4", lo=-3, hi=3), converter("mtj:4", lo=-5, hi=5)])
    with pytest.raises(ConfigError, match="3 converters for 4 input slices"):
        xb.bind_slices(["adc:4"] * 3)
    with pytest.raises(ConfigError, match="engine 'kernel' runs on the CPU only"):
        from actc.nn.imc import _kernel_for

        _kernel_for(torch.device("meta"), "kernel")
    assert isinstance(xb.bind("mtj:2"), Mtj)


@pytest.mark.parametrize("mode", engine.MODES)
def test_training_step_is_the_same_on_both_engines(mode):
    """Training mode (calibration of the per-slice ranges, conversion, backward) gives the
    same outputs, running RMS, clamped fraction and gradients on the kernel and on the
    torch engine."""
    got = {}
    for eng in ("kernel", "torch"):
        torch.manual_seed(5)
        layer = IMCLinear(70, 6, converter="mtj:4", rows=32, scheme="offset", seed=2,
                          zero_skip=mode, engine=eng).train()
        a = torch.relu(torch.randn(40, 70)).requires_grad_(True)
        y = layer(a)
        y.pow(2).sum().backward()
        got[eng] = (y.detach(), layer.ps_rms.clone(), layer.last_clamped, a.grad,
                    layer.weight.grad, layer.last_stats)
    k, t = got["kernel"], got["torch"]
    assert torch.equal(k[0], t[0]) and torch.equal(k[1], t[1]) and k[2] == t[2]
    assert torch.allclose(k[3], t[3]) and torch.allclose(k[4], t[4])
    assert k[5]["input_zero"] == pytest.approx(t[5]["input_zero"])
    assert k[5]["column_zero"] == pytest.approx(t[5]["column_zero"])
