"""actc: an activation-approximation compiler.

>>> import actc
>>> r = actc.compile("tanh(x)", bits=8, target="python", method="uniform", entries=64)
>>> r.manifest["memory_bits"]
448

Heavy dependencies load on first use, so ``actc --help`` stays fast.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__", "compile", "build", "verify", "NumberFormat", "ActcError"]

from .errors import ActcError


def __getattr__(name: str):
    if name in ("compile", "build"):
        from . import api

        return getattr(api, name)
    if name == "verify":
        from .verification import verify

        return verify
    if name == "NumberFormat":
        from .formats import NumberFormat

        return NumberFormat
    raise AttributeError(f"module 'actc' has no attribute {name!r}")
