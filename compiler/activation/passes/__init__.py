"""Methods: one module per method, one registry keyed by the CLI name."""

from __future__ import annotations

from .auto import AutoPass
from .base import Pass
from .geba import GebaPass
from .grau import GrauPass
from .knots import KnotsPass
from .optimal import OptimalPass
from .table import TablePass
from .threshold import ThresholdPass
from .uniform import UniformPass

__all__ = ["METHODS", "Pass"]

METHODS: dict[str, type[Pass]] = {
    p.name: p for p in (TablePass, UniformPass, GebaPass, OptimalPass, KnotsPass, AutoPass,
                        GrauPass, ThresholdPass)
}
