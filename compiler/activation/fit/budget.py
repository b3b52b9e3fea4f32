"""The memory-aware search: the most accurate table structure within a memory budget.

A budget is ROM bits (every table at its minimal width, ``unit.stored_width``) or bytes of
byte-addressed memory (every table in the narrowest 1-, 2-, 4- or 8-byte words,
``unit.word_bytes``: what C and other software targets store). The structures:

- ``knots``: hierarchical chord tables (``KnotCore``), for every region width r = 0..6,
  multiply or shift addressing (any segment count per region, or powers of two), and knot
  fractions Fy = 0..3 (with a byte budget, also knots one bit narrower than they need,
  clamped, where that saves a byte a knot). Each variant's segment counts come from the
  error estimate (fit/knots.py, ``allocate``); the best ``KNOT_FITS`` estimates are fitted.
- ``searched``: X/Y/DY/P tables (SegmentCore with a P_LUT-guided search) with the given
  placement (gradient error or optimal), breakpoints on the coarsest grid of 2^g codes that
  leaves every segment at least 8 grid steps long; as many segments as fit.
- ``uniform``: the interpolated uniform table with the most entries (a power of two) that fit.

Every candidate is fitted in its integer datapath and measured on every input code of the
domain (saturation and fold included). ``max`` keeps the least max error, ``mse`` the least
RMS; ``both`` fits again with ``both`` the candidates whose max error is within
``BOTH_SLACK`` (5 %) of the best and keeps the least mean error among those within the bound.
The record (``SearchRecord.to_json``) lists every fitted candidate and the winner.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ...errors import FitError
from ..domain import FitDomain
from ..ir import ActivationUnit, KnotCore, SegmentCore
from .knots import Regions, allocate, fit_knots
from .placement import Points
from .segments import MAX_SEGMENTS, WIDTH_TOLERANCE, build_core, core_error, line_segments

__all__ = ["BOTH_SLACK", "Budget", "Candidate", "SearchRecord", "search"]

BOTH_SLACK = 0.05  # objective both: max error within 5 % of the best max error
KNOT_FITS = 3  # knot variants fitted for real (the best by the estimate)
MAX_REGION_BITS = 6


@dataclass(frozen=True)
class Budget:
    """A budget: ``bits`` of ROM, ``bytes`` of byte-addressed tables, or a number of
    ``segments`` (``--entries``)."""

    bits: int | None = None
    bytes: int | None = None
    segments: int | None = None

    @property
    def limit(self) -> int:
        for v in (self.bits, self.bytes, self.segments):
            if v is not None:
                return int(v)
        raise ValueError("an empty budget")

    @property
    def unit(self) -> str:
        return "bits" if self.bits is not None else "bytes" if self.bytes is not None \
            else "segments"

    def cost(self, core: Any) -> int:
        if self.bits is not None:
            return int(core.memory_bits())
        if self.bytes is not None:
            return int(core.memory_bytes())
        return int(core.segments)

    def fits(self, core: Any) -> bool:
        return self.cost(core) <= self.limit

    def flag(self) -> str:
        return "--entries " + str(self.limit) if self.segments is not None else \
            f"--memory-{self.unit} {self.limit}"


@dataclass(frozen=True)
class Candidate:
    structure: str
    core: Any
    memory: int
    max_lsb: float
    mean_lsb: float
    rms_lsb: float

    def to_json(self) -> dict:
        return {"structure": self.structure, "summary": self.core.summary(),
                "parameters": self.core.parameters(), "memory": self.memory,
                "max_lsb": self.max_lsb, "mean_lsb": self.mean_lsb, "rms_lsb": self.rms_lsb}


@dataclass(frozen=True)
class SearchRecord:
    """What the search tried and what won."""

    budget: Budget
    objective: str
    candidates: list[Candidate]
    winner: int
    seconds: float  # wall-clock: printed, never in the manifest (outputs are reproducible)

    @property
    def core(self) -> Any:
        return self.candidates[self.winner].core

    def to_json(self) -> dict:
        return {"budget": {self.budget.unit: self.budget.limit}, "objective": self.objective,
                "winner": self.winner, "structure": self.candidates[self.winner].structure,
                "candidates": [c.to_json() for c in self.candidates]}


def measure_core(domain: FitDomain, core: Any) -> tuple[float, float, float]:
    """(max, mean, RMS) error in output LSBs of a core on every code of the domain, fold and
    saturation included, against the true function."""
    from ..evaluate import evaluate

    unit = ActivationUnit("search", domain.in_format, domain.out_format, core, fold=domain.fold)
    fo = domain.out_format
    y = evaluate(unit, domain.codes)
    err = np.abs(fo.real(y) - domain.values) / fo.lsb(domain.values)
    return float(err.max()), float(err.mean()), float(np.sqrt(np.mean(err * err)))


def _candidate(domain: FitDomain, budget: Budget, structure: str, core: Any) -> Candidate:
    mx, mean, rms = measure_core(domain, core)
    return Candidate(structure, core, budget.cost(core), mx, mean, rms)


# --- knots ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class _KnotPlan:
    r: int
    counts: list[int]
    value_frac: int
    knot_bits: int | None
    predicted: float


def _knot_window(domain: FitDomain, value_frac: int, knot_bits: int | None) -> tuple[int, int]:
    """The knot values a fit will store, from the targets' range."""
    s = 2.0**value_frac
    lo = int(np.floor(float(domain.ideal.min()) * s))
    hi = int(np.ceil(float(domain.ideal.max()) * s))
    if knot_bits is not None:
        hi = min(hi, lo + (1 << knot_bits) - 1)
    return lo, hi


