"""PyTorch layers (the optional ``torch`` extra): in-memory-computing layers that run their
matmul through the ``actc.adc`` crossbar model. Imported on first use, so ``import actc``
never loads torch."""

from __future__ import annotations

from typing import Any

__all__ = ["IMCConv2d", "IMCLinear", "imc_layers", "set_samples", "to_imc"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import imc

        return getattr(imc, name)
    raise AttributeError(f"module 'actc.nn' has no attribute {name!r}")
