"""Design-space sweeps and automatic choice, on Dask distributed.

``actc sweep SPEC.toml -o DIR`` compiles every point of a spec (spec.py), measures it (error
always; Yosys cost and network accuracy as the spec asks) on a Dask cluster (engine.py),
keeps every design's files under ``DIR/designs/<key>/``, and writes the table, Pareto plots
and a summary (results.py). ``actc pick`` chooses from a finished sweep; ``actc compile EXPR
--max-error-lsb E`` runs a small sweep across methods and compiles the best (choose.py).

    >>> import actc.sweep
    >>> sorted(actc.sweep.MINIMIZE)
    ['depth', 'luts', 'memory']
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ActcError, OutputError
from ..fileio import write_files
from ..limits import MAX_POINTS
from .spec import SpecError

__all__ = ["MINIMIZE", "SweepResult", "pick", "sweep"]

MINIMIZE = {"luts": "luts", "memory": "memory_bits", "depth": "depth"}


@dataclass(frozen=True, eq=False)
class SweepResult:
    directory: Path
    table: Any  # pandas DataFrame, one row per point, in spec order (no wall-clock figures)
    computed: int  # points run now (the others were finished before)
    timing: Any = None  # pandas DataFrame: each point's seconds (fit, cost, network)


def sweep(spec_path: str | Path, directory: str | Path, *, scheduler: str | None = None,
          workers: int | None = None, progress: bool = True,
          max_points: int = MAX_POINTS) -> SweepResult:
    """Run (or resume) a sweep: see the module docstring. The spec is checked whole (and
    its points counted: at most ``max_points``) before anything is written."""
    from ..limits import ram_budget_gb
    from .engine import client, finished_rows, run_points
    from .results import timing, write_outputs
    from .spec import MAX_SPEC_BYTES, parse_spec

    path = Path(spec_path)
    try:
        if path.stat().st_size > MAX_SPEC_BYTES:
            raise SpecError(f"sweep spec {str(path)!r} is {path.stat().st_size} bytes: specs "
                            f"take at most {MAX_SPEC_BYTES}")
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ActcError(f"cannot read sweep spec {str(path)!r}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise SpecError(f"sweep spec {str(path)!r} is not UTF-8 text") from None
    spec = parse_spec(text, repr(str(path)), max_points)
    out = Path(directory)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{str(out)!r} is not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {str(out)!r}: {exc.strerror}") from None
    done = finished_rows(out)
    todo = [(i, p) for i, p in enumerate(spec.points) if p.key not in done]
    rows = {k: v for k, v in done.items() if k in {p.key for p in spec.points}}
    if todo:
        log = (out / "results.jsonl").open("a", encoding="utf-8")

        def keep(row: dict, files: dict[str, str]) -> None:
            if files:
                write_files(out / "designs" / row["key"], files)
            log.write(json.dumps(row, sort_keys=True) + "\n")
            log.flush()
            rows[row["key"]] = row

        try:
            with client(scheduler, workers) as dask:
                run_points([p for _, p in todo], [i for i, _ in todo], dask, keep,
                           "sweep" if progress else "", point_timeout_s=spec.timeout_s,
                           ram_gb=ram_budget_gb())
        finally:
            log.close()
    for i, p in enumerate(spec.points):  # the spec's order defines the table's
        rows[p.key]["index"] = i
    ordered = [rows[p.key] for p in spec.points]
    table = write_outputs(out, ordered, spec.name)
    return SweepResult(out, table, len(todo), timing(ordered))


def pick(directory: str | Path, max_error_lsb: float, minimize: str = "luts",
         expression: str | None = None) -> list[dict]:
    """From a finished sweep's activation points, per (expression, input format, output
    format): the row with
    the least ``minimize`` among the designs within ``max_error_lsb`` (ties: the smaller
    error, then the earlier point). A group where none qualifies gives a row with
    ``status`` "none" and the best error reached; ActcError when no group has a design."""
    import pandas as pd

    if minimize not in MINIMIZE:
        raise ActcError(f"--minimize {minimize!r}: choose {', '.join(MINIMIZE)}")
    path = Path(directory) / "results.parquet"
    if not path.is_file():
        raise ActcError(f"{str(directory)!r} holds no finished sweep (no results.parquet)")
    try:
        df = pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises many kinds for a damaged file
        raise ActcError(f"{str(path)!r} is damaged: not a readable Parquet table") from exc
    from .point import COLUMNS

    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ActcError(f"{str(path)!r} is not an actc sweep table: no column "
                        f"{missing[0]!r}")
    for c in ("index", "max_lsb", *MINIMIZE.values()):
        if not (pd.api.types.is_numeric_dtype(df[c]) or df[c].isna().all()):
            raise ActcError(f"{str(path)!r} is damaged: column {c!r} is not numeric")
    df = df[df["kind"] == "activation"]  # an error bound in output LSBs: activations only
    if df.empty:
        raise ActcError(f"the sweep in {str(directory)!r} has no activation point to pick")
    if expression is not None:
        df = df[df["expression"] == expression]
        if df.empty:
            raise ActcError(f"the sweep in {str(directory)!r} has no point for {expression!r}")
    col = MINIMIZE[minimize]
    ok = df[df["status"] == "ok"]
    if ok.empty:
        raise ActcError(f"the sweep in {str(directory)!r} has no successful point")
    if ok[col].isna().all():
        raise ActcError(f"the sweep in {str(directory)!r} has no {col} figures: run it with "
                        'evaluations = ["cost"]')
    picks = []
    for _, grp in ok.groupby(["expression", "in_format", "out_format"], sort=False):
        fit = grp[(grp["max_lsb"] <= max_error_lsb) & grp[col].notna()]
        if fit.empty:
            best = grp.sort_values(["max_lsb", "index"]).iloc[0]
            picks.append({**_plain(best), "status": "none"})
        else:
            picks.append(_plain(fit.sort_values([col, "max_lsb", "index"]).iloc[0]))
    if all(p["status"] == "none" for p in picks):
        best = min(picks, key=lambda p: p["max_lsb"])
        raise ActcError(f"no design in the sweep meets --max-error-lsb {max_error_lsb:g}: the "
                        f"best reached {best['max_lsb']:.4g} LSB ({best['expression']} "
                        f"{best['method']} {best['options']}, {best['in_format']} -> "
                        f"{best['out_format']})")
    return picks


def _plain(row: Any) -> dict:
    return {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