def _knot_fits(domain: FitDomain, budget: Budget, r: int, value_frac: int,
               knot_bits: int | None) -> Callable[[list[int]], bool]:
    lo, hi = _knot_window(domain, value_frac, knot_bits)

    def fits(counts: list[int]) -> bool:
        n = sum(counts) + 1
        if n - 1 > MAX_SEGMENTS:
            return False
        knots = (lo, hi) + (lo,) * (n - 2)
        return budget.fits(KnotCore(domain.bits, r, tuple(counts), knots, value_frac))

    return fits


def knot_plans(domain: FitDomain, budget: Budget, pow2_only: bool = False,
               region_bits: int | None = None) -> list[_KnotPlan]:
    """Every knot variant that fits, with its segment counts and estimated max error."""
    plans = []
    rs = range(0, min(MAX_REGION_BITS, domain.bits - 1) + 1) if region_bits is None else \
        [region_bits]
    for r in rs:
        regions = Regions.of(domain, r)
        for pow2 in (True,) if pow2_only else (False, True):
            if r == 0 and pow2 and not pow2_only:
                continue  # one region: any count includes the powers of two
            for fy in range(4):
                caps: list[int | None] = [None]
                if budget.bytes is not None:
                    lo, hi = _knot_window(domain, fy, None)
                    need = int(hi - lo).bit_length()
                    if need % 8 == 1 and need > 1:
                        caps.append(need - 1)
                for cap in caps:
                    counts = allocate(regions, _knot_fits(domain, budget, r, fy, cap), pow2,
                                      MAX_SEGMENTS)
                    if counts is None:
                        continue
                    est = regions.estimate(counts) + 2.0 ** -(fy + 1)
                    if cap is not None:
                        est += 0.25  # clamping costs something at the top of the range
                    plans.append(_KnotPlan(r, counts, fy, cap, est))
    return plans


