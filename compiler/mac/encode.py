"""``actc mac encode``: integer weights to ASM codes for an alphabet set multiplier.

Each weight is rounded to the nearest magnitude the alphabet represents (``AsmFamily``;
halfway weights go to the larger magnitude by default, ``--tie down`` the smaller) and
encoded as the hardware's weight port takes it (``AsmLayout``). Written:

- ``NAME.npy``: the codes (uint16 or uint32), the weights' shape;
- ``NAME.h``: a C99 header with the codes as a ``static const`` array, the shape and the
  layout as macros, for firmware;
- ``NAME_error.npy``: the per-weight rounding error (rounded - original, int32);
- ``NAME.json``: count, alphabet, bits per encoded weight (the hardware's fields, and the
  least any encoding needs: ceil(log2 |representable weights|)), how many weights changed,
  the largest and mean |rounding error|, and the representable count.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, SemanticError
from ..fileio import write_files
from .families.asm import AsmFamily
from .ir import Multiplier

__all__ = ["EncodeResult", "encode_file", "encode_weights"]


@dataclass(frozen=True)
class EncodeResult:
    codes: np.ndarray
    rounded: np.ndarray
    report: dict[str, Any]
    paths: list[Path]


def _alphabet(text: str | tuple[int, ...]) -> tuple[int, ...]:
    if isinstance(text, tuple):
        return text
    items = [t.strip() for t in str(text).split(",")]
    if "" in items:
        raise SemanticError(f"--alphabet {text!r}: an empty letter (two commas, or one at an "
                            "end); give odd letters separated by commas, e.g. 1,3")
    try:
        return tuple(int(t) for t in items)
    except ValueError:
        raise SemanticError(f"--alphabet {text!r}: give odd letters, e.g. 1,3") from None


def _family(alphabet: str | tuple[int, ...], tie: str) -> AsmFamily:
    """The ASM family of an --alphabet, its errors naming --alphabet as the user wrote it."""
    letters = _alphabet(alphabet)
    try:
        return AsmFamily(letters, tie)
    except SemanticError as exc:
        text = alphabet if isinstance(alphabet, str) else ",".join(map(str, alphabet))
        reason = str(exc).split(": ", 1)[-1]
        raise SemanticError(f"--alphabet {text!r}: {reason}") from None


def encode_weights(weights: np.ndarray, *, alphabet: str | tuple[int, ...], bits: int = 8,
                   signed: bool = False, tie: str = "up") -> tuple[np.ndarray, np.ndarray, dict]:
    """(codes, rounded weights, report) for integer weight codes (see the module docstring).

    >>> codes, rounded, rep = encode_weights(np.array([5, -7, 0]), alphabet="1,3", signed=True)
    >>> rounded.tolist(), rep["bits_per_weight"], rep["changed"]
    ([6, -8, 0], 9, 2)
    """
    family = _family(alphabet, tie)
    m = Multiplier(family, 8, bits, signed)  # a's width does not matter to the weights
    w = np.asarray(weights)
    if w.dtype.kind not in "iuf" or w.ndim == 0 or w.size == 0:
        raise InputError(f"weights must be a non-empty numeric array, got dtype {w.dtype} and "
                         f"shape {w.shape}")
    if w.dtype.kind == "f":
        if not np.all(np.isfinite(w)):
            k = int(np.flatnonzero(~np.isfinite(w.ravel()))[0])
            raise InputError(f"weights contain NaN or infinity (element {k} of the flattened "
                             "array): give integer weight codes")
        if not np.all(w == np.round(w)):
            raise InputError("weights must be integer codes (quantise them first: this file "
                             "has fractional values)")
    fb = m.b_format
    # the range is checked on the values as stored (a uint64 above 2^63 or a float beyond
    # int64 would wrap in the cast to int64, and the message would name another number)
    flat = w.ravel()
    bad = np.flatnonzero((flat < fb.code_min) | (flat > fb.code_max))
    if bad.size:
        value = flat[bad[0]].item()
        if isinstance(value, float) and value.is_integer() and abs(value) < 2 ** 53:
            value = int(value)
        raise InputError(f"weight {value} (element {int(bad[0])}) is outside "
                         f"[{fb.code_min}, {fb.code_max}] for {bits}-bit "
                         f"{'signed' if signed else 'unsigned'} weights")
    wi = w.astype(np.int64)
    rounded = family.represent(wi, bits, signed)
    codes = m.encode(wi)
    layout = family.layout(bits, signed)
    err = rounded - wi
    count = len(layout.representable())
    report = {
        "count": int(wi.size), "shape": list(wi.shape), "alphabet": list(family.alphabet),
        "bits": bits, "signed": signed, "tie": tie,
        "bits_per_weight": layout.bits,
        "min_bits_per_weight": int(signed) + math.ceil(math.log2(count)),
        "representable_magnitudes": count,
        "changed": int(np.count_nonzero(err)),
        "max_abs_error": int(np.abs(err).max()),
        "mean_abs_error": float(np.abs(err).mean()),
        "layout": ("sign, then " if signed else "") + f"{layout.quartets} quartet fields of "
                  f"{layout.field_bits} bits [nonzero | select ({layout.select_bits}) | shift (2)]"
                  ", the top quartet first",
    }
    return codes.reshape(wi.shape), rounded.reshape(wi.shape), report


def _npy_bytes(array: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def encode_file(path: str | Path, *, alphabet: str, bits: int = 8, signed: bool = False,
                tie: str = "up", name: str | None = None, output: str | Path = ".") -> EncodeResult:
    """Read a .npy of integer weights, encode them, write the files (see the module
    docstring); nothing is written when the input is bad."""
    from actc.targets import TARGETS
    from actc.targets.base import check_name

    p = Path(path)
    try:
        weights = np.load(p, allow_pickle=False)
    except FileNotFoundError:
        raise InputError(f"{str(p)!r} not found") from None
    except (OSError, ValueError) as exc:
        raise InputError(f"{p.name} is not a .npy array: {exc}") from None
    stem = check_name(name if name is not None else p.stem, {"c": TARGETS["c"]})
    codes, rounded, report = encode_weights(weights, alphabet=alphabet, bits=bits,
                                            signed=signed, tie=tie)
    dtype = np.uint16 if report["bits_per_weight"] <= 16 else np.uint32
    out = Path(output)
    header = _header(stem, codes.astype(np.int64), report)
    error = (rounded - np.asarray(weights).astype(np.int64)).astype(np.int32)
    written = write_files(out, {f"{stem}.npy": _npy_bytes(codes.astype(dtype)),
                                f"{stem}_error.npy": _npy_bytes(error),
                                f"{stem}.h": header,
                                f"{stem}.json": json.dumps(report, indent=1) + "\n"})
    return EncodeResult(codes, rounded, report, written)


def _header(name: str, codes: np.ndarray, report: dict) -> str:
    from actc import __version__
    from actc.targets.base import rows

    ctype = "uint16_t" if report["bits_per_weight"] <= 16 else "uint32_t"
    flat = codes.ravel()
    body = ",\n".join(f"    {r}" for r in rows(flat, 12, str))
    shape = " x ".join(str(s) for s in report["shape"])
    upper = name.upper()
    dims = "".join(f"#define {upper}_DIM{k} {s}\n" for k, s in enumerate(report["shape"]))
    return (f"/* {name}.h: generated by actc {__version__}. Do not edit; regenerate instead.\n"
            f" * ASM weight codes, alphabet {{{','.join(map(str, report['alphabet']))}}}, "
            f"{report['bits']}-bit {'signed' if report['signed'] else 'unsigned'} weights, "
            f"shape {shape} (row-major).\n"
            f" * Code layout: {report['layout']}.\n"
            f" * {report['changed']} of {report['count']} weights rounded; max |error| "
            f"{report['max_abs_error']}.\n */\n"
            f"#ifndef ACTC_{upper}_H\n#define ACTC_{upper}_H\n\n#include <stdint.h>\n\n"
            f"#define {upper}_COUNT {report['count']}\n{dims}"
            f"#define {upper}_BITS_PER_WEIGHT {report['bits_per_weight']}\n\n"
            f"static const {ctype} {name}[{len(flat)}] = {{\n{body}\n}};\n\n"
            f"#endif /* ACTC_{upper}_H */\n")
