"""Bit-exact approximate GEMM: Y[m, n] = sum_k P(A[m, k], B[k, n]) for integer operand codes and
a multiplier's products P, computed without unfolding the products.

Operand codes (docs/reference/nn.md): with a signed multiplier both operands are its two's
complement codes; with an unsigned one they are sign-magnitude, P(a, b) = sign(a) sign(b)
M(|a|, |b|) (sign(0) = +1), so an unsigned multiplier serves signed weights and activations.

Two exact methods; the engine picks the first that applies:

1. **Factorised** (exact, ASM, and the partial-product arrays: truncated and BAM): P(a, b) =
   c + sum_g U_g(a) V_g(b) with integer factors (exact: a * b; ASM: a * T[b]; an array:
   a * b less each group of rows' dropped bits). Y is one matmul of the factors stacked along
   the inner dimension (k-major: column k G + g), c * K added. The factorisation is checked
   against the product table on every pair when the engine is built, and used only if it
   matches (a product that wraps does not). On the CPU, factors that fit int8 multiply in
   int8 with int32 sums (``torch._int_mm``: VNNI where the CPU has it); otherwise, and on
   other devices, float32.
2. **Table** (any multiplier, imported ones included): on the CPU, a compiled kernel
   (``kernels``: numba) reads one table entry per product, four activation codes' table rows
   at a time against the weight rows, on ``torch.get_num_threads()`` threads. Elsewhere (a
   GPU, or without numba): with G[(v, k), n] = P(v, B[k, n]) for every activation code v,
   Y[m, :] = sum_k G[(A[m, k], k), :], a gather-and-sum done by
   ``torch.nn.functional.embedding_bag``, G built a chunk of k at a time (at most 2^26
   entries) and kept between calls only when small.

Derived data of b (index arrays, stacked factors, G) is kept between calls under
``cache_key`` (a value the caller changes whenever b changes: a layer passes its weight's
version in evaluation mode).

Exactness: integer sums are exact in int32 below 2^31 and in float32 below 2^24, so the inner
dimension is split into chunks whose sums stay below those bounds, the chunks added in
float64 (exact below 2^53). A float32 matmul that may round its inputs (TF32 or bf16 allowed
by ``torch.set_float32_matmul_precision`` or the backends' flags) is used only on codes that
survive the rounding (|x| <= 256); otherwise the sums run in float64.

>>> import torch
>>> from actc.mac.api import make_multiplier
>>> g = ApproxGemm(make_multiplier("drum:4", bits=8, signed=True))
>>> a = torch.tensor([[100, -3]]); b = torch.tensor([[7], [-50]])
>>> g.matmul(a, b).tolist(), g.method
([[884.0]], 'table')
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from actc.mac.families import ArrayFamily
from actc.mac.families.asm import AsmFamily
from actc.mac.families.exact import ExactFamily
from actc.mac.ir import Multiplier

from . import kernels

__all__ = ["ApproxGemm", "exact_matmul", "exact_sums"]

_F32_EXACT = 1 << 24
_I32_MAX = (1 << 31) - 1
_BF16_EXACT = 256  # integers a float32 matmul that rounds inputs to bf16 (or TF32) keeps
_G_ELEMENTS = 1 << 26  # the largest piece of the expanded weight table G built at once
_G_CACHE = 1 << 26  # the largest G kept between calls (256 MB in float32)
_BAG_ELEMENTS = 1 << 24  # the largest index block handed to embedding_bag at once
_STACKED_ELEMENTS = 1 << 25  # the largest block of stacked activation factors built at once


def _reduced_precision(device: torch.device) -> bool:
    """True when a float32 matmul on ``device`` may round its inputs (TF32 or bf16)."""
    try:
        if torch.get_float32_matmul_precision() != "highest":
            return True
    except RuntimeError:  # torch refuses when the legacy and new settings were mixed
        return True
    try:
        if device.type == "cuda":
            return bool(torch.backends.cuda.matmul.allow_tf32)
        mkldnn = getattr(torch.backends.mkldnn, "matmul", None)
        return getattr(mkldnn, "fp32_precision", "none") not in ("none", "ieee")
    except RuntimeError:
        return True


_INT8_MM: dict[str, bool] = {}


def _int8_mm_available() -> bool:
    """``torch._int_mm`` on the CPU (int8 x int8 -> int32), checked once on a small case."""
    if "cpu" not in _INT8_MM:
        try:
            x = torch.tensor([[-128, 127, 3]], dtype=torch.int8)
            w = torch.tensor([[127], [-128], [5]], dtype=torch.int8)
            _INT8_MM["cpu"] = torch._int_mm(x, w).tolist() == [[-32497]]
        except (AttributeError, RuntimeError, NotImplementedError):
            _INT8_MM["cpu"] = False
    return _INT8_MM["cpu"]


def _row_major(x: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """x as ``dtype`` with plain row-major strides. torch calls a tensor contiguous whatever
    the stride of a dimension of size 1, and ``torch._int_mm`` on the CPU then reads the
    wrong memory (a K x 1 operand with strides (1, 7) gives garbage): copy such a tensor."""
    x = x.to(dtype)
    if x.dim() == 2 and x.stride() != (x.shape[1], 1):
        x = torch.empty(x.shape, dtype=dtype, device=x.device).copy_(x)
    return x


def _int8_ok() -> bool:
    """int8 matmuls (``torch._int_mm``) for int8 factors: kernels enabled, no graph being
    captured (``kernels.capturing``: the chunked loop is shaped by the data) and the
    operation present."""
    return kernels.enabled() and not kernels.capturing() and _int8_mm_available()


def _span(x: torch.Tensor) -> tuple[float, float]:
    """(min, max) of a non-empty tensor, as Python numbers."""
    lo, hi = torch.aminmax(x)
    return float(lo), float(hi)


def _chunked_sums(x: torch.Tensor, w: torch.Tensor, per_k: float, group: int,
                  int8: bool, largest: float) -> torch.Tensor:
    """x @ w exactly (int32, int64 or float64 holding the exact sums) for integer-valued 2-D
    x (M x K G) and w (K G x N) whose columns come in groups of ``group`` per k, one group's
    products summing to at most ``per_k`` in magnitude. ``int8``: every entry fits int8;
    ``largest``: max |entry|."""
    k = x.shape[1] // group
    if int8 and x.device.type == "cpu" and _int8_ok():
        step = max(1, int(_I32_MAX // max(per_k, 1.0))) * group
        x8, w8 = _row_major(x, torch.int8), _row_major(w, torch.int8)
        if step >= x.shape[1]:
            return torch._int_mm(x8, w8)
        out = torch.zeros(x.shape[0], w.shape[1], dtype=torch.int64)
        for s in range(0, x.shape[1], step):
            out += torch._int_mm(_row_major(x8[:, s:s + step], torch.int8), w8[s:s + step])
        return out
    chunk = int(_F32_EXACT // max(per_k, 1.0))
    if chunk < 16 or (largest > _BF16_EXACT and _reduced_precision(x.device)):
        return x.double() @ w.double()
    xf, wf = x.float(), w.float()
    if chunk >= k:
        return (xf @ wf).double()
    step = chunk * group
    total: torch.Tensor | None = None
    for s in range(0, x.shape[1], step):
        part = (xf[:, s:s + step] @ wf[s:s + step]).double()
        total = part if total is None else total.add_(part)
    assert total is not None
    return total


def _fits_int8(lo: float, hi: float) -> bool:
    return lo >= -128 and hi <= 127


def exact_matmul(x: torch.Tensor, w: torch.Tensor, bound: float | None = None) -> torch.Tensor:
    """x @ w for integer-valued x (... x K) and w (K x N), exactly, as float64. ``bound``:
    the largest |x[..., k] w[k, n]| if the caller knows it (a code range); the operands'
    own maxima are used when they are smaller, and a value beyond ``bound`` is an error.

    >>> exact_matmul(torch.tensor([[3.0, -4.0]]), torch.tensor([[5.0], [6.0]]), 30)
    tensor([[-9.]], dtype=torch.float64)
    """
    return exact_sums(x, w, bound).double()


def exact_sums(x: torch.Tensor, w: torch.Tensor, bound: float | None = None) -> torch.Tensor:
    """``exact_matmul`` without the conversion: int32, int64 or float64 (whichever the sums
    were computed in), exact integers."""
    if x.shape[-1] != w.shape[0] or w.dim() != 2:
        raise ValueError(f"exact_matmul: takes x (... x K) and w (K x N), got "
                         f"{tuple(x.shape)} and {tuple(w.shape)}")
    if x.numel() == 0 or w.numel() == 0:
        return x.double() @ w.double()
    return _exact_sums(x, _span(x), w, _span(w), bound)


def _exact_sums(x: torch.Tensor, x_span: tuple[float, float], w: torch.Tensor,
                w_span: tuple[float, float], bound: float | None = None,
                w8: torch.Tensor | None = None) -> torch.Tensor:
    """``exact_sums`` of non-empty operands with their (min, max) known; ``w8``: w as int8,
    row-major, if the caller keeps it."""
    x_abs, w_abs = max(-x_span[0], x_span[1]), max(-w_span[0], w_span[1])
    if bound is not None and x_abs * w_abs > bound:
        raise ValueError(f"exact_matmul: operands up to {x_abs:g} and {w_abs:g} exceed the "
                         f"product bound {bound:g}")
    int8 = _fits_int8(*x_span) and _fits_int8(*w_span)
    out = _chunked_sums(x.reshape(-1, x.shape[-1]), w if w8 is None or not int8 else w8,
                        x_abs * w_abs, 1, int8, max(x_abs, w_abs))
    return out.reshape(*x.shape[:-1], w.shape[1])


def int8_row_major(w: torch.Tensor, span: tuple[float, float]) -> torch.Tensor | None:
    """w as int8 with row-major strides when its values (min, max = span) fit int8 and it
    lives on the CPU, else None: what ``_exact_sums`` takes as ``w8``."""
    if w.device.type != "cpu" or not _fits_int8(*span):
        return None
    return _row_major(w, torch.int8)


def _signed_codes(m: Multiplier) -> tuple[np.ndarray, np.ndarray]:
    """The layer's code ranges for a and b (see the module docstring)."""
    if m.signed:
        return m.operands("a"), m.operands("b")
    ta, tb = (1 << m.a_bits) - 1, (1 << m.b_bits) - 1
    return np.arange(-ta, ta + 1, dtype=np.int64), np.arange(-tb, tb + 1, dtype=np.int64)


