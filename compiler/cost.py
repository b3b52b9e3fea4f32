"""``actc cost``: hardware cost measured, not estimated. The Verilog module a manifest lists is
synthesised by Yosys (with ABC) for an FPGA family, and the figures are written back into the
manifest under ``cost.<family>``.

Families and their Yosys scripts (``{top}`` is the module name)::

    xilinx  read_verilog NAME.v; synth_xilinx -family xcup -top {top} -flatten -nobram
            -noiopad -noclkbuf -nodsp; ltp -noff t:FD* %n; stat -json
    ice40   read_verilog NAME.v; synth_ice40 -top {top} -nobram; ltp -noff t:SB_DFF* %n;
            stat -json

Multipliers are built from LUTs (``-nodsp``; iCE40 uses no DSP unless ``-dsp``), so an
approximate multiplier's savings show; ``dsp=True`` (``actc cost --dsp``) drops ``-nodsp``
on Xilinx and adds ``-dsp`` on iCE40, and the DSP blocks used count under ``dsp``.

``xilinx`` is UltraScale+ (LUT6, CARRY8; the GRAU paper's Ultra96-V2 is a Zynq UltraScale+
part); ``ice40`` is Lattice iCE40 (LUT4). Block RAM is off, so tables count as LUTs, and no
I/O or clock buffers are inserted, so only the unit itself is counted.

Figures: ``luts`` (LUT1..LUT6 and INV on Xilinx, SB_LUT4 on iCE40), ``ffs`` (every flip-flop
cell), ``carry`` (carry-chain cells), ``muxes`` (MUXF7/F8/F9), ``dsp``, ``bram``, and
``depth``: the cells on the longest path between flip-flops or ports (Yosys ``ltp`` on every
cell but the flip-flops; carry cells included), a logic-level count, not a timing figure.

A MAC unit is shown beside the **exact multiplier of the same configuration** (widths,
signedness, lanes, accumulator, output register), synthesised by the same script: its figures
go under ``cost.<family>.exact``. A multiplier known only by its product table (imported from
C, or read from a .npy table) has Verilog that is that table as a ROM: its figures are the
table's, not the circuit's, and ``cost.<family>.implementation`` says so.

Yosys runs in a :class:`actc.sandbox.Sandbox` (a private directory, its own process group),
killed after ``timeout`` seconds (default ``DEFAULT_TIMEOUT``, per synthesis).
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from .errors import ManifestError, TargetError, ToolError
from .fileio import write_files
from .manifest import dumps, load
from .sandbox import Sandbox

__all__ = ["DEFAULT_TIMEOUT", "FAMILIES", "cost", "cost_text", "figures", "synthesize",
           "yosys_version"]

DEFAULT_TIMEOUT = 600.0  # seconds per synthesis; an 8 x 8 product-table ROM takes about 30

FAMILIES = {
    "xilinx": "synth_xilinx -family xcup -top {top} -flatten -nobram -noiopad -noclkbuf",
    "ice40": "synth_ice40 -top {top} -nobram",
}
# Multipliers stay out of DSP blocks unless asked (--dsp), so that an approximate
# multiplier's savings show in LUTs: each family's option.
_NO_DSP = {"xilinx": " -nodsp", "ice40": ""}
_DSP = {"xilinx": "", "ice40": " -dsp"}
# ltp -noff knows Yosys's own flip-flops, not a family's primitives: leave those out by name
_FLOPS = {"xilinx": "t:FD*", "ice40": "t:SB_DFF*"}

_KINDS = [  # (figure, cell-name pattern), first match wins
    ("luts", r"^(LUT[1-6]|INV|SB_LUT4|SRL16E|SRLC32E)$"),
    ("ffs", r"^(FD[A-Z]*|SB_DFF[A-Z]*)$"),
    ("carry", r"^(CARRY[48]|SB_CARRY)$"),
    ("muxes", r"^MUXF[789]$"),
    ("dsp", r"^(DSP48E[12]|SB_MAC16)$"),
    ("bram", r"^(RAMB\w+|SB_RAM\w+)$"),
]

_INSTALL = ("yosys is not installed: actc cost needs Yosys with ABC (Debian/Ubuntu: "
            "apt-get install yosys; elsewhere the OSS CAD Suite from YosysHQ)")


def _yosys() -> str:
    tool = shutil.which("yosys")
    if tool is None:
        raise ToolError(_INSTALL)
    return tool


def yosys_version() -> str:
    with Sandbox(60.0, prefix="actc-yosys-") as box:
        done = box.run([_yosys(), "-V"])
    if not done.ok:
        raise ToolError(f"yosys -V failed ({done.how()}): {done.first_line()}")
    return done.stdout.strip()


def script(verilog: str, top: str, family: str, dsp: bool = False) -> str:
    """The Yosys script ``actc cost`` runs for a family (see the module docstring)."""
    if family not in FAMILIES:
        raise TargetError(f"unknown family {family!r}: choose from {', '.join(FAMILIES)}, all")
    synth = FAMILIES[family].format(top=top) + (_DSP if dsp else _NO_DSP)[family]
    return (f"read_verilog {verilog}; {synth}; "
            f"tee -q -o ltp.txt ltp -noff {_FLOPS[family]} %n; tee -q -o stat.json stat -json")


def synthesize(verilog: Path, top: str, family: str, dsp: bool = False,
               timeout: float = DEFAULT_TIMEOUT) -> dict:
    """Synthesise one module for one family; the figures as a dict."""
    tool = _yosys()
    text = script("design.v", top, family, dsp)
    with Sandbox(timeout, memory_bytes=None, prefix="actc-yosys-") as box:
        shutil.copyfile(verilog, box.path / "design.v")
        done = box.run([tool, "-q", "-p", text])
        if done.timed_out:
            raise ToolError(f"yosys {done.how()} on {verilog.name} ({family}); --timeout "
                            "raises the limit")
        if not done.ok:
            raise ToolError(f"yosys failed on {verilog.name} ({family}, {done.how()}): "
                            f"{done.first_line({'design.v': verilog.name})}")
        try:
            stat = json.loads((box.path / "stat.json").read_text())
            ltp = (box.path / "ltp.txt").read_text()
        except (OSError, ValueError) as exc:
            raise ToolError(f"yosys left no usable statistics for {verilog.name}: {exc}"
                            ) from None
    cells = stat["design"]["num_cells_by_type"]
    figures: dict[str, Any] = {kind: 0 for kind, _ in _KINDS}
    for cell, count in cells.items():
        for kind, pattern in _KINDS:
            if re.match(pattern, cell):
                figures[kind] += int(count)
                break
    m = re.search(r"\(length=(\d+)\)", ltp)
    figures["depth"] = int(m.group(1)) if m else 0
    figures["cells"] = {k: int(v) for k, v in sorted(cells.items())}
    figures["script"] = script(verilog.name, top, family, dsp)
    figures["dsp_allowed"] = dsp
    return figures


def cost(manifest_path: str | Path, families: list[str] | None = None,
         dsp: bool = False, timeout: float = DEFAULT_TIMEOUT) -> dict:
    """Synthesise the Verilog a manifest lists for each family, write the figures into the
    manifest (atomically), and return them: {family: figures}. Multipliers are built from
    LUTs unless ``dsp`` (then DSP blocks count under ``dsp``); a MAC unit's figures hold the
    exact multiplier's beside them (``exact``), see the module docstring.

    >>> figures = cost("out/drum4.json")  # doctest: +SKIP
    >>> figures["xilinx"]["luts"], figures["xilinx"]["exact"]["luts"]  # doctest: +SKIP
    (93, 121)
    """
    manifest, unit = load(manifest_path)
    path = Path(manifest_path)
    verilog = f"{unit.name}.v"
    if verilog not in manifest["files"]:
        raise ManifestError(f"manifest {str(path)!r} lists no Verilog module ({verilog}): "
                            "compile with --target verilog or --target all")
    source = path.parent / verilog
    if not source.is_file():
        raise ManifestError(f"files listed in the manifest are missing: {verilog}")
    names = list(FAMILIES) if families in (None, ["all"]) else families
    for f in names:
        if f not in FAMILIES:
            raise TargetError(f"unknown family {f!r}: choose from {', '.join(FAMILIES)}, all")
    if not (timeout > 0):
        raise TargetError(f"--timeout {timeout}: give a positive number of seconds")
    out = figures(source, unit, manifest, names, dsp, timeout)
    manifest.setdefault("cost", {}).update(out)
    write_files(path.parent, {path.name: dumps(manifest)})
    return out


def figures(source: Path, unit: Any, manifest: dict, families: list[str], dsp: bool = False,
            timeout: float = DEFAULT_TIMEOUT) -> dict:
    """What ``actc cost`` records for ``unit`` synthesised from ``source``, by family: Yosys'
    figures, and for a MAC unit the exact multiplier of the same configuration beside them
    (``exact``) and what a table-only circuit's Verilog is (``implementation``). One function
    for ``actc cost`` and for ``actc verify``, which recomputes the claim."""
    version = yosys_version()
    out = {f: {"tool": version, **synthesize(source, unit.name, f, dsp, timeout)}
           for f in families}
    from .mac.ir import MacUnit

    if isinstance(unit, MacUnit):
        from .mac.api import exact_twin

        twin = exact_twin(manifest, unit)
        with tempfile.TemporaryDirectory(prefix="actc-exact-") as tmp:
            twin.write(tmp)
            for f in families:
                exact = synthesize(Path(tmp) / f"{twin.unit.name}.v", twin.unit.name, f, dsp,
                                   timeout)
                out[f]["exact"] = {k: exact[k] for k, _ in _KINDS} | {"depth": exact["depth"]}
                out[f]["exact"]["multiplier"] = twin.unit.summary()
        note = _implementation(unit)
        if note:
            for f in families:
                out[f]["implementation"] = note
    return out


def _implementation(unit: Any) -> str | None:
    """What the Verilog of a MAC unit known only by its product table is."""
    family = unit.multiplier.family
    source = getattr(family, "source", None)
    if source is None or (source.get("kind") == "verilog" and source.get("text")):
        return None
    m = unit.multiplier
    origin = {"c": "imported from C", "npy": "read from a .npy table"}.get(
        str(source.get("kind")), "a product table")
    return (f"the product table as a ROM of {m.pairs} {m.out_bits}-bit entries "
            f"({origin}, {source.get('file', '?')}): the table's cost, not the circuit's; "
            "import the circuit's Verilog (actc mac import FILE.v) for its own cost")


_COLUMNS = ("luts", "ffs", "carry", "muxes", "dsp", "bram", "depth")


def cost_text(figures: dict, manifest_path: str | Path) -> str:
    """What ``actc cost`` prints: a row per family, the exact multiplier's row under a MAC
    unit's, a note when the Verilog is a product table, the tool."""
    lines = [f"{'family':<10}" + "".join(f"{c:>8}" for c in _COLUMNS)]
    notes = []
    for family, f in figures.items():
        lines.append(f"{family:<10}" + "".join(f"{f[c]:>8}" for c in _COLUMNS))
        if "exact" in f:
            e = f["exact"]
            lines.append(f"{'  exact':<10}" + "".join(f"{e[c]:>8}" for c in _COLUMNS)
                         + f"   ({e['multiplier']})")
        if f.get("implementation") and f["implementation"] not in notes:
            notes.append(f["implementation"])
    lines += [f"note: the Verilog is {n}" for n in notes]
    tool = next(iter(figures.values()))["tool"]
    lines.append(f"{tool}; figures written to {manifest_path}")
    return "\n".join(lines)
