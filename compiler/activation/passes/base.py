"""What every pass is: a frozen dataclass with a CLI ``name``, typed options declared once (the
CLI flags are generated from them), the IR cores it builds, and ``run``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar

from ...errors import FitError
from ...options import option
from ..domain import FitDomain
from ..fit.budget import Budget, SearchRecord, search
from ..fit.placement import Points
from ..fit.segments import DEFAULT_STEPS, fit_budget
from ..ir import FloatSegmentCore, KnotCore, SegmentCore

__all__ = ["OBJECTIVES", "Pass", "SearchTablePass", "budget_of", "memory_bytes_option",
           "objective_option", "symmetry_option"]

OBJECTIVES = ("max", "mse", "both")


def symmetry_option() -> Any:
    """The ``symmetry`` option of the passes that fold."""
    return option("auto", "fold a symmetry found in the function (auto: where exact; on: "
                  "required; off: never)", choices=("auto", "on", "off"))


def objective_option() -> Any:
    """The ``objective`` option of the table fits."""
    return option("max", "minimise the maximum error (default), the mean squared error, or "
                  "both: the least mean error with a max error within 5 % of the best",
                  choices=OBJECTIVES)


def memory_bytes_option() -> Any:
    """The ``memory_bytes`` option: a budget in bytes of byte-addressed tables."""
    return option(None, "the most accurate structure whose tables fit in B bytes, each table "
                  "in the narrowest 1/2/4/8-byte words (what C stores)", metavar="B")


def check_objective(objective: str) -> None:
    if objective not in OBJECTIVES:
        raise FitError(f"--objective {objective!r}: choose max, mse or both")


def budget_of(domain: FitDomain, memory_bits: int | None, memory_bytes: int | None,
              entries: int | None = None) -> Budget | None:
    """The memory budget the options give (None: none), checked against a full table."""
    given = [k for k, v in (("--entries", entries), ("--memory-bits", memory_bits),
                            ("--memory-bytes", memory_bytes)) if v is not None]
    if len(given) > 1:
        raise FitError(f"give {given[0]} or {given[1]}, not both" if len(given) == 2 else
                       "give one of --entries, --memory-bits and --memory-bytes")
    if memory_bits is None and memory_bytes is None:
        return None
    fi, fo = domain.in_format, domain.out_format
    if memory_bits is not None:
        full = (1 << fi.bits) * fo.bits
        if memory_bits >= full:
            raise FitError(f"--memory-bits {memory_bits} is at least a full table "
                           f"({1 << fi.bits} x {fo.bits} = {full} bits): use --method table")
        return Budget(bits=memory_bits)
    assert memory_bytes is not None
    width = next(b for b in (1, 2, 4, 8) if fo.bits <= 8 * b)
    full = (1 << fi.bits) * width
    if memory_bytes >= full:
        raise FitError(f"--memory-bytes {memory_bytes} is at least a full table "
                       f"({1 << fi.bits} x {width} bytes = {full}): use --method table")
    return Budget(bytes=memory_bytes)


def unwrap(result: Any) -> tuple[Any, dict | None]:
    """A pass's core, and the record of its memory-aware search if it ran one."""
    if isinstance(result, SearchRecord):
        return result.core, result.to_json()
    return result, None


@dataclass(frozen=True)
class Pass:
    """``symmetric`` passes fit a domain that may be folded by a symmetry (and have a
    ``symmetry`` option: auto, on, off); others fit the unfolded domain. ``exact_fold``
    passes (tables) need the fold to reproduce correctly rounded codes exactly. ``floats``
    passes take float input formats. ``cores``: the IR cores ``run`` can return."""

    name: ClassVar[str]
    cores: ClassVar[tuple[type, ...]]
    symmetric: ClassVar[bool] = False
    exact_fold: ClassVar[bool] = False
    floats: ClassVar[bool] = False

    def run(self, domain: FitDomain) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def parameters(self) -> dict:
        return asdict(self)

    @classmethod
    def from_options(cls, **options: Any) -> Pass:
        """Build from CLI options; an option this method does not take is an error."""
        known = {f.name for f in fields(cls)}
        for key in options:
            if key not in known:
                flag = "--" + key.replace("_", "-")
                raise FitError(f"{flag} does not apply to --method {cls.name}")
        return cls(**options)


@dataclass(frozen=True)
class SearchTablePass(Pass):
    """The X/Y/DY/P structure (segment starts, values, slopes, and a P_LUT that starts a short
    search), shared by ``geba`` and ``optimal``, which differ in ``placement``. With a memory
    budget on a fixed-point input the pass searches the ``structures`` it names
    (fit/budget.py) and returns the most accurate within the budget."""

    cores: ClassVar[tuple[type, ...]] = (SegmentCore, KnotCore, FloatSegmentCore)
    symmetric: ClassVar[bool] = True
    floats: ClassVar[bool] = True

    entries: int | None = option(None, "segments (default 32)", metavar="N")
    memory_bits: int | None = option(None, "the most accurate structure whose tables fit in B "
                                     "bits (each table at its minimal width)", metavar="B")
    memory_bytes: int | None = memory_bytes_option()
    objective: str = objective_option()
    search_steps: int = option(DEFAULT_STEPS, "comparisons after the P_LUT lookup (default 2)",
                               metavar="K")
    symmetry: str = symmetry_option()

    def placement(self) -> Callable[[Points, int], list[int]]:  # pragma: no cover - interface
        """The breakpoint rule: (points, segments) -> start indices."""
        raise NotImplementedError

    def placements(self) -> dict[str, Callable[[Points, int], list[int]]]:
        """The searched structure's breakpoint rules in a memory-aware search, by label."""
        return {"searched": self.placement()}

    def structures(self) -> tuple[str, ...]:
        """What a memory-aware search of this method tries (fit/budget.py STRUCTURES)."""
        return ("searched",)

    def run(self, domain: FitDomain) -> Any:
        check_objective(self.objective)
        if self.search_steps < 1:
            raise FitError(f"--search-steps {self.search_steps} must be 1 or more")
        budget = budget_of(domain, self.memory_bits, self.memory_bytes, self.entries)
        if domain.in_format.is_float:
            if self.objective == "both":
                raise FitError("--objective both takes fixed-point inputs; use max or mse")
            if self.memory_bytes is not None:
                raise FitError("--memory-bytes takes fixed-point inputs; use --memory-bits")
        elif budget is not None:
            return search(domain, budget, self.objective, self.structures(),
                          self.placements(), self.search_steps, self.name)
        return fit_budget(domain, self.placement(), self.objective, self.search_steps,
                          self.entries, self.memory_bits, self.name)