def _extend(m: Multiplier, values: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """A factor over the multiplier's own operand codes, over the layer's codes (with the
    operand's sign for an unsigned multiplier)."""
    if m.signed:
        return values
    sign = np.where(codes < 0, -1, 1)
    return sign * values[np.abs(codes)]


def _factors(m: Multiplier) -> tuple[list[tuple[np.ndarray, np.ndarray]], int] | None:
    """(factors over the multiplier's own codes, constant), or None: see the module
    docstring."""
    f = m.family
    a, b = m.operands("a"), m.operands("b")
    if isinstance(f, ExactFamily):
        return [(a, b)], 0
    if isinstance(f, AsmFamily):
        return [(a, f.represent(b, m.b_bits, m.signed))], 0
    if isinstance(f, ArrayFamily):
        pa = a & ((1 << m.a_bits) - 1)
        pb = b & ((1 << m.b_bits) - 1)
        groups: dict[tuple[int, int], np.ndarray] = {}
        const = f.offset(m.a_bits, m.b_bits, m.signed)
        for j in range(m.b_bits):  # the dropped bits of row j, AND and NAND
            d_and = d_nand = 0
            for i in range(m.a_bits):
                if f.dropped(i, j, m.a_bits, m.b_bits, m.signed):
                    if f.inverted(i, j, m.a_bits, m.b_bits, m.signed):
                        d_nand |= 1 << i
                    else:
                        d_and |= 1 << i
            if d_and or d_nand:
                key = (d_and, d_nand)
                groups[key] = groups.get(key, 0) + (((pb >> j) & 1) << j)
                const -= d_nand << j
        factors = [(a, b)] + [(-((pa & da) - (pa & dn)), v) for (da, dn), v in groups.items()]
        return factors, const
    return None


def _index_dtype(size: int) -> torch.dtype:
    return torch.uint8 if size <= 256 else torch.int16 if size <= 1 << 15 else torch.int32


class ApproxGemm(nn.Module):
    """The products of one multiplier over the layer's code ranges, and the GEMM over them.
    Its tables are non-persistent integer buffers: they follow the module to any device,
    keep their values under ``.half()`` or ``.double()``, and stay out of state dicts.

    ``kernel`` (default True): on the CPU, use the compiled kernels (numba, when installed:
    ``kernels.available()``) and int8 matmuls for int8 factors; False takes the path other
    devices take (same sums)."""

    table: torch.Tensor
    u: torch.Tensor
    v: torch.Tensor

    def __init__(self, multiplier: Multiplier) -> None:
        super().__init__()
        m = multiplier
        if m.a_bits + m.b_bits > 20:
            raise ValueError(f"actc.nn simulates multipliers up to 20 product bits "
                             f"({m.a_bits} x {m.b_bits} given)")
        self.multiplier = m
        self.kernel = True
        ca, cb = _signed_codes(m)
        self.a_lo, self.a_hi = int(ca[0]), int(ca[-1])
        self.b_lo, self.b_hi = int(cb[0]), int(cb[-1])
        table = self._table(ca, cb)
        self.register_buffer("table", torch.from_numpy(table.astype(np.int32)),
                             persistent=False)
        self.bound = float(np.abs(table).max())
        # rows of the table that are all zero (the activation code 0): the kernel skips them
        self._skip = np.ascontiguousarray((table == 0).all(axis=1))
        self.method = "table"
        self.constant = 0
        fac = _factors(m)
        if fac is not None:
            factors, const = fac
            us = np.stack([_extend(m, u, ca) for u, _ in factors])
            vs = np.stack([_extend(m, v, cb) for _, v in factors])
            if not m.signed:  # the constant too carries the operands' signs
                sa, sb = np.where(ca < 0, -1, 1), np.where(cb < 0, -1, 1)
                us = np.concatenate([us, (sa * const)[None]])
                vs = np.concatenate([vs, sb[None]])
                const = 0
            if np.array_equal(np.einsum("ga,gb->ab", us, vs) + const, table):
                self.method = "factorised"
                self.constant = int(const)
                self.register_buffer("u", torch.from_numpy(us), persistent=False)
                self.register_buffer("v", torch.from_numpy(vs), persistent=False)
                u_abs, v_abs = np.abs(us).max(axis=1), np.abs(vs).max(axis=1)
                self.factor_bound = float((u_abs * v_abs).max())
                self._per_k = float((u_abs * v_abs).sum())  # one k's stacked products
                self._int8 = _fits_int8(us.min(), us.max()) and _fits_int8(vs.min(), vs.max())
                self._largest = float(max(u_abs.max(), v_abs.max()))
                # factors that are the codes themselves need no gather
                self._u_codes = len(us) == 1 and np.array_equal(us[0], ca)
                self._v_codes = len(vs) == 1 and np.array_equal(vs[0], cb)
        self._cache: tuple[Any, ...] | None = None

    def _table(self, ca: np.ndarray, cb: np.ndarray) -> np.ndarray:
        m = self.multiplier
        if m.signed:
            return m.product(ca[:, None], cb[None, :])
        sign = np.where(ca[:, None] < 0, -1, 1) * np.where(cb[None, :] < 0, -1, 1)
        return sign * m.product(np.abs(ca)[:, None], np.abs(cb)[None, :])

    @property
    def codes(self) -> tuple[int, int, int, int]:
        """(a_lo, a_hi, b_lo, b_hi): the code ranges the layer quantises to."""
        return self.a_lo, self.a_hi, self.b_lo, self.b_hi

    def product(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Elementwise products of code tensors (broadcast), as float32."""
        a_idx = self._indices(a, self.a_lo, self.a_hi, "a", torch.int64)
        b_idx = self._indices(b, self.b_lo, self.b_hi, "b", torch.int64)
        return self.table[a_idx, b_idx].float()

    def _indices(self, x: torch.Tensor, lo: int, hi: int, name: str, dtype: torch.dtype,
                 offset: int | None = None) -> torch.Tensor:
        """x - offset (default lo: indices into the tables) as ``dtype``, after checking that
        x holds integer codes in [lo, hi] (an index outside the table would read the wrong
        row or past its end). One compiled pass for a float32 CPU matrix, torch otherwise."""
        offset = lo if offset is None else offset
        if (self.kernel and x.dim() == 2 and x.dtype == torch.float32
                and x.device.type == "cpu" and x.numel() and kernels.available()):
            xc = x.detach().contiguous()
            out = torch.empty(x.shape, dtype=dtype)
            if kernels.codes(xc.numpy(), lo, hi, offset, out.numpy()):
                return out
        self._check_codes(x, lo, hi, name)
        if x.is_floating_point():
            return (x - offset).to(dtype)
        return (x.to(torch.int64) - offset).to(dtype) if offset else x.to(dtype)

    @staticmethod
    def _check_codes(x: torch.Tensor, lo: int, hi: int, name: str) -> None:
        # A captured graph cannot branch on data: the layers hand the engine codes their
        # quantisers clamped to these ranges (tested eagerly), so the check is left out there.
        if not x.numel() or kernels.capturing():
            return
        if x.is_floating_point() and not torch.equal(x, torch.trunc(x)):
            raise ValueError(f"ApproxGemm: {name} holds values that are not integer codes")
        x_lo, x_hi = _span(x)
        if x_lo < lo or x_hi > hi:
            raise ValueError(f"ApproxGemm: {name} holds codes from {x_lo:g} to {x_hi:g}, "
                             f"outside the multiplier's range [{lo}, {hi}]")

    def matmul(self, a: torch.Tensor, b: torch.Tensor, cache_key: Any = None) -> torch.Tensor:
        """sum_k P(a[m, k], b[k, n]) for integer-valued tensors a (M x K) and b (K x N), as
        float64 holding exact integers. ``cache_key``: a value that changes whenever b does
        (a layer passes its weight's version); derived data of b is then kept between calls.
        Codes outside the multiplier's ranges (``codes``) are an error."""
        if a.dim() != 2 or b.dim() != 2 or a.shape[1] != b.shape[0]:
            raise ValueError(f"ApproxGemm.matmul takes a (M x K) and b (K x N), got "
                             f"{tuple(a.shape)} and {tuple(b.shape)}")
        if a.device != b.device:
            raise ValueError(f"ApproxGemm.matmul: a on {a.device}, b on {b.device}")
        if self.method == "factorised":
            return self._factorised_matmul(a, b, cache_key)
        if (self.kernel and a.device.type == "cpu" and self.table.device.type == "cpu"
                and kernels.available()):
            return self._kernel_matmul(a, b, cache_key)
        return self._table_matmul(a, b, cache_key)

    def _cached(self, cache_key: Any, b: torch.Tensor, path: str, make: Any) -> Any:
        """The derived data ``make()`` of b, kept under (cache_key, b's shape and device,
        the path that uses it) when cache_key is given."""
        if cache_key is None:
            return make()
        key = (cache_key, tuple(b.shape), b.device, path)
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        data = make()
        self._cache = (key, data) if data is not None else None
        return data

    # --- factorised -------------------------------------------------------------------------
    def _factors_as(self, which: str, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
        """The factor table (codes x groups) of operand ``which`` in ``dtype`` on ``device``,
        kept per (dtype, device); made afresh while a graph is captured (a kept tensor would
        enter the graph as a constant on one call and as its computation on another)."""
        if kernels.capturing():
            src = self.u if which == "a" else self.v
            return src.t().contiguous().to(device=device, dtype=dtype)
        store = self.__dict__.setdefault("_factor_tables", {})
        key = (which, dtype, device)
        if key not in store:
            src = self.u if which == "a" else self.v
            store[key] = src.t().contiguous().to(device=device, dtype=dtype)
        out: torch.Tensor = store[key]
        return out

    def _factorised_matmul(self, a: torch.Tensor, b: torch.Tensor, cache_key: Any) -> torch.Tensor:
        k, groups = a.shape[1], self.u.shape[0]
        int8 = self._int8 and self.kernel and a.device.type == "cpu" and _int8_ok()
        dtype = torch.int8 if int8 else torch.float32
        if a.numel() == 0 or b.numel() == 0:
            self._check_codes(a, self.a_lo, self.a_hi, "a")
            self._check_codes(b, self.b_lo, self.b_hi, "b")
            y = torch.zeros(a.shape[0], b.shape[1], dtype=torch.float64, device=a.device)
            return y + self.constant * k if self.constant else y

        def stacked_b() -> torch.Tensor:
            if self._v_codes:  # the codes themselves, checked
                return self._indices(b, self.b_lo, self.b_hi, "b", dtype, offset=0)
            bi = self._indices(b, self.b_lo, self.b_hi, "b", torch.int32)
            vs = self._factors_as("b", dtype, b.device)[bi]  # K x N x G
            return vs.permute(0, 2, 1).reshape(k * groups, b.shape[1])

        ws = self._cached(cache_key, b, f"factorised-{dtype}", stacked_b)
        if self._u_codes:
            xs = self._indices(a, self.a_lo, self.a_hi, "a", dtype, offset=0)
            y = _chunked_sums(xs, ws, self._per_k, groups, int8, self._largest).double()
        else:  # the stacked factors of a block of rows at a time: memory stays bounded
            ai = self._indices(a, self.a_lo, self.a_hi, "a", torch.int32)
            us = self._factors_as("a", dtype, a.device)
            y = torch.empty(a.shape[0], b.shape[1], dtype=torch.float64, device=a.device)
            rows = max(1, _STACKED_ELEMENTS // (k * groups))
            for r in range(0, a.shape[0], rows):
                xs = us[ai[r:r + rows]].reshape(-1, k * groups)
                y[r:r + rows] = _chunked_sums(xs, ws, self._per_k, groups, int8, self._largest)
        return y.add_(self.constant * k) if self.constant else y

    # --- table: compiled kernel -------------------------------------------------------------
    def _kernel_matmul(self, a: torch.Tensor, b: torch.Tensor, cache_key: Any) -> torch.Tensor:
        n_a, n_b = self.table.shape
        b_idx = self._cached(cache_key, b, "kernel", lambda: self._indices(
            b, self.b_lo, self.b_hi, "b", _index_dtype(n_b)).contiguous().numpy())
        a_idx = self._indices(a, self.a_lo, self.a_hi, "a", _index_dtype(n_a)).contiguous()
        out = torch.empty(a.shape[0], b.shape[1], dtype=torch.float64)
        kernels.table_matmul(self.table.numpy(), self._skip, int(self.bound),
                             a_idx.numpy(), b_idx, out.numpy())
        return out

    # --- table: torch -----------------------------------------------------------------------
    def _expanded(self, bi: torch.Tensor, start: int, stop: int) -> torch.Tensor:
        """G for the rows start:stop of the weight indices: [(v, k), n] = P(v, b[k, n])."""
        n_a = self.table.shape[0]
        g = self.table[:, bi[start:stop].reshape(-1)].to(torch.float32)
        return g.reshape(n_a * (stop - start), bi.shape[1])

    def _table_matmul(self, a: torch.Tensor, b: torch.Tensor, cache_key: Any) -> torch.Tensor:
        k, n = b.shape
        n_a = self.table.shape[0]
        chunk = max(1, min(k, int(_F32_EXACT // max(self.bound, 1.0)),
                           _G_ELEMENTS // max(1, n_a * n)))
        bounds = [(s, min(k, s + chunk)) for s in range(0, k, chunk)]

        def weights() -> tuple[torch.Tensor, list[torch.Tensor] | None]:
            bi = self._indices(b, self.b_lo, self.b_hi, "b", torch.int64)
            keep = n_a * k * n <= _G_CACHE  # G itself only when small
            return bi, [self._expanded(bi, s, e) for s, e in bounds] if keep else None

        bi, parts = self._cached(cache_key, b, "torch", weights)
        ai = self._indices(a, self.a_lo, self.a_hi, "a", torch.int64)
        out = torch.zeros(a.shape[0], n, dtype=torch.float64, device=a.device)
        if a.shape[0] == 0 or n == 0:
            return out
        for c, (s, e) in enumerate(bounds):
            g = parts[c] if parts is not None else self._expanded(bi, s, e)
            width = e - s
            offsets = torch.arange(width, device=a.device)
            rows = max(1, _BAG_ELEMENTS // width)
            for r in range(0, a.shape[0], rows):
                idx = ai[r:r + rows, s:e] * width + offsets
                out[r:r + rows] += nn.functional.embedding_bag(idx, g, mode="sum").double()
        return out

    def extra_repr(self) -> str:
        kernel = "numba" if self.kernel and kernels.available() else "torch"
        return f"{self.multiplier.text}, method={self.method}, cpu kernel={kernel}"
