"""Python: standalone numpy reference models, checked by importing them."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import numpy as np

from actc.errors import ToolError
from actc.unit import InputSpace, Unit

from ..base import Target, python_reserved
from . import activation, adc, mac

__all__ = ["PythonTarget", "load_module"]

# The reference imports these; a module of the same name would shadow them.
PYTHON_RESERVED = frozenset({"numpy", "np"})


class PythonTarget(Target):
    name: ClassVar[str] = "python"
    title: ClassVar[str] = "Python reference model"
    kinds: ClassVar[dict[str, ModuleType]] = {"activation": activation, "mac": mac, "adc": adc}
    reserved: ClassVar[frozenset[str]] = PYTHON_RESERVED

    def name_problem(self, name: str) -> str | None:
        if python_reserved(name) or name.lower() in self.reserved:
            return f"--name {name!r} is a reserved word in one of the targets: pick another"
        return None

    def run(self, directory: Path, unit: Unit, space: InputSpace,
            options: Any) -> dict[str, np.ndarray]:
        mod = load_module((directory / f"{unit.name}.py").resolve())
        out: dict[str, np.ndarray] = self.kinds[unit.kind].call(mod, unit, space)
        return out


def load_module(path: Path) -> ModuleType:
    """Import an emitted reference module from its file, without touching sys.path."""
    name = f"actc_reference_{path.stem}_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ToolError(f"cannot import {path}")
    mod = importlib.util.module_from_spec(spec)
    sys.modules.pop(name, None)
    spec.loader.exec_module(mod)
    return mod
