"""A finished sweep's outputs: the table (Parquet and CSV), a Pareto plot per group (an
activation's expression, the multipliers of one width, the converters of one crossbar: its
headline error against LUTs and against memory bits) and a Markdown summary. Rows are in the
order of the spec's points, whatever the order they finished in, so the outputs do not depend on the
number of workers; wall-clock seconds go to timing.csv (a log), never into the table."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from ..fileio import write_files
from .point import COLUMNS, ERROR_LABEL, TIMING_COLUMNS

__all__ = ["TIMING_COLUMNS", "pareto", "plot_names", "table", "timing", "write_outputs"]


def table(rows: list[dict]) -> Any:
    """The rows as a pandas DataFrame, in point order, with every column."""
    import pandas as pd

    df = pd.DataFrame(sorted(rows, key=lambda r: r["index"]), columns=list(COLUMNS))
    return df.reset_index(drop=True)


def timing(rows: list[dict]) -> Any:
    """Each point's wall-clock seconds (fit, cost, network), in point order: the log."""
    import pandas as pd

    cols = ["key", "index", *TIMING_COLUMNS]
    df = pd.DataFrame([{c: r.get(c) for c in cols} for r in sorted(rows, key=lambda r: r["index"])],
                      columns=cols)
    return df.reset_index(drop=True)


def pareto(df: Any, cost: str, error: str = "error") -> Any:
    """The rows no other row beats on both ``cost`` and ``error`` (lower is better), among
    the successful rows with both figures; sorted by cost."""
    ok = df[(df["status"] == "ok") & df[cost].notna() & df[error].notna()]
    ok = ok.sort_values([cost, error, "index"])
    keep, best = [], float("inf")
    for i, r in ok.iterrows():
        if r[error] < best:
            keep.append(i)
            best = r[error]
    return ok.loc[keep]


def _axes(sub: Any) -> list[str]:
    """The cost columns a group has figures for (memory bits only where some design has
    memory: multipliers and back ends have none)."""
    return [c for c in ("luts", "memory_bits") if (sub[c].fillna(0) > 0).any()]


def _plot(df: Any, group: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sub = df[(df["group"] == group) & (df["status"] == "ok")]
    kind = str(sub["kind"].iloc[0])
    axes_for = _axes(sub)
    fig, axes = plt.subplots(1, len(axes_for), figsize=(6 * len(axes_for), 4.5), squeeze=False)
    label = "method" if kind == "activation" else "expression"
    for ax, cost in zip(axes[0], axes_for):
        for name, grp in sub.groupby(label):
            ax.scatter(grp[cost], grp["error"], s=14, label=name, alpha=0.7)
        front = pareto(sub, cost)
        ax.step(front[cost], front["error"], where="post", color="black", lw=1,
                label="Pareto front")
        ax.set_xscale("symlog" if (sub[cost].fillna(1) <= 0).any() else "log")
        if (sub["error"] > 0).all():
            ax.set_yscale("log")
        ax.set_xlabel("LUTs (Yosys)" if cost == "luts" else "memory bits")
        ax.set_ylabel(ERROR_LABEL[kind])
        ax.set_title(f"{group}: error against {cost.replace('_', ' ')}")
        ax.legend(fontsize=7)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def plot_names(df: Any) -> dict[str, str]:
    """{group: its Pareto plot's file name}: the group's text with every character but ASCII
    letters and digits made ``_``, at most 60 of them, made unique by a counter."""
    names: dict[str, str] = {}
    for group in dict.fromkeys(df["group"]):
        slug = "".join(c if c.isascii() and c.isalnum() else "_" for c in group).strip("_")
        base = f"pareto_{slug[:60]}"
        name, k = f"{base}.png", 2
        while name in names.values():
            name, k = f"{base}_{k}.png", k + 1
        names[group] = name
    return names


def summary_text(df: Any, name: str) -> str:
    """The Markdown summary: counts, then each group's Pareto designs."""
    lines = [f"# Sweep {name}", ""]
    ok = int((df["status"] == "ok").sum())
    lines.append(f"{len(df)} points: {ok} ok, {len(df) - ok} failed.")
    lines.append("")
    columns = {"activation": ["method", "options", "in_format", "out_format", "max_lsb",
                              "mean_lsb", "memory_bits", "luts", "depth", "name"],
               "mac": ["expression", "options", "mre_percent", "mae_percent", "wce_percent",
                       "ep_percent", "luts", "depth", "name"],
               "adc": ["expression", "options", "rms_rel", "sqnr_db", "luts", "ffs", "depth",
                       "name"]}
    for group in dict.fromkeys(df["group"]):
        sub = df[df["group"] == group]
        cols = columns[str(sub["kind"].iloc[0])] + (
            ["network_accuracy"] if sub["network_accuracy"].notna().any() else [])
        good = sub[sub["status"] == "ok"]
        label = ERROR_LABEL[str(sub["kind"].iloc[0])]
        lines += [f"## {group}", ""]
        if _axes(good):
            lines += [f"![Pareto plot]({plot_names(df)[group]})", ""]
        fronts = [(f"Pareto front, {label} against {cost}:", pareto(sub, cost))
                  for cost in _axes(good)]
        if not fronts:  # no cost figures: every design, by error
            fronts = [(f"Designs by {label}:", good.sort_values(["error", "index"]))]
        for title, front in fronts:
            if front.empty:
                continue
            lines += [title, "", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
            for _, r in front.iterrows():
                cells = [_cell(r[c]) for c in cols]
                lines.append("| " + " | ".join(cells) + " |")
            lines.append("")
    failed = df[df["status"] == "failed"]
    if len(failed):
        lines += ["## Failed points", ""]
        for _, r in failed.iterrows():
            lines.append(f"- {r['expression']} {r['method']} {r['options']}: "
                         f"{r['error_message']}")
        lines.append("")
    return "\n".join(lines)


def _cell(v: Any) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return ""
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v).replace("|", "\\|")


def write_outputs(directory: Path, rows: list[dict], name: str) -> Any:
    """results.parquet, results.csv, pareto_<group>.png, summary.md and timing.csv, written
    together (all or nothing); returns the table."""
    df = table(rows)
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    files: dict[str, str | bytes] = {
        "results.parquet": buf.getvalue(), "results.csv": df.to_csv(index=False),
        "summary.md": summary_text(df, name),
        "timing.csv": timing(rows).to_csv(index=False)}
    for group, plot in plot_names(df).items():
        if _axes(df[(df["group"] == group) & (df["status"] == "ok")]):
            files[plot] = _plot(df, group)
    write_files(directory, files)
    return df
