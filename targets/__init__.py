"""Targets: one package per output language, one registry keyed by the CLI name."""

from __future__ import annotations

from .base import EmitInfo, Target
from .c import CTarget
from .hls import HlsTarget
from .python import PythonTarget
from .verilog import VerilogTarget

__all__ = ["TARGETS", "EmitInfo", "Target"]

TARGETS: dict[str, Target] = {t.name: t for t in (VerilogTarget(), CTarget(), PythonTarget(),
                                                 HlsTarget())}
