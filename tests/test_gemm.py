"""actc.nn's GEMM engine (``gemm.ApproxGemm``, ``kernels``, ``MRENoise.matmul``) against the
engine it replaced (the reference copy below, as it was at commit d0ee9aa) and against a
plain int64 sum: every multiplier family, signed and unsigned, operand widths 4 to 8 and
wider (to 20 product bits), odd shapes, inner dimensions past the float32 and int32 chunk
bounds, empty and non-contiguous tensors; the compiled kernel and the torch path (the one
other devices take) on every case; the cache contract; the noise's seeded stream."""

import math
import multiprocessing
import os
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from actc.mac.api import make_multiplier
from actc.mac.families.table import TableFamily
from actc.mac.ir import Multiplier
from actc.nn import ApproxConv2d, ApproxLinear, MRENoise, gemm, kernels
from actc.nn.gemm import ApproxGemm, _reduced_precision, exact_matmul

# --- the engine as it was (d0ee9aa: compiler/nn/gemm.py and noise.py), the reference ---------
_REF_F32_EXACT = float(1 << 24)
_REF_G_ELEMENTS = 1 << 26


def ref_exact_matmul(x: torch.Tensor, w: torch.Tensor, bound: float) -> torch.Tensor:
    k = x.shape[-1]
    chunk = int(_REF_F32_EXACT // max(bound, 1.0))
    if chunk >= k:
        return (x.float() @ w.float()).double()
    if chunk < 64:
        return x.double() @ w.double()
    out = None
    for s in range(0, k, chunk):
        part = (x[..., s:s + chunk].float() @ w[s:s + chunk].float()).double()
        out = part if out is None else out + part
    assert out is not None
    return out


def ref_matmul(g: ApproxGemm, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The old ApproxGemm.matmul (no cache), on the new engine's tables: the factors
    (float64 gathers, concatenated by factor, float32 chunks by the largest factor
    product) or the embedding-bag table method."""
    table = g.table.float()
    if g.method == "factorised":
        u, v = g.u.double(), g.v.double()
        ai = (a - g.a_lo).long()
        bi = (b - g.b_lo).long()
        xs = torch.cat([f[ai] for f in u], dim=1)
        ws = torch.cat([f[bi] for f in v], dim=0)
        y = ref_exact_matmul(xs, ws, g.factor_bound)
        return y + g.constant * a.shape[1] if g.constant else y
    k, n = b.shape
    n_a = table.shape[0]
    chunk = max(1, min(k, int(_REF_F32_EXACT // max(g.bound, 1.0)),
                       _REF_G_ELEMENTS // max(1, n_a * n)))

    def expanded(start: int, stop: int) -> torch.Tensor:
        bi = (b[start:stop] - g.b_lo).long()
        return table[:, bi.reshape(-1)].reshape(n_a * (stop - start), n)

    parts = [expanded(s, min(k, s + chunk)) for s in range(0, k, chunk)]
    ai = (a - g.a_lo).long()
    out = None
    for c, s in enumerate(range(0, k, chunk)):
        width = min(k, s + chunk) - s
        idx = ai[:, s:s + width] * width + torch.arange(width)
        part = nn.functional.embedding_bag(idx, parts[c], mode="sum").double()
        out = part if out is None else out + part
    assert out is not None
    return out


def ref_noise_matmul(n: MRENoise, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    af, bf = a.float(), b.float()
    bound = float(af.abs().max()) * float(bf.abs().max()) if a.numel() and b.numel() \
        else 0.0
    y = ref_exact_matmul(af, bf, bound)
    if n.sigma == 0 and n.bias == 0:
        return y
    spread = torch.sqrt(af.square() @ bf.square())
    return y * (1 + n.bias) + (n.sigma * spread * torch.randn_like(spread)).double()


# --- helpers ----------------------------------------------------------------------------------
def int_sum(g: ApproxGemm, a: torch.Tensor, b: torch.Tensor) -> np.ndarray:
    """sum_k P(a[m, k], b[k, n]) in int64 numpy, straight from the product table."""
    t = g.table.numpy().astype(np.int64)
    ai = a.numpy().astype(np.int64) - g.a_lo
    bi = b.numpy().astype(np.int64) - g.b_lo
    out = np.zeros((a.shape[0], b.shape[1]), dtype=np.int64)
    for k in range(a.shape[1]):
        out += t[ai[:, k][:, None], bi[k][None, :]]
    return out


def codes(g: ApproxGemm, shape: tuple[int, int], which: str, gen: torch.Generator,
          extremes: bool = True) -> torch.Tensor:
    """Random codes of operand ``which`` (float32 like a layer's), with both ends of the
    range and 0 present when the tensor has room."""
    lo, hi = g.codes[:2] if which == "a" else g.codes[2:]
    x = torch.randint(lo, hi + 1, shape, generator=gen).float()
    if extremes and x.numel() >= 3:
        flat = x.view(-1)
        flat[:3] = torch.tensor([lo, hi, 0], dtype=x.dtype)
    return x


def engines(m: Multiplier) -> Any:
    """One engine of m through each of its paths in turn: as built, with the compiled kernel
    and forced onto the torch path, and a factorised one also through the table method."""
    g = ApproxGemm(m)
    built = g.method
    for method in dict.fromkeys((built, "table")):
        for kernel in (True, False):
            g.method, g.kernel = method, kernel
            yield f"{method}/{'kernel' if kernel else 'torch'}", g
    g.method, g.kernel = built, True


def check_all_paths(m: Multiplier, a_shape: tuple[int, int], n: int, seed: int,
                    reference: bool = True) -> None:
    gen = torch.Generator().manual_seed(seed)
    g0 = ApproxGemm(m)
    a = codes(g0, a_shape, "a", gen)
    b = codes(g0, (a_shape[1], n), "b", gen)
    want = int_sum(g0, a, b)
    if reference:
        assert np.array_equal(ref_matmul(g0, a, b).numpy(), want)
    for name, g in engines(m):
        got = g.matmul(a, b)
        assert got.dtype == torch.float64 and got.shape == (a_shape[0], n), name
        assert np.array_equal(got.numpy(), want), name


FAMILY_SPECS = ["exact", "truncated:5", "truncated:6,correction=mean", "bam:2,3", "drum:3",
                "drum:4", "mitchell", "ilm:1", "mbm", "asm:1", "asm:1,3", "asm:1,3,5,7"]


def test_the_compiled_kernel_is_installed_here():
    """The test environment installs numba (the torch extra): every test below runs both
    paths."""
    assert kernels.available()


@pytest.mark.parametrize("signed", [True, False], ids=["signed", "unsigned"])
@pytest.mark.parametrize("spec", FAMILY_SPECS)
def test_every_family_matches_the_previous_engine_and_an_integer_sum(spec, signed):
    m = make_multiplier(spec, bits=8, signed=signed)
    check_all_paths(m, (37, 29), 11, seed=len(spec) + signed)
    check_all_paths(m, (5, 300), 3, seed=7)  # K past the float32 chunk of unsigned tables


@pytest.mark.parametrize("signed", [True, False], ids=["signed", "unsigned"])
@pytest.mark.parametrize("a_bits, b_bits", [(4, 4), (5, 7), (6, 6), (7, 4), (8, 5),
                                            (10, 10), (12, 8), (4, 16)])
def test_operand_widths(a_bits, b_bits, signed):
    for spec in ("exact", "drum:3", "truncated:4"):
        m = make_multiplier(spec, a_bits=a_bits, b_bits=b_bits, signed=signed)
        check_all_paths(m, (9, 23), 6, seed=a_bits * 31 + b_bits, reference=a_bits < 12)


def test_an_arbitrary_product_table_with_nonzero_rows_for_zero():
    """A table family (as imported circuits carry) with random entries: the row of the
    activation code 0 is not zero, so the kernel may skip nothing."""
    rng = np.random.default_rng(11)
    values = rng.integers(-30000, 30000, (256, 256))
    fam = TableFamily(values, 8, 8, True, {"kind": "c"})
    m = Multiplier(fam, 8, 8, True)
    g = ApproxGemm(m)
    assert g.method == "table" and not g._skip.any()
    check_all_paths(m, (33, 71), 19, seed=12)
    # and one whose zero row is zero: skipped, same sums
    values[128] = 0
    m = Multiplier(TableFamily(values, 8, 8, True, {"kind": "c"}), 8, 8, True)
    assert ApproxGemm(m)._skip.tolist() == [i == 128 for i in range(256)]
    check_all_paths(m, (33, 71), 19, seed=13)


@pytest.mark.parametrize("shape", [(1, 1, 1), (1, 517, 1), (3, 2, 1031), (0, 5, 4),
                                   (4, 0, 5), (4, 5, 0), (0, 0, 0), (70, 1, 3)])
def test_odd_and_empty_shapes(shape):
    m_dim, k_dim, n_dim = shape
    for spec, signed in (("mitchell", False), ("exact", True), ("truncated:6", True)):
        m = make_multiplier(spec, bits=8, signed=signed)
        # the old table method failed on K = 0 and on N = 0 (embedding_bag on no columns)
        check_all_paths(m, (m_dim, k_dim), n_dim, seed=sum(shape),
                        reference=k_dim > 0 and (n_dim > 0 or m.family.name != "mitchell"))


def test_sums_past_int32_and_the_float32_chunks():
    """All-extreme codes of a 10 x 10 sign-magnitude table: each product near 2^20, K =
    2500, so a row's sum passes 2^31 (the kernel's int32 partial sums are flushed) and any
    float32 chunk bound many times."""
    for spec in ("drum:6", "exact"):
        m = make_multiplier(spec, bits=10, signed=False)
        g0 = ApproxGemm(m)
        a = torch.full((2, 2500), float(g0.a_hi))
        a[1, ::3] = g0.a_lo
        b = torch.full((2500, 3), float(g0.b_hi))
        b[::7, 1] = g0.b_lo
        want = int_sum(g0, a, b)
        assert np.abs(want).max() > 2**31
        for name, g in engines(m):
            assert np.array_equal(g.matmul(a, b).numpy(), want), name


def test_non_contiguous_and_integer_inputs():
    m = make_multiplier("drum:4", bits=8, signed=True)
    gen = torch.Generator().manual_seed(21)
    g0 = ApproxGemm(m)
    big_a = codes(g0, (20, 60), "a", gen)
    big_b = codes(g0, (40, 30), "b", gen)
    a = big_a[::2, 1::2]  # 10 x 30, strided
    b = big_b.t()[::1, :40:]  # 30 x 40, transposed view
    assert not a.is_contiguous() and not b.is_contiguous()
    for mult in (m, make_multiplier("exact", bits=8, signed=True)):
        for name, g in engines(mult):
            want = int_sum(g, a.contiguous(), b.contiguous())
            for x, w in ((a, b), (a.long(), b.long()), (a.double(), b.double()),
                         (a.to(torch.int16), b.to(torch.int8))):
                assert np.array_equal(g.matmul(x, w).numpy(), want), (name, x.dtype)


def test_codes_outside_the_range_or_not_integers_are_errors():
    for spec, signed in (("drum:4", True), ("exact", True), ("mitchell", False)):
        for kernel in (True, False):
            g = ApproxGemm(make_multiplier(spec, bits=8, signed=signed))
            g.kernel = kernel
            lo, hi = g.a_lo, g.a_hi
            b = torch.ones(2, 3)
            with pytest.raises(ValueError, match=rf"a holds codes from {lo - 1} to 1, "
                                                 rf"outside the multiplier's range \[{lo}, {hi}\]"):
                g.matmul(torch.tensor([[lo - 1.0, 1.0]]), b)
            with pytest.raises(ValueError, match="b holds codes from 1 to 300"):
                g.matmul(torch.ones(1, 2), torch.tensor([[1.0, 1, 1], [1, 300, 1]]))
            for bad in (0.5, math.nan):
                with pytest.raises(ValueError, match="a holds values that are not integer "
                                                     "codes"):
                    g.matmul(torch.tensor([[bad, 1.0]]), b)
            with pytest.raises(ValueError, match=r"takes a \(M x K\) and b \(K x N\), got "
                                                 r"\(1, 2\) and \(3, 3\)"):
                g.matmul(torch.ones(1, 2), torch.ones(3, 3))


def test_the_cache_follows_the_key_and_the_path():
    """b's derived data is kept under the caller's key; a new key rebuilds it; switching
    the method or the kernel with the same key does not reuse the other path's data."""
    m = make_multiplier("truncated:6", bits=8, signed=True)
    g = ApproxGemm(m)
    gen = torch.Generator().manual_seed(5)
    a = codes(g, (6, 40), "a", gen)
    b1 = codes(g, (40, 7), "b", gen)
    b2 = codes(g, (40, 7), "b", gen)
    want1, want2 = int_sum(g, a, b1), int_sum(g, a, b2)
    for method, kernel in (("factorised", True), ("table", True), ("table", False),
                           ("factorised", False)):
        g.method, g.kernel = method, kernel
        assert np.array_equal(g.matmul(a, b1, cache_key=1).numpy(), want1)
        assert g._cache is not None
        # the contract: the caller changes the key when b changes
        assert np.array_equal(g.matmul(a, b2, cache_key=2).numpy(), want2)
        assert np.array_equal(g.matmul(a, b2, cache_key=2).numpy(), want2)
        g.matmul(a, b1, cache_key=1)
    # a differently shaped b under the same key is not served from the cache
    b3 = codes(g, (40, 5), "b", gen)
    assert np.array_equal(g.matmul(a, b3, cache_key=1).numpy(), int_sum(g, a, b3))


def test_the_torch_path_keeps_large_expanded_tables_out_of_the_cache():
    g = ApproxGemm(make_multiplier("mitchell", bits=8, signed=False))  # 511 activation codes
    g.kernel = False
    gen = torch.Generator().manual_seed(8)
    a = codes(g, (3, 400), "a", gen)
    b = codes(g, (400, 400), "b", gen)  # G: 511 x 400 x 400 = 82 M entries, over 2^26
    assert np.array_equal(g.matmul(a, b, cache_key=0).numpy(), int_sum(g, a, b))
    assert g._cache is not None and g._cache[1][1] is None  # indices kept, G not


def test_blocks_of_rows_bound_the_memory(monkeypatch):
    """The stacked factors of a (factorised) and the embedding-bag indices (torch path) are
    built a block of rows at a time: blocks made small here, the sums unchanged."""
    monkeypatch.setattr(gemm, "_STACKED_ELEMENTS", 500)
    monkeypatch.setattr(gemm, "_BAG_ELEMENTS", 300)
    for spec in ("truncated:6", "drum:4"):
        check_all_paths(make_multiplier(spec, bits=8, signed=True), (23, 97), 5, seed=4)


def test_int8_sums_are_chunked_before_int32_overflows(monkeypatch):
    """The int8 path sums in int32: k is chunked (the chunks added in int64) before a sum
    could pass 2^31 - 1, here made 10^5 so that a K of 40 takes 17 chunks."""
    monkeypatch.setattr(gemm, "_I32_MAX", 100_000)
    for spec in ("exact", "truncated:6", "asm:1,3"):
        check_all_paths(make_multiplier(spec, bits=8, signed=True), (9, 40), 7, seed=6)
    x = torch.full((3, 40), -128.0)
    assert torch.equal(exact_matmul(x, x.t()), x.double() @ x.t().double())


def test_thread_counts_give_the_same_sums():
    m = make_multiplier("mbm", bits=8, signed=True)
    g = ApproxGemm(m)
    gen = torch.Generator().manual_seed(9)
    a = codes(g, (300, 200), "a", gen)
    b = codes(g, (200, 1500), "b", gen)  # two column tiles
    want = int_sum(g, a, b)
    threads = torch.get_num_threads()
    try:
        for t in (1, 2, 3):
            torch.set_num_threads(t)
            assert np.array_equal(g.matmul(a, b).numpy(), want), t
    finally:
        torch.set_num_threads(threads)


def _child_sum(q: Any, threads: int) -> None:
    torch.set_num_threads(threads)
    g = ApproxGemm(make_multiplier("drum:4", bits=8, signed=True))
    a = (torch.arange(300 * 150) % 255 - 127).reshape(300, 150).float()
    b = (torch.arange(150 * 150) % 101 - 50).reshape(150, 150).float()
    q.put(float(g.matmul(a, b).sum()))  # 6.75 M lookups: the pool when threads > 1


def test_the_kernel_runs_in_a_forked_child_after_the_parent_used_it():
    """A forked child (a DataLoader worker) after the parent ran the kernel on its thread
    pool: same sums, no deadlock. The child runs on one thread, as DataLoader workers do:
    torch's own OpenMP operations hang in a child forked after the parent used them."""
    threads = torch.get_num_threads()
    try:
        ctx = multiprocessing.get_context("fork")
        q: Any = ctx.Queue()
        _child_sum(q, 2)
        parent = q.get(timeout=60)
        p = ctx.Process(target=_child_sum, args=(q, 1), daemon=True)
        p.start()
        p.join(120)
        if p.exitcode is None:
            p.kill()
        assert p.exitcode == 0
        assert q.get(timeout=10) == parent
    finally:
        torch.set_num_threads(threads)


def test_exact_matmul_is_exact_in_every_path():
    gen = torch.Generator().manual_seed(3)
    for lo, hi, k in ((-128, 127, 3000), (-255, 255, 700), (-4095, 4095, 50), (0, 1, 5)):
        x = torch.randint(lo, hi + 1, (7, k), generator=gen).float()
        w = torch.randint(lo, hi + 1, (k, 5), generator=gen).float()
        x[0] = hi
        w[:, 0] = hi
        want = x.double() @ w.double()
        assert torch.equal(exact_matmul(x, w), want)
        assert torch.equal(exact_matmul(x, w, hi * hi if lo == 0 else max(lo * lo, hi * hi)),
                           want)
        assert torch.equal(exact_matmul(x[None], w), want[None])  # batched x
    with pytest.raises(ValueError, match="operands up to 3 and 5 exceed the product bound 14"):
        exact_matmul(torch.tensor([[3.0]]), torch.tensor([[5.0]]), 14)


def test_reduced_precision_float32_matmuls_are_detected():
    """A float32 matmul allowed to round its inputs (bf16, TF32) is not trusted with codes
    beyond 256: the sums then run in float64 and stay exact."""
    cpu = torch.device("cpu")
    assert not _reduced_precision(cpu)
    before = torch.get_float32_matmul_precision()
    try:
        torch.set_float32_matmul_precision("medium")
        assert _reduced_precision(cpu)
        x = torch.full((2, 300), 4095.0)
        w = torch.full((300, 2), -4093.0)
        assert torch.equal(exact_matmul(x, w), x.double() @ w.double())
        g = ApproxGemm(make_multiplier("exact", bits=10, signed=False))
        a = torch.full((2, 300), 1023.0)
        assert np.array_equal(g.matmul(a, a.t()).numpy(), int_sum(g, a, a.t()))
    finally:
        torch.set_float32_matmul_precision(before)
    assert not _reduced_precision(cpu)


# --- MRENoise ---------------------------------------------------------------------------------
@pytest.mark.parametrize("kernel", ["1", "0"], ids=["kernel", "torch"])
@pytest.mark.parametrize("bits", [2, 3, 4, 5, 6, 7, 8, 12])
def test_mre_noise_draws_the_same_stream_as_before(bits, kernel, monkeypatch):
    """Same seed, same tensors: the new matmul returns the old one's values exactly (the
    same draws of torch's generator, in the same order, the same float operations), with
    the compiled last pass and on the torch path."""
    monkeypatch.setenv("ACTC_NN_KERNEL", kernel)
    top = (1 << (bits - 1)) - 1
    gen = torch.Generator().manual_seed(bits)
    for mre, bias in ((0.05, 0.0), (0.03, 0.01), (0.0, 0.0), (0.02, -0.02)):
        n = MRENoise(mre, bias=bias, bits=bits)
        for shape in ((17, 33, 9), (64, 300, 70), (0, 4, 3), (3, 0, 2)):
            a = torch.randint(-top, top + 1, shape[:2], generator=gen).float()
            b_rows = torch.randint(-top, top + 1, shape[1:], generator=gen).float()
            # a layer passes its weight codes transposed: b column-major
            for b in (b_rows, b_rows.t().contiguous().t()):
                torch.manual_seed(100)
                want = ref_noise_matmul(n, a, b)
                torch.manual_seed(100)
                got = n.matmul(a, b)
                torch.manual_seed(100)
                cached = n.matmul(a, b, cache_key=("w", shape, b.stride()))
                assert torch.equal(got, want) and torch.equal(cached, want)
                assert got.dtype == torch.float64


def test_mre_noise_cache_follows_the_key():
    n = MRENoise(0.0, bias=0.1)
    a = torch.ones(2, 3)
    y1 = n.matmul(a, torch.ones(3, 2), cache_key=1)
    y2 = n.matmul(a, 2 * torch.ones(3, 2), cache_key=2)
    assert torch.equal(y2, 2 * y1) and math.isclose(float(y1[0, 0]), 3.3)


def test_mre_noise_rejects_impossible_widths():
    for bits in (1, 17):
        with pytest.raises(ValueError, match=f"2- to 16-bit operand codes, got bits={bits}"):
            MRENoise(0.05, bits=bits)


# --- the layers: forward and backward, training and evaluation, on both paths ---------------
@pytest.mark.parametrize("spec", ["drum:4", "truncated:6", "exact", "mitchell"])
def test_layers_train_and_evaluate_identically_on_both_paths(spec):
    """A training step (forward, backward) and an evaluation forward of a small CNN give the
    same outputs and gradients with the compiled kernel and with the torch path."""
    results = []
    for kernel in (True, False):
        torch.manual_seed(0)
        model = nn.Sequential(ApproxConv2d(2, 5, 3, padding=1, multiplier=spec), nn.ReLU(),
                              nn.Flatten(), ApproxLinear(5 * 36, 4, multiplier=spec,
                                                         signed=False))
        for layer in (model[0], model[3]):
            layer.engine.kernel = kernel
        x = torch.randn(3, 2, 6, 6)
        model.train()
        out = model(x)
        out.square().sum().backward()
        grads = [p.grad.clone() for p in model.parameters()]
        model.eval()
        with torch.no_grad():
            ev = model(x)
            ev2 = model(x)  # the cached weights
        results.append((out.detach(), grads, ev, ev2))
    (o1, g1, e1, f1), (o2, g2, e2, f2) = results
    assert torch.equal(o1, o2) and torch.equal(e1, e2) and torch.equal(f1, f2)
    assert torch.equal(e1, f1)
    assert all(torch.equal(p, q) for p, q in zip(g1, g2))


def test_env_switch_turns_the_kernel_off(monkeypatch):
    monkeypatch.setenv("ACTC_NN_KERNEL", "0")
    assert not kernels.available()
    g = ApproxGemm(make_multiplier("drum:4", bits=8, signed=True))
    assert "cpu kernel=torch" in repr(g)
    monkeypatch.setenv("ACTC_NN_KERNEL", "1")
    assert kernels.available() and "cpu kernel=numba" in repr(g)
    assert os.environ["ACTC_NN_KERNEL"] == "1"