def _knot_candidates(domain: FitDomain, budget: Budget, objective: str,
                     pow2_only: bool = False, region_bits: int | None = None) -> list[Candidate]:
    if budget.segments is not None:  # the value fraction costs no segments: fit Fy = 3,
        plans = [p for p in knot_plans(domain, budget, pow2_only, region_bits)  # then narrow
                 if p.value_frac == 3]
    else:
        plans = knot_plans(domain, budget, pow2_only, region_bits)
    plans.sort(key=lambda p: p.predicted)
    out: list[Candidate] = []
    fit_objective = "mse" if objective == "mse" else "max"
    seen = set()
    for plan in plans:
        if len(out) >= KNOT_FITS:
            break
        key = (plan.r, tuple(plan.counts), plan.value_frac, plan.knot_bits)
        if key in seen:
            continue
        seen.add(key)
        counts = list(plan.counts)
        for _ in range(4):  # a fit wider than planned: one segment fewer, and again
            core = fit_knots(domain, plan.r, counts, plan.value_frac, fit_objective,
                             knot_bits=plan.knot_bits).core
            if budget.fits(core):
                if budget.segments is not None:
                    core = _narrow_knots(domain, core, fit_objective)
                out.append(_candidate(domain, budget, "knots", core))
                break
            j = int(np.argmax(counts))
            if counts[j] == 1:
                break
            counts[j] = counts[j] // 2 if pow2_only else counts[j] - 1
    return out


def _narrow_knots(domain: FitDomain, core: KnotCore, objective: str) -> KnotCore:
    """The narrowest knot fraction whose error is within WIDTH_TOLERANCE of this core's."""
    limit = core_error(domain, core, objective) * (1 + WIDTH_TOLERANCE) + 1e-9
    for fy in range(core.value_frac):
        trial = fit_knots(domain, core.region_bits, list(core.counts), fy, objective).core
        if core_error(domain, trial, objective) <= limit:
            return trial
    return core


# --- searched X/Y/DY/P tables and uniform tables ----------------------------------------------

