"""The compiled CPU kernels of ``actc.nn`` (numba), run on torch's thread count.

``table_matmul``: Y[m, n] = sum_k T[A[m, k], B[k, n]] for index arrays A (M x K) and B (K x N)
into an integer product table T. Activation-stationary tiles: for one row m the kernel walks
the inner dimension four k at a time, holding the four table rows T[A[m, k]] (the products of
one activation code with every weight code: 1 KB each at 8 bits, so they stay in L1) and adding
T[A[m, k]][B[k, n]] for a block of n into an int32 accumulator row (flushed into the float64
output before it could overflow). One table read per product, no expanded weight table: about
one lookup per cycle per core (benchmarks/mac_speed.py). An activation code whose table row is
all zero (the code 0 of every multiplier here, the ReLU zeros of a network) is skipped.

``codes``: a layer's float codes checked (integers within the multiplier's range) and turned
into indices or int8 operands in one pass, where torch takes five.

Why numba: it installs from wheels on Linux, macOS and Windows (x86-64 and ARM) with no compiler
on the user's machine, compiles for the host CPU at first use (cached on disk), and releases
the GIL, so plain Python threads run the tiles in parallel. A C extension would need a compiler
at install time and make the whole package platform-specific; torch's cpp_extension compiles
C++ at run time (a minute, and a compiler). Without numba (or with ``ACTC_NN_KERNEL=0`` in the
environment) ``actc.nn.gemm`` takes its torch path, which gives the same sums.

The threads: a pool of ``torch.get_num_threads()`` workers (rebuilt when that number changes
or after a fork), fed tiles of rows and columns; small problems run in the calling thread.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import torch

__all__ = ["available", "codes", "enabled", "noise", "table_matmul"]

_N_BLOCK = 1024  # columns per tile: the accumulator row (8 KB) and four B rows stay in L1
_INLINE_LOOKUPS = 1 << 18  # below this many lookups, no threads

_state: dict[str, Any] = {}
_lock = threading.Lock()


def enabled() -> bool:
    """False when ``ACTC_NN_KERNEL=0`` is in the environment: then ``actc.nn`` runs on the
    CPU exactly what it runs on other devices (no compiled kernels, no int8 matmuls)."""
    return os.environ.get("ACTC_NN_KERNEL", "1").strip() != "0"


def capturing() -> bool:
    """True while torch records a graph (``torch.jit.trace``, ``torch.compile``,
    ``torch.export``): a numba call is opaque to it (a trace would keep its result as a
    constant), so the torch path, which computes the same sums, runs instead."""
    import torch

    return bool(torch.jit.is_tracing() or torch.compiler.is_compiling())


def available() -> bool:
    """True when the compiled kernels can run: ``enabled()``, numba imports and no graph is
    being captured (``capturing``)."""
    return enabled() and not capturing() and _module() is not None


def _module() -> Any:
    """The module of numba functions (compiled at their first call), or None without numba."""
    if "module" not in _state:
        with _lock:
            if "module" not in _state:
                try:
                    from . import _numba_kernels
                except Exception:  # no numba, or one built against another numpy: torch path
                    _state["module"] = None
                else:
                    _state["module"] = _numba_kernels
    return _state["module"]


def _pool(threads: int) -> ThreadPoolExecutor:
    """The worker pool for ``threads`` threads (a new one after a fork or a thread-count
    change: a forked child inherits the pool object but not its threads)."""
    key = (os.getpid(), threads)
    with _lock:
        if _state.get("pool_key") != key:
            old = _state.get("pool")
            if old is not None and _state.get("pool_key", (None,))[0] == os.getpid():
                old.shutdown(wait=False)
            _state["pool"] = ThreadPoolExecutor(threads, thread_name_prefix="actc-gemm")
            _state["pool_key"] = key
        pool: ThreadPoolExecutor = _state["pool"]
    return pool


def table_matmul(table: np.ndarray, skip: np.ndarray, bound: int, a: np.ndarray,
                 b: np.ndarray, out: np.ndarray) -> None:
    """out[m, n] = sum_k table[a[m, k], b[k, n]], exactly (out: float64, M x N, written
    whole). ``table``: int32, C-contiguous; ``a`` (M x K) and ``b`` (K x N): C-contiguous
    index arrays, in range (the caller checks: the kernel does not); ``skip[i]``: row i of
    the table is all zero; ``bound``: max |table|."""
    kernel = _compiled().table_tile
    if not 0 <= bound < 1 << 28:
        raise ValueError(f"product table bound {bound} outside the kernel's int32 range")
    k_chunk = (2**31 - 1) // max(4 * bound, 1) * 4  # terms whose int32 sum cannot overflow
    m_dim, k_dim = a.shape
    n_dim = b.shape[1]
    if m_dim == 0 or n_dim == 0:
        return
    threads = _threads()
    n_blocks = [(s, min(n_dim, s + _N_BLOCK)) for s in range(0, n_dim, _N_BLOCK)]
    if threads == 1 or m_dim * k_dim * n_dim < _INLINE_LOOKUPS:
        for n0, n1 in n_blocks:
            kernel(table, skip, a, b, out, 0, m_dim, n0, n1, k_chunk)
        return
    # about four tiles per thread, so a thread slowed by other work does not hold up the rest
    tiles_m = max(1, min(m_dim, -(-4 * threads // len(n_blocks))))
    step = -(-m_dim // tiles_m)
    tiles = [(m0, min(m_dim, m0 + step), n0, n1)
             for m0 in range(0, m_dim, step) for n0, n1 in n_blocks]
    _run(threads, [(kernel, (table, skip, a, b, out, m0, m1, n0, n1, k_chunk))
                   for m0, m1, n0, n1 in tiles])


def codes(x: np.ndarray, lo: int, hi: int, offset: int, out: np.ndarray) -> bool:
    """out = x - offset (x: a 2-D float array, C-contiguous; out: an integer or float32 array
    of its shape), and whether every value of x is an integer in [lo, hi]: the layer's codes
    checked and turned into indices or int8 operands in one pass."""
    kernel = _compiled().codes_tile
    rows = x.shape[0]
    threads = _threads()
    if threads == 1 or x.size < _INLINE_LOOKUPS:
        return bool(kernel(x, lo, hi, offset, out, 0, rows))
    step = -(-rows // (2 * threads))
    return all(_run(threads, [(kernel, (x, lo, hi, offset, out, r, min(rows, r + step)))
                              for r in range(0, rows, step)]))


def noise(y: np.ndarray, spread: np.ndarray, z: np.ndarray, sigma: float, scale: float,
          out: np.ndarray) -> None:
    """out = y scale + (spread sigma) z (``MRENoise``): y (int32, int64 or float64 exact
    sums), spread (the root of the sums of squared products: torch's square root, which is
    not always the correctly rounded one) and z (the draws) float32, out float64; all 2-D,
    C-contiguous, of one shape."""
    kernel = _compiled().noise_tile
    rows = spread.shape[0]
    threads = _threads()
    args = (y, spread, z, np.float32(sigma), float(scale), out)
    if threads == 1 or spread.size < _INLINE_LOOKUPS:
        kernel(*args, 0, rows)
        return
    step = -(-rows // (2 * threads))
    _run(threads, [(kernel, (*args, r, min(rows, r + step))) for r in range(0, rows, step)])


def _compiled() -> Any:
    module = _module()
    if module is None:
        raise RuntimeError("the compiled kernels are not available (numba does not import)")
    return module


def _threads() -> int:
    return max(1, torch.get_num_threads())


def _run(threads: int, calls: list[tuple[Any, tuple[Any, ...]]]) -> list[Any]:
    """Each (function, arguments) on the pool; their results in order."""
    pool = _pool(threads)
    futures = [pool.submit(fn, *args) for fn, args in calls]
    return [f.result() for f in futures]
