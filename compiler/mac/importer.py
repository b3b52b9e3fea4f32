"""``actc mac import``: characterise a multiplier nobody here wrote by running it with the
real tool on every operand pair, and keep its product table.

- **Verilog** (``.v``): the module (``--module``, else the file's only module) must have two
  inputs, the operands a and b (in declaration order, or ``--ports A,B,O``), of exactly
  ``a_bits`` and ``b_bits`` bits, and one output of at least a_bits + b_bits bits (its low
  a_bits + b_bits bits are the product). Icarus Verilog simulates it on every pair; an output
  bit that is X or Z refuses the circuit. The Verilog target then emits the circuit itself
  inside the unit's module, so ``actc cost`` measures it.
- **C** (``.c``): the function (``--function``, else the file's only function of two
  parameters) is called with a in the parameter named ``a`` or ``A`` (else the first, or as
  ``--ports A,B`` says) and b in the other; the file is compiled with the system compiler
  and run on every pair. Each result's low a_bits + b_bits bits are the product, read as two's
  complement with ``--signed`` (so a signed circuit whose C model uses unsigned types, like
  some of EvoApproxLib's, reads right); a result outside that width refuses the circuit.

Every pair is run: at most 2^24 pairs (12 x 12 bits), the largest table a manifest keeps.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, ToolError
from .families.table import TableFamily
from .ir import MAX_OPERAND_BITS, MIN_OPERAND_BITS, Multiplier

__all__ = ["MAX_IMPORT_PAIRS", "import_circuit", "measure_c", "measure_verilog", "verilog_ports"]

MAX_IMPORT_PAIRS = 1 << 24

_MODULE = re.compile(r"\bmodule\s+([A-Za-z_]\w*)\s*(#\s*\(.*?\)\s*)?\((.*?)\)\s*;"
                     r"(.*?)\bendmodule\b", re.S)
_NAME = r"(?!(?:input|output|inout|wire|reg|logic|signed)\b)[A-Za-z_]\w*"
_DECL = re.compile(r"\b(input|output|inout)\b\s*(?:wire|reg|logic)?\s*(signed)?\s*"
                   r"(\[\s*(\d+)\s*:\s*(\d+)\s*\])?\s*"
                   r"(" + _NAME + r"(?:\s*,\s*" + _NAME + r")*)")


def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def verilog_ports(text: str, module: str | None) -> tuple[str, list[tuple[str, str, int]]]:
    """(module name, [(direction, port, width), ...] in declaration order) of the module."""
    clean = _strip_comments(text)
    modules = {m.group(1): m for m in _MODULE.finditer(clean)}
    if not modules:
        raise InputError("no Verilog module found")
    if module is None:
        if len(modules) > 1:
            raise InputError(f"the file has {len(modules)} modules ({', '.join(modules)}): name "
                             "one with --module")
        module = next(iter(modules))
    if module not in modules:
        raise InputError(f"no module {module!r} in the file (it has {', '.join(modules)})")
    m = modules[module]
    header, body = m.group(3), m.group(4)
    ports: list[tuple[str, str, int]] = []
    for d in _DECL.finditer(header + ";" + body):
        direction = d.group(1)
        width = 1 if d.group(3) is None else abs(int(d.group(4)) - int(d.group(5))) + 1
        for name in re.split(r"\s*,\s*", d.group(6).strip()):
            if name and name not in {p[1] for p in ports}:
                ports.append((direction, name, width))
    return module, ports


def _choose_ports(module: str, ports: list[tuple[str, str, int]], given: str | None,
                  a_bits: int, b_bits: int) -> tuple[str, str, str, int]:
    by_name = {p[1]: p for p in ports}
    if given:
        names = [n.strip() for n in given.split(",")]
        if len(names) != 3:
            raise InputError(f"--ports {given!r}: give the a, b and product ports, e.g. A,B,O")
        for n in names:
            if n not in by_name:
                raise InputError(f"module {module} has no port {n!r} (ports: "
                                 f"{', '.join(by_name)})")
        a, b, o = names
    else:
        ins = [p[1] for p in ports if p[0] == "input"]
        outs = [p[1] for p in ports if p[0] == "output"]
        if len(ins) != 2 or len(outs) != 1:
            raise InputError(f"module {module} has {len(ins)} inputs and {len(outs)} outputs; a "
                             "multiplier has 2 and 1: name them with --ports A,B,O")
        (a, b), o = ins, outs[0]
    wa, wb, wo = by_name[a][2], by_name[b][2], by_name[o][2]
    if (wa, wb) != (a_bits, b_bits) or wo < a_bits + b_bits:
        raise InputError(f"module {module}: ports {a}[{wa}], {b}[{wb}], {o}[{wo}] do not fit "
                         f"{a_bits} x {b_bits}-bit operands and a {a_bits + b_bits}-bit product")
    return a, b, o, wo


_TB = """`timescale 1ns / 1ps
module actc_import_tb;
    reg [{na}:0] a;
    reg [{nb}:0] b;
    wire [{no}:0] o;
    integer i, j, f;
    {module} dut (.{pa}(a[{na1}:0]), .{pb}(b[{nb1}:0]), .{po}(o));
    initial begin
        f = $fopen("{out}", "w");
        for (i = 0; i < {ca}; i = i + 1) begin
            for (j = 0; j < {cb}; j = j + 1) begin
                a = i;
                b = j;
                #1 $fdisplay(f, "%h", o);
            end
        end
        $fclose(f);
        $finish;
    end
endmodule
"""


def measure_verilog(path: Path, a_bits: int, b_bits: int, ports: str | None,
                    module: str | None) -> tuple[np.ndarray, dict]:
    """The raw outputs (row-major over the operand bit patterns) and the source facts."""
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        name, declared = verilog_ports(text, module)
        a, b, o, wo = _choose_ports(name, declared, ports, a_bits, b_bits)
    except InputError as exc:
        raise InputError(f"{path.name}: {exc}") from None
    if shutil.which("iverilog") is None or shutil.which("vvp") is None:
        raise ToolError("actc mac import needs Icarus Verilog for a Verilog circuit "
                        "(apt-get install iverilog)")
    with tempfile.TemporaryDirectory(prefix="actc-import-") as tmp:
        t = Path(tmp)
        out = t / "out.hex"
        (t / "tb.v").write_text(_TB.format(
            na=a_bits, nb=b_bits, no=wo - 1, na1=a_bits - 1, nb1=b_bits - 1, module=name, pa=a,
            pb=b, po=o, ca=1 << a_bits, cb=1 << b_bits, out=out))
        p = subprocess.run(["iverilog", "-g2005", "-o", str(t / "sim"), "-s", "actc_import_tb",
                            str(t / "tb.v"), str(path.resolve())], capture_output=True, text=True)
        if p.returncode != 0:
            first = (p.stderr or p.stdout).strip().splitlines()[:1]
            raise InputError(f"{path.name} does not compile with iverilog: "
                             f"{first[0] if first else 'no message'}")
        p = subprocess.run(["vvp", "-n", str(t / "sim")], capture_output=True, text=True)
        if p.returncode != 0:
            raise ToolError(f"the simulation of {path.name} failed: {p.stderr[-500:]}")
        words = out.read_text().split()
    if len(words) != 1 << (a_bits + b_bits):
        raise InputError(f"{path.name}: the simulation gave {len(words)} outputs for "
                         f"{1 << (a_bits + b_bits)} pairs")
    bad = next((k for k, w in enumerate(words) if not re.fullmatch(r"[0-9a-fA-F]+", w)), None)
    if bad is not None:
        ia, ib = divmod(bad, 1 << b_bits)
        raise InputError(f"{path.name}: the output {o} has X or Z bits for a = {ia}, b = {ib} "
                         f"(bit patterns): {words[bad]}")
    raw = np.array([int(w, 16) for w in words], dtype=object)
    source = {"kind": "verilog", "file": path.name, "module": name, "ports": [a, b, o],
              "out_bits": wo, "text": text}
    return raw, source


_C_FUNCTION = re.compile(r"(?:^|[;}\n])\s*((?:[A-Za-z_][\w\s\*]*?)\s+\**\s*)([A-Za-z_]\w*)\s*"
                         r"\(([^()]*)\)\s*\{", re.S)

_C_HARNESS = """#include <stdio.h>
#include "{source}"

int main(void)
{{
    long long i, j;
    for (i = 0; i < {ca}LL; i++) {{
        for (j = 0; j < {cb}LL; j++) {{
            const long long a = {a_value};
            const long long b = {b_value};
            printf("%lld\\n", (long long){call});
        }}
    }}
    return 0;
}}
"""


def _c_functions(text: str) -> dict[str, list[str]]:
    """{function: [parameter names]} of the function definitions in C text."""
    out: dict[str, list[str]] = {}
    for m in _C_FUNCTION.finditer(_strip_comments(text)):
        name = m.group(2)
        if name in {"if", "for", "while", "switch", "return", "sizeof"}:
            continue
        params = [p.strip() for p in m.group(3).split(",") if p.strip() and p.strip() != "void"]
        out[name] = [re.findall(r"[A-Za-z_]\w*", p)[-1] for p in params]
    return out


def measure_c(path: Path, a_bits: int, b_bits: int, signed: bool, ports: str | None,
              function: str | None) -> tuple[np.ndarray, dict]:
    text = path.read_text(encoding="utf-8", errors="replace")
    functions = _c_functions(text)
    two = {k: v for k, v in functions.items() if len(v) == 2}
    if function is None:
        if len(two) != 1:
            found = ", ".join(two) or "none"
            raise InputError(f"{path.name}: {len(two)} functions of two parameters ({found}): "
                             "name the multiplier with --function")
        function = next(iter(two))
    if function not in functions:
        raise InputError(f"{path.name}: no function {function!r} (found "
                         f"{', '.join(functions) or 'none'})")
    params = functions[function]
    if len(params) != 2:
        raise InputError(f"{path.name}: {function} takes {len(params)} parameters; a multiplier "
                         "takes 2")
    if ports:
        names = [n.strip() for n in ports.split(",")]
        if len(names) != 2 or set(names) != set(params):
            raise InputError(f"--ports {ports!r}: name {function}'s two parameters, a's first "
                             f"({', '.join(params)})")
        pa = names[0]
    else:
        lower = [p.lower() for p in params]
        pa = params[lower.index("a")] if "a" in lower and "b" in lower else params[0]
    lo_a = -(1 << (a_bits - 1)) if signed else 0
    lo_b = -(1 << (b_bits - 1)) if signed else 0
    pb = next(p for p in params if p != pa)
    args = {pa: "a", pb: "b"}
    call = f"{function}({', '.join(args[p] for p in params)})"
    from actc.targets.c import c_compiler

    cc = c_compiler()
    with tempfile.TemporaryDirectory(prefix="actc-import-") as tmp:
        t = Path(tmp)
        (t / "harness.c").write_text(_C_HARNESS.format(
            source=path.resolve(), ca=1 << a_bits, cb=1 << b_bits, call=call,
            a_value=f"i + ({lo_a}LL)", b_value=f"j + ({lo_b}LL)"))
        p = subprocess.run([cc, "-O2", "-w", "-o", str(t / "harness"), str(t / "harness.c"),
                            "-lm"], capture_output=True, text=True)
        if p.returncode != 0:
            lines = [ln for ln in (p.stderr or p.stdout).splitlines() if "error" in ln]
            first = lines[0] if lines else (p.stderr.strip().splitlines() or ["no message"])[0]
            raise InputError(f"{path.name} does not compile: {first.strip()}")
        p = subprocess.run([str(t / "harness")], capture_output=True, text=True)
        if p.returncode != 0:
            raise InputError(f"{path.name}: the compiled circuit failed (exit {p.returncode})")
        raw = np.array(p.stdout.split(), dtype=np.int64)
    source = {"kind": "c", "file": path.name, "function": function, "ports": [pa, pb]}
    return raw, source


def import_circuit(file: str | Path, *, bits: int | None = None, a_bits: int | None = None,
                   b_bits: int | None = None, signed: bool = False, ports: str | None = None,
                   module: str | None = None, function: str | None = None, lanes: int = 1,
                   accumulate: bool = False, acc_bits: int | None = None,
                   target: str | list[str] = "all", name: str | None = None,
                   **options: Any) -> Any:
    """Characterise a Verilog or C multiplier and compile it like a library one (a Result,
    nothing written yet); see the module docstring."""
    from .api import compile as compile_mac
    from .api import resolve_widths

    path = Path(file)
    if not path.is_file():
        raise InputError(f"{str(path)!r} not found")
    na, nb = resolve_widths(bits, a_bits, b_bits)
    for what, w in (("a", na), ("b", nb)):
        if not MIN_OPERAND_BITS <= w <= MAX_OPERAND_BITS:
            raise InputError(f"operand {what} of {w} bits is impossible: use "
                             f"{MIN_OPERAND_BITS} to {MAX_OPERAND_BITS} bits")
    if 1 << (na + nb) > MAX_IMPORT_PAIRS:
        raise InputError(f"{na} x {nb} bits is 2^{na + nb} pairs: import runs every pair and "
                         "keeps the table, at most 2^24 (12 x 12 bits)")
    suffix = path.suffix.lower()
    if suffix == ".v":
        raw, source = measure_verilog(path, na, nb, ports, module)
        stem = source["module"]
    elif suffix == ".c":
        raw, source = measure_c(path, na, nb, signed, ports, function)
        stem = source["function"]
    else:
        raise InputError(f"{path.name}: import takes a Verilog (.v) or C (.c) file")
    p = na + nb
    if suffix == ".c":
        top = (1 << p) - 1
        low = -(1 << (p - 1)) if signed else 0
        out = np.flatnonzero((raw < low) | (raw > top))
        if out.size:
            ia, ib = divmod(int(out[0]), 1 << nb)
            raise InputError(f"{path.name}: {source['function']} returns {int(raw[out[0]])} for "
                             f"pair number {int(out[0])} (a code {ia}, b code {ib}), outside "
                             f"{p} bits")
    values = np.array([int(v) & ((1 << p) - 1) for v in raw], dtype=np.int64)
    if signed:
        values = np.where(values >= 1 << (p - 1), values - (1 << p), values)
    table = values.reshape(1 << na, 1 << nb)
    if suffix == ".v" and signed:  # the simulation ran over bit patterns: order by value
        half_a, half_b = 1 << (na - 1), 1 << (nb - 1)
        table = np.roll(np.roll(table, half_a, axis=0), half_b, axis=1)
    family = TableFamily(table, na, nb, bool(signed), source)
    m = Multiplier(family, na, nb, bool(signed))
    unit_name = name if name is not None else f"{stem}_imported"
    return compile_mac(m, lanes=lanes, accumulate=accumulate, acc_bits=acc_bits, target=target,
                       name=unit_name, **options)