def _grid(starts: np.ndarray, bits: int) -> int:
    """The coarsest grid (2^g codes) that keeps every segment at least 8 grid steps long."""
    shortest = int(np.diff(np.append(starts, 1 << bits)).min())
    g = max(0, (shortest // 8).bit_length() - 1)
    return min(g, max(0, bits - 4))


def _searched_core(domain: FitDomain, place: Callable[[Points, int], list[int]],
                   points: Points, k: int, objective: str, steps: int) -> SegmentCore:
    starts = points.u[np.array(place(points, k))]
    g = _grid(starts, domain.bits)
    if g:
        snapped = np.unique(((starts + (1 << (g - 1))) >> g) << g)
        starts = snapped[snapped < 1 << domain.bits]
    return build_core(domain, starts, objective, steps, x_shift=g)


def _searched_candidate(domain: FitDomain, budget: Budget, place, objective: str,
                        steps: int, label: str) -> Candidate | None:
    points = Points.from_samples(domain.core_inputs, domain.ideal, bits=domain.bits)
    n = min(len(points), MAX_SEGMENTS)
    fit_objective = "mse" if objective == "mse" else "max"

    def make(k: int) -> SegmentCore:
        return _searched_core(domain, place, points, k, fit_objective, steps)

    # the cost of a segment (X, Y, DY) and of the P_LUT, from a first fit
    k = int(min(n, max(2, budget.limit // 64)))
    core = make(k)
    fixed = budget.cost(replace(core, values=(0,), slopes=(0,), breakpoints=(0,),
                                p_lut=core.p_lut))
    per = max(1.0, (budget.cost(core) - fixed) / k)
    best = core if budget.fits(core) else None
    over = None if best is not None else k  # the fewest segments known not to fit
    for _ in range(6):  # a jump by the estimated cost of a segment, then bisection
        if best is not None and over is not None:
            if over - best.segments <= 1:
                break
            k = (best.segments + over) // 2
        elif best is not None:
            k = best.segments + max(1, int((budget.limit - budget.cost(best)) // per))
        else:
            k = int((budget.limit - fixed) // per)
        k = int(min(n, max(2, k)))
        if (best is not None and k <= best.segments) or (over is not None and k >= over):
            break
        core = make(k)
        if budget.fits(core):
            best = core
        else:
            over = k
            per = max(per, (budget.cost(core) - fixed) / k)
    if best is None:
        core = make(2)
        if not budget.fits(core):
            return None
        best = core
    return _candidate(domain, budget, label, best)


def _uniform_candidate(domain: FitDomain, budget: Budget, objective: str) -> Candidate | None:
    fit_objective = "mse" if objective == "mse" else "max"

    def make(k: int) -> SegmentCore:
        shift = domain.bits - k
        starts = np.arange(1 << k, dtype=np.int64) << shift
        return line_segments(domain, starts, 1 << shift, fit_objective, index_shift=shift)

    top = min(domain.bits, 12)
    k = max(1, min(top, int(np.log2(max(2.0, budget.limit / (2 * domain.out_format.bits))))))
    core = make(k)
    if budget.fits(core):  # upwards while the doubled table fits
        while k < top:
            bigger = make(k + 1)
            if not budget.fits(bigger):
                break
            core, k = bigger, k + 1
    else:  # downwards until it fits
        while k > 1 and not budget.fits(core):
            k -= 1
            core = make(k)
        if not budget.fits(core):
            return None
    return _candidate(domain, budget, "uniform", core)


# --- the search ---------------------------------------------------------------------------------

STRUCTURES = ("knots", "knots_pow2", "searched", "uniform")


def search(domain: FitDomain, budget: Budget, objective: str, structures: tuple[str, ...],
           placements: dict[str, Callable[[Points, int], list[int]]], steps: int,
           method: str, region_bits: int | None = None) -> SearchRecord:
    """The best candidate of ``structures`` within the budget (module docstring).
    ``placements``: label -> breakpoint rule for the searched tables; ``region_bits``: the
    knot tables' region width (default: every width up to 6)."""
    t0 = time.perf_counter()
    cands: list[Candidate] = []
    if "knots" in structures:
        cands += _knot_candidates(domain, budget, objective, region_bits=region_bits)
    elif "knots_pow2" in structures:
        cands += _knot_candidates(domain, budget, objective, True, region_bits)
    if "searched" in structures:
        for label, place in placements.items():
            c = _searched_candidate(domain, budget, place, objective, steps, label)
            if c is not None:
                cands.append(c)
    if "uniform" in structures:
        c = _uniform_candidate(domain, budget, objective)
        if c is not None:
            cands.append(c)
    if not cands:
        raise FitError(f"{budget.flag()} is too small for any {method} structure on "
                       f"{domain.in_format.text}")
    if objective == "mse":
        win = min(range(len(cands)), key=lambda i: (cands[i].rms_lsb, cands[i].memory))
    else:
        win = min(range(len(cands)), key=lambda i: (cands[i].max_lsb, cands[i].memory))
    if objective == "both":
        bound = cands[win].max_lsb * (1 + BOTH_SLACK)
        refits = [_refit_both(domain, budget, c, bound, steps) for c in cands
                  if c.max_lsb <= bound]
        cands += [c for c in refits if c is not None]
        ok = [i for i in range(len(cands)) if cands[i].max_lsb <= bound]
        win = min(ok, key=lambda i: (cands[i].mean_lsb, cands[i].memory))
    return SearchRecord(budget, objective, cands, win, time.perf_counter() - t0)


def _refit_both(domain: FitDomain, budget: Budget, c: Candidate, bound: float,
                steps: int) -> Candidate | None:
    """A candidate's structure fitted for the least mean error within the bound."""
    core = c.core
    if isinstance(core, KnotCore):
        new: Any = fit_knots(domain, core.region_bits, list(core.counts), core.value_frac,
                             "both", bound=bound).core
    elif isinstance(core, SegmentCore) and core.slopes is not None:
        starts = np.asarray(core.starts(), dtype=np.int64)
        if core.uniform:
            new = line_segments(domain, starts, 1 << core.index_shift, "both", bound=bound,
                                index_shift=core.index_shift)
        else:
            new = build_core(domain, starts, "both", steps, x_shift=core.x_shift, bound=bound)
    else:  # pragma: no cover - the search builds only these
        return None
    if not budget.fits(new):
        return None
    return _candidate(domain, budget, c.structure + " (both)", new)
