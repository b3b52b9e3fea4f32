"""``actc mac import``: characterise a multiplier nobody here wrote by running it with the
real tool on every operand pair, and keep its product table.

- **Verilog** (``.v``): the top module is ``--module``, else found as Yosys' auto-top finds
  it: the module no other module instantiates (modules without ports, testbenches, left
  out); when several are, the one named like the file. It must have two inputs, the operands
  a and b (in declaration order, or ``--ports A,B,O``), of exactly ``a_bits`` and ``b_bits``
  bits, and one output of at least a_bits + b_bits bits (its low a_bits + b_bits bits are the
  product); port widths are read by Icarus Verilog itself, so parameters work. Icarus
  simulates it on every pair, reading the output 100 ns after each operand change; an output
  bit that is X or Z refuses the circuit. Every module of the file is renamed
  ``NAME__module`` (NAME the unit's name) in what is simulated and emitted, so the unit's
  wrapper never shares a name with the circuit and two imported circuits with the same helper
  cells (EvoApproxLib's ``PDKGENHAX1``) live in one design; the Verilog target then emits the
  circuit itself inside the unit's module, so ``actc cost`` measures it.
- **C** (``.c``): the function (``--function``, else the file's only function of two
  parameters, else the one named like the file) is called with a in the parameter named
  ``a`` or ``A`` (else the first, or as ``--ports A,B`` says) and b in the other; the file is
  compiled into a harness with the system compiler and run on every pair. Each result's low
  a_bits + b_bits bits are the product (two's complement when signed, so a signed circuit
  whose C model uses unsigned types, like some of EvoApproxLib's, reads right); a result
  outside [-2^(n-1), 2^n - 1] for n = a_bits + b_bits refuses the circuit.
- **Signedness.** A circuit's output bits do not say whether its operands are two's
  complement. With ``--signed`` or ``--unsigned`` the user says; without either, both
  readings are measured and the one whose products are closer to a * b is taken (signed only
  when its mean relative error is below half the unsigned reading's), and the import says
  which. A given flag whose reading is that much farther from a * b than the other gets a
  warning with both figures.

The circuit's code runs in a :class:`actc.sandbox.Sandbox`: a private temporary directory,
its own process group killed at the time limit (``timeout``; default
:func:`default_timeout`), an address-space limit (``memory_mb``), files it writes capped at
the size the results need, its printed output capped and ignored: results are read from a
file the harness writes. It runs with the user's rights (see the sandbox's docstring for what
that does not stop).

Every pair is run: at most 2^24 pairs (12 x 12 bits), the largest table a manifest keeps.
"""

from __future__ import annotations

import hashlib
import math
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, ToolError
from ..sandbox import Completed, Sandbox
from .families.table import TableFamily, identifier
from .ir import MAX_OPERAND_BITS, MIN_OPERAND_BITS, Multiplier

__all__ = ["DEFAULT_MEMORY_MB", "MAX_IMPORT_PAIRS", "MAX_PORT_BITS", "MAX_SOURCE_BYTES",
           "Reading", "characterise", "choose_signedness", "default_timeout", "find_top",
           "for_unit",
           "import_circuit", "read_source", "rename_modules", "verilog_modules"]

MAX_IMPORT_PAIRS = 1 << 24
MAX_SOURCE_BYTES = 16 << 20  # a circuit file; EvoApproxLib's largest 16-bit ones are < 1 MB
MAX_PORT_BITS = 64  # any port of the top module, checked before anything runs
DEFAULT_MEMORY_MB = 4096
SETTLE_NS = 100  # the testbench reads the output this long after each operand change
SIGNED_MARGIN = 2.0  # a reading is "far closer" when its MRE is below the other's / this


def default_timeout(a_bits: int, b_bits: int) -> float:
    """The default time limit of an import, in seconds: 300 s plus 60 s per 2^20 operand
    pairs (5 minutes at 8 x 8 bits, 21 at 12 x 12, where Icarus needs about 3 CPU minutes);
    generous because it is wall-clock time and a shared machine can be several times
    oversubscribed (an 8 x 8 EvoApproxLib circuit took over 60 s at a load of 18 on 2
    cores)."""
    return 300.0 + 60.0 * (1 << (a_bits + b_bits)) / (1 << 20)


def _shown(path: Path) -> str:
    """A file name safe for a one-line message."""
    return "".join(c if c.isprintable() else "?" for c in path.name) or "?"


def read_source(path: Path) -> tuple[str, str]:
    """The text of a circuit file and the sha256 of its bytes; refused when missing, too
    large or binary."""
    if not path.exists():
        raise InputError(f"{str(path)!r} not found")
    if not path.is_file():
        raise InputError(f"{str(path)!r} is not a file")
    try:
        size = path.stat().st_size
        if size > MAX_SOURCE_BYTES:
            raise InputError(f"{_shown(path)} is {size / (1 << 20):.1f} MB: import reads "
                             f"circuit files of at most {MAX_SOURCE_BYTES >> 20} MB")
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    if b"\0" in data:
        raise InputError(f"{_shown(path)} is not a text file (it holds NUL bytes)")
    # a byte-order mark is not Verilog
    return data.decode("utf-8-sig", errors="replace"), hashlib.sha256(data).hexdigest()


# --- Verilog source ------------------------------------------------------------------------

_TOKEN = re.compile(r"""
    (?P<comment>//[^\n]*|/\*.*?(?:\*/|\Z))
  | (?P<string>"(?:\\.|[^"\\\n])*"?)
  | (?P<escaped>\\\S+)
  | (?P<directive>`[A-Za-z_]\w*)
  | (?P<system>\$[A-Za-z0-9_$]+)
  | (?P<number>\d*'[sS]?[bBoOdDhH]\s*[0-9a-fA-FxXzZ?_]+|\d[\d_]*(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_$]*)
""", re.S | re.X)


@dataclass
class _Module:
    name: str
    start: int  # offset of the "module" keyword
    end: int  # offset just after "endmodule"
    body: list[str] = field(default_factory=list)  # identifiers inside


def verilog_modules(text: str) -> dict[str, _Module]:
    """The modules a Verilog text defines (comments and strings skipped), in order."""
    modules: dict[str, _Module] = {}
    current: _Module | None = None
    expect_name = False
    keyword_at = 0
    odd_name = False
    for m in _TOKEN.finditer(text):
        word = m.group("ident")
        if word is None:
            if expect_name and m.group("comment") is None:
                odd_name = True  # the name is not a plain identifier
            continue
        if expect_name:
            expect_name = False
            if odd_name:
                raise InputError("a module named by an escaped identifier or a macro: name "
                                 "modules with plain identifiers")
            if word in modules:
                raise InputError(f"module {word} is defined twice")
            current = _Module(word, keyword_at, -1)
            modules[word] = current
        elif word in ("module", "macromodule"):
            expect_name = True
            keyword_at = m.start()
            odd_name = False
        elif word == "endmodule":
            if current is not None:
                current.end = m.end()
                current = None
        elif current is not None:
            current.body.append(word)
    for mod in modules.values():
        if mod.end < 0:
            raise InputError(f"module {mod.name} has no endmodule")
    return modules


def _strip_comments(text: str) -> str:
    return _TOKEN.sub(lambda m: " " if m.group("comment") else m.group(0), text)


_HEADER = re.compile(r"^\s*(?:macro)?module\s+[A-Za-z_][\w$]*\s*"
                     r"(#\s*\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*\)\s*)?"
                     r"(?:\(((?:[^()]|\((?:[^()]|\([^()]*\))*\))*)\))?\s*;", re.S)
_NAME = r"(?!(?:input|output|inout|wire|reg|logic|signed|unsigned|tri)\b)[A-Za-z_][\w$]*"
_DECL = re.compile(r"\b(input|output|inout)\b\s*(?:wire|reg|logic|tri)?\s*(?:signed|unsigned)?"
                   r"\s*(\[[^\]]*\])?\s*(" + _NAME + r"(?:\s*,\s*" + _NAME + r")*)")
_LITERAL_RANGE = re.compile(r"\[\s*(\d+)\s*:\s*(\d+)\s*\]")


def _ports(text: str, mod: _Module) -> list[tuple[str, str, str]]:
    """[(direction, port, range text)] of a module in declaration order."""
    source = _strip_comments(text[mod.start:mod.end])
    head = _HEADER.match(source)
    if head is None:
        raise InputError(f"module {mod.name}: cannot read its header")
    body = source[head.end():]
    ports: list[tuple[str, str, str]] = []
    for d in _DECL.finditer((head.group(2) or "") + ";" + body):
        for name in re.split(r"\s*,\s*", d.group(3).strip()):
            if name and name not in {p[1] for p in ports}:
                ports.append((d.group(1), name, d.group(2) or ""))
    return ports


def _has_ports(text: str, mod: _Module) -> bool:
    try:
        return bool(_ports(text, mod))
    except InputError:  # a header we cannot read: it may be the top
        return True


def find_top(text: str, modules: dict[str, _Module], stem: str,
             module: str | None) -> tuple[str, str]:
    """(top module, why it was chosen): ``module`` if given, else Yosys' auto-top rule (the
    module no other instantiates; modules without ports, testbenches, left out), and among
    several such the one named like the file (``stem``)."""
    if not modules:
        raise InputError("no Verilog module found")
    if module is not None:
        if module not in modules:
            raise InputError(f"no module {module!r} in the file (it has "
                             f"{', '.join(modules)})")
        return module, "given by --module"
    if len(modules) == 1:
        return next(iter(modules)), "the file's only module"
    with_ports = [n for n in modules if _has_ports(text, modules[n])]
    used = {w for n in with_ports for w in modules[n].body if w in modules and w != n}
    roots = [n for n in with_ports if n not in used]
    others = ", ".join(n for n in modules if n not in roots[:1])
    if len(roots) == 1:
        return roots[0], f"the module no other instantiates (also in the file: {others})"
    named = [n for n in roots if n == stem] or [n for n in roots if n.lower() == stem.lower()]
    if len(named) == 1:
        return named[0], (f"named like the file among the modules no other instantiates "
                          f"({', '.join(roots)})")
    listed = ", ".join(roots) if roots else ", ".join(modules)
    raise InputError(f"the file has {len(modules)} modules and no single top ({listed} could "
                     "be): name one with --module")


def rename_modules(text: str, renames: dict[str, str]) -> str:
    """The text with every identifier in ``renames`` replaced (comments, strings, numbers
    and escaped identifiers untouched). A module's name and every instantiation change
    together; a signal that shares a module's name changes consistently too."""
    def sub(m: re.Match) -> str:
        word = m.group("ident")
        return renames.get(word, word) if word is not None else m.group(0)

    return _TOKEN.sub(sub, text)


def _fresh_names(text: str, modules: list[str], prefix: str) -> dict[str, str]:
    taken = {m.group("ident") for m in _TOKEN.finditer(text) if m.group("ident")}
    out = {}
    for name in modules:
        new = f"{prefix}__{name}"
        while new in taken:
            new += "_"
        taken.add(new)
        out[name] = new
    return out


def for_unit(m: Multiplier, unit: str) -> Multiplier:
    """An imported Verilog circuit with its modules renamed ``unit__module`` (they carry the
    name of the unit they were imported as; a unit compiled under another name renames them
    again, so no two units share a module)."""
    from dataclasses import replace

    family = m.family
    assert isinstance(family, TableFamily)
    src = family.source
    old = dict(src.get("renamed") or {})
    if not old or all(v == f"{unit}__{k}" for k, v in old.items()):
        return m
    text = src["text"]
    for_text = {v: k for k, v in old.items()}
    fresh = _fresh_names(rename_modules(text, for_text), list(old), unit)
    text = rename_modules(text, {old[k]: fresh[k] for k in old})
    top = src["circuit_module"]
    source = {**src, "text": text, "module": fresh[top], "renamed": fresh}
    return Multiplier(replace(family, source=source), m.a_bits, m.b_bits, m.signed)


def _choose_ports(module: str, ports: list[tuple[str, str, str]],
                  given: str | None) -> tuple[str, str, str]:
    by_name = {p[1]: p for p in ports}
    if given:
        names = [n.strip() for n in given.split(",")]
        if len(names) != 3 or len(set(names)) != 3:
            raise InputError(f"--ports {given!r}: give the a, b and product ports, e.g. A,B,O")
        for n in names:
            if n not in by_name:
                raise InputError(f"module {module} has no port {n!r} (ports: "
                                 f"{', '.join(by_name) or 'none'})")
        a, b, o = names
        if by_name[o][0] != "output" or "output" in (by_name[a][0], by_name[b][0]):
            raise InputError(f"--ports {given!r}: {a} and {b} must be inputs and {o} an output "
                             f"of module {module}")
        return a, b, o
    ins = [p[1] for p in ports if p[0] == "input"]
    outs = [p[1] for p in ports if p[0] == "output"]
    if len(ins) != 2 or len(outs) != 1:
        raise InputError(f"module {module} has {len(ins)} inputs and {len(outs)} outputs; a "
                         "multiplier has 2 and 1: name them with --ports A,B,O")
    return ins[0], ins[1], outs[0]


_PROBE = """module actc_probe;
    {module} dut ();
    initial begin
{lines}        $finish;
    end
endmodule
"""

_TB = """`timescale 1ns / 1ps
module actc_import_tb;
    reg [{na}:0] a;
    reg [{nb}:0] b;
    wire [{no}:0] o;
    integer i, j, f;
    {module} dut (.{pa}(a[{na1}:0]), .{pb}(b[{nb1}:0]), .{po}(o));
    initial begin
        f = $fopen("actc_import.hex", "w");
        for (i = 0; i < {ca}; i = i + 1) begin
            for (j = 0; j < {cb}; j = j + 1) begin
                a = i;
                b = j;
                #{settle} $fdisplay(f, "%h", o);
            end
        end
        $fdisplay(f, "end");
        $fclose(f);
        $finish;
    end
endmodule
"""


def _tool(name: str, what: str) -> str:
    tool = shutil.which(name)
    if tool is None:
        raise ToolError(f"actc mac import needs {what}")
    return tool


_OWN = ("circuit.v", "circuit.c", "circuit_in.v")  # the sandbox's copy of the user's file


def _failed(done: Completed, what: str, shown: str, names: dict[str, str]) -> InputError:
    if done.timed_out:
        return InputError(f"{shown}: {what} {done.how()} (--timeout raises the limit)")
    line = done.first_line(names, _OWN)
    return InputError(f"{shown}: {what} failed ({done.how()})"
                      + ("" if line == "no message" else f": {line}"))


@dataclass(frozen=True)
class _Measured:
    """Output bits over operand bit patterns (row-major [a pattern][b pattern]) and where
    they came from."""

    bits: np.ndarray
    source: dict
    rerun: Any = None  # C: run again with signed operand values


def _measure_verilog(box: Sandbox, path: Path, text: str, na: int, nb: int, ports: str | None,
                     module: str | None, name: str | None) -> _Measured:
    shown = _shown(path)
    iverilog = _tool("iverilog", "Icarus Verilog for a Verilog circuit (apt-get install "
                     "iverilog)")
    vvp = _tool("vvp", "Icarus Verilog for a Verilog circuit (apt-get install iverilog)")
    include = ["-I", str(path.resolve().parent)]
    if "`include" in text:  # what is emitted must stand alone: expand the includes here
        (box.path / "circuit_in.v").write_text(text, encoding="utf-8")
        done = box.run([iverilog, "-E", *include, "-o", "circuit_pre.v", "circuit_in.v"])
        if not done.ok:
            raise _failed(done, "iverilog -E (expanding its includes)", shown,
                          {"circuit_in.v": shown})
        text = (box.path / "circuit_pre.v").read_text(encoding="utf-8", errors="replace")
    modules = verilog_modules(text)
    top, why = find_top(text, modules, path.stem, module)
    declared = _ports(text, modules[top])
    for _, port, rng in declared:
        lit = _LITERAL_RANGE.fullmatch(rng.strip()) if rng else None
        if lit and abs(int(lit.group(1)) - int(lit.group(2))) + 1 > MAX_PORT_BITS:
            width = abs(int(lit.group(1)) - int(lit.group(2))) + 1
            raise InputError(f"module {top}: port {port} is {width} bits; import takes ports "
                             f"of at most {MAX_PORT_BITS} bits")
    a, b, o = _choose_ports(top, declared, ports)
    unit = _unit_name(name, top)
    renames = _fresh_names(text, list(modules), unit)
    emitted = rename_modules(text, renames)
    (box.path / "circuit.v").write_text(emitted, encoding="utf-8")
    names = {"circuit.v": shown, str(box.path) + "/": ""}

    # the port widths, as Icarus reads them (parameters and expressions resolved)
    lines = "".join(f'        $display("actc-port {p} %b", dut.{p});\n' for p in (a, b, o))
    (box.path / "actc_probe.v").write_text(_PROBE.format(module=renames[top], lines=lines))
    done = box.run([iverilog, "-g2005", *include, "-o", "probe", "-s", "actc_probe",
                    "actc_probe.v", "circuit.v"])
    if not done.ok:
        raise _failed(done, "iverilog", shown, names) if done.timed_out else InputError(
            f"{shown} does not compile with iverilog: {done.first_line(names, _OWN)}")
    done = box.run([vvp, "-n", "probe"], output_bytes=4 * MAX_PORT_BITS + 256)
    widths = dict(re.findall(r"^actc-port (\S+) (\S+)$", done.stdout, re.M))
    if not done.ok:
        raise _failed(done, "simulating it (to read its port widths)", shown, names)
    if done.truncated:
        raise InputError(f"module {top}: a port is wider than {MAX_PORT_BITS} bits")
    if set(widths) != {a, b, o}:
        raise InputError(f"{shown}: the simulation ended before its port widths could be read "
                         "(does the circuit call $finish or $stop at time 0?)")
    wa, wb, wo = (len(widths[p]) for p in (a, b, o))
    if (wa, wb) != (na, nb) or wo < na + nb or wo > MAX_PORT_BITS:
        raise InputError(f"module {top}: ports {a}[{wa}], {b}[{wb}], {o}[{wo}] do not fit "
                         f"{na} x {nb}-bit operands and a {na + nb}-bit product"
                         + (f" (outputs of at most {MAX_PORT_BITS} bits)"
                            if wo > MAX_PORT_BITS else ""))

    (box.path / "actc_import_tb.v").write_text(_TB.format(
        na=na, nb=nb, no=wo - 1, na1=na - 1, nb1=nb - 1, module=renames[top], pa=a, pb=b, po=o,
        ca=1 << na, cb=1 << nb, settle=SETTLE_NS))
    done = box.run([iverilog, "-g2005", *include, "-o", "sim", "-s", "actc_import_tb",
                    "actc_import_tb.v", "circuit.v"])
    if not done.ok:
        raise _failed(done, "iverilog", shown, names)
    digits = (wo + 3) // 4
    pairs = 1 << (na + nb)
    size = pairs * (digits + 1) + 4
    done = box.run([vvp, "-n", "sim"], file_bytes=size + (1 << 20))
    if not done.ok:
        raise _failed(done, "the simulation", shown, names)
    bits = _read_hex(box.path / "actc_import.hex", pairs, digits, na + nb, shown, o, nb)
    source = {"kind": "verilog", "file": path.name, "module": renames[top], "ports": [a, b, o],
              "out_bits": wo, "circuit_module": top, "top": why, "renamed": renames,
              "text": emitted}
    return _Measured(bits, source)


_HEX = np.full(256, -1, dtype=np.int64)
for _k, _c in enumerate("0123456789abcdef"):
    _HEX[ord(_c)] = _HEX[ord(_c.upper())] = _k


def _read_hex(file: Path, pairs: int, digits: int, p: int, shown: str, port: str,
              nb: int) -> np.ndarray:
    """The low p bits of each line of the testbench's file (one word per pair, "end" last)."""
    try:
        data = file.read_bytes()
    except OSError:
        data = b""
    body = pairs * (digits + 1)
    if len(data) != body + 4 or data[body:] != b"end\n":
        done = min(len(data), body) // (digits + 1)
        raise InputError(f"{shown}: the simulation ended after {done} of {pairs} operand pairs "
                         "(does the circuit call $finish or $stop?)")
    rows = np.frombuffer(data, dtype=np.uint8, count=body).reshape(pairs, digits + 1)
    values = _HEX[rows[:, :digits]]
    bad = np.flatnonzero((values < 0).any(axis=1) | (rows[:, digits] != ord("\n")))
    if bad.size:
        k = int(bad[0])
        ia, ib = divmod(k, 1 << nb)
        word = rows[k, :digits].tobytes().decode("ascii", "replace")
        raise InputError(f"{shown}: the output {port} has X or Z bits for a = {ia}, b = {ib} "
                         f"(bit patterns, read {SETTLE_NS} ns after the operands change): "
                         f"{word}")
    low = (p + 3) // 4
    out = np.zeros(pairs, dtype=np.int64)
    for k in range(digits - low, digits):
        out = (out << 4) | values[:, k]
    return out & ((1 << p) - 1)


# --- C source ------------------------------------------------------------------------------

_C_FUNCTION = re.compile(r"(?:^|[;}\n])\s*((?:[A-Za-z_][\w\s\*]*?)\s+\**\s*)([A-Za-z_]\w*)\s*"
                         r"\(([^()]*)\)\s*\{", re.S)
_C_KEYWORDS = {"if", "for", "while", "switch", "return", "sizeof", "do", "else"}

_C_HARNESS = """#include <stdio.h>
#define main actc_user_main
#include "circuit.c"
#undef main

int main(int argc, char **argv)
{{
    long long actc_i, actc_j;
    const int actc_signed = argc > 2 && argv[2][0] == 's';
    FILE *actc_out;
    if (argc < 2) return 97;
    actc_out = fopen(argv[1], "wb");
    if (actc_out == NULL) return 98;
    for (actc_i = 0; actc_i < {ca}LL; actc_i++) {{
        const long long actc_a = actc_signed && actc_i >= {ha}LL ? actc_i - {ca}LL : actc_i;
        for (actc_j = 0; actc_j < {cb}LL; actc_j++) {{
            const long long actc_b = actc_signed && actc_j >= {hb}LL ? actc_j - {cb}LL : actc_j;
            const long long actc_p = (long long){call};
            fwrite(&actc_p, sizeof actc_p, 1, actc_out);
        }}
        fflush(actc_out);
    }}
    {{
        const long long actc_end = 0x21646e6563746361LL;
        fwrite(&actc_end, sizeof actc_end, 1, actc_out);
    }}
    return fclose(actc_out) == 0 ? 0 : 99;
}}
"""
_C_END = 0x21646E6563746361


def _c_functions(text: str) -> dict[str, list[str]]:
    """{function: [parameter names]} of the function definitions in C text."""
    out: dict[str, list[str]] = {}
    for m in _C_FUNCTION.finditer(_strip_comments(text)):
        name = m.group(2)
        if name in _C_KEYWORDS or m.group(1).strip() in _C_KEYWORDS:
            continue
        params = [p.strip() for p in m.group(3).split(",") if p.strip() and p.strip() != "void"]
        names = [re.findall(r"[A-Za-z_]\w*", p) for p in params]
        out[name] = [n[-1] if n else "" for n in names]
    return out


def _measure_c(box: Sandbox, path: Path, text: str, na: int, nb: int, signed: bool | None,
               ports: str | None, function: str | None, name: str | None) -> _Measured:
    shown = _shown(path)
    functions = _c_functions(text)
    two = {k: v for k, v in functions.items()
           if len(v) == 2 and "" not in v and v[0] != v[1] and k != "main"}
    why = "given by --function"
    if function is None:
        named = [k for k in two if k == path.stem]
        if len(two) == 1:
            function, why = next(iter(two)), "the file's only function of two parameters"
        elif len(named) == 1:
            function, why = named[0], "named like the file"
        else:
            found = ", ".join(two) or "none"
            raise InputError(f"{shown}: {len(two)} functions of two parameters ({found}): "
                             "name the multiplier with --function")
    if function not in functions:
        raise InputError(f"{shown}: no function {function!r} (found "
                         f"{', '.join(functions) or 'none'})")
    params = functions[function]
    if len(params) != 2 or "" in params or params[0] == params[1]:
        raise InputError(f"{shown}: {function} does not take two named parameters (a "
                         "multiplier takes its operands a and b)")
    if ports:
        given = [n.strip() for n in ports.split(",")]
        if len(given) != 2 or set(given) != set(params):
            raise InputError(f"--ports {ports!r}: name {function}'s two parameters, a's first "
                             f"({', '.join(params)})")
        pa = given[0]
    else:
        lower = [p.lower() for p in params]
        pa = params[lower.index("a")] if "a" in lower and "b" in lower else params[0]
    pb = next(p for p in params if p != pa)
    _unit_name(name, function)
    from actc.targets.c import c_compiler

    cc = c_compiler()
    args = {pa: "actc_a", pb: "actc_b"}
    call = f"{function}({', '.join(args[p] for p in params)})"
    (box.path / "circuit.c").write_text(text, encoding="utf-8")
    (box.path / "actc_import_harness.c").write_text(_C_HARNESS.format(
        ca=1 << na, cb=1 << nb, ha=1 << (na - 1), hb=1 << (nb - 1), call=call))
    names = {"circuit.c": shown, str(box.path) + "/": ""}
    done = box.run([cc, "-O2", "-w", "-I", str(path.resolve().parent), "-o", "harness",
                    "actc_import_harness.c", "-lm"])
    if done.timed_out:
        raise _failed(done, "the C compiler", shown, names)
    if not done.ok:
        raise InputError(f"{shown} does not compile: {done.first_line(names, _OWN)}")
    pairs = 1 << (na + nb)

    def run(mode: str) -> np.ndarray:
        out = box.path / f"actc_import_{mode}.bin"
        done = box.run(["./harness", out.name, mode], file_bytes=8 * (pairs + 1) + (1 << 20))
        if done.timed_out:
            raise _failed(done, "the compiled circuit", shown, names)
        raw = np.fromfile(out, dtype="<i8") if out.is_file() else np.zeros(0, np.int64)
        complete = raw.size == pairs + 1 and int(raw[-1]) == _C_END
        if done.returncode != 0 or not complete:
            rows = min(raw.size, pairs) >> nb
            where = f"while running a = {rows} (bit pattern)" if rows < 1 << na else \
                "after every pair"
            why = "" if done.returncode != 0 else ": does it call exit()?"
            raise InputError(f"{shown}: the compiled circuit stopped ({done.how()}) {where}"
                             f"{why}")
        raw = raw[:-1].astype(np.int64)
        p = na + nb
        outside = np.flatnonzero((raw < -(1 << (p - 1))) | (raw > (1 << p) - 1))
        if outside.size:
            ia, ib = divmod(int(outside[0]), 1 << nb)
            raise InputError(f"{shown}: {function} returns {int(raw[outside[0]])} for a = {ia}, "
                             f"b = {ib} (bit patterns), outside {p} bits")
        return raw & ((1 << p) - 1)

    bits = run("signed" if signed else "unsigned")
    source = {"kind": "c", "file": path.name, "function": function, "ports": [pa, pb],
              "chosen": why}
    return _Measured(bits, source, rerun=None if signed is not None else
                     (lambda: run("signed")))


def _unit_name(name: str | None, stem: str) -> str:
    """The unit's name (checked): ``name``, else ``STEM_imported``."""
    from actc.targets import TARGETS
    from actc.targets.base import check_name

    from ..errors import TargetError

    if name is not None:
        return check_name(name, TARGETS)
    unit = f"{identifier(stem)}_imported"
    try:
        return check_name(unit, TARGETS)
    except TargetError as exc:
        raise TargetError(f"the default name {unit!r} does not work ({exc}): give --name"
                          ) from None


# --- signedness ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Reading:
    """One reading of the output bits: the product table by operand value and its MRE."""

    signed: bool
    table: np.ndarray
    mre_percent: float


def _reading(bits: np.ndarray, na: int, nb: int, signed: bool) -> Reading:
    p = na + nb
    values = bits.reshape(1 << na, 1 << nb)
    if signed:  # patterns -> values: the upper half of each operand's patterns is negative
        values = np.where(values >= 1 << (p - 1), values - (1 << p), values)
        values = np.roll(np.roll(values, 1 << (na - 1), axis=0), 1 << (nb - 1), axis=1)
    family = TableFamily(values, na, nb, signed, {})
    m = Multiplier(family, na, nb, signed)
    from .metrics import measure

    return Reading(signed, values, float(measure(m)["mre_percent"]))


def choose_signedness(bits: np.ndarray, na: int, nb: int,
                      signed: bool | None) -> tuple[Reading, Reading, str]:
    """(the reading taken, the other, a note): ``signed`` None picks the reading closer to
    a * b (signed only when its MRE is below the unsigned one's / SIGNED_MARGIN); a given
    one is kept, with a warning in the note when the other is that much closer."""
    u = _reading(bits, na, nb, False)
    s = _reading(bits, na, nb, True)
    figures = f"MRE {s.mre_percent:.4g} % read signed, {u.mre_percent:.4g} % unsigned"
    if signed is None:
        if s.mre_percent * SIGNED_MARGIN < u.mre_percent:
            return s, u, f"read as signed (two's complement), closer to a * b: {figures}; " \
                         "--unsigned reads it unsigned"
        return u, s, ""
    taken, other = (s, u) if signed else (u, s)
    if other.mre_percent * SIGNED_MARGIN < taken.mre_percent:
        flag = "--unsigned" if signed else "--signed"
        kind = "signed" if signed else "unsigned"
        return taken, other, (f"warning: read as {kind} as asked, but the circuit looks "
                              f"{'unsigned' if signed else 'signed'}: {figures}; did you mean "
                              f"{flag}?")
    return taken, other, ""


# --- the command ---------------------------------------------------------------------------

def characterise(file: str | Path, *, bits: int | None = None, a_bits: int | None = None,
                 b_bits: int | None = None, signed: bool | None = None,
                 ports: str | None = None, module: str | None = None,
                 function: str | None = None, name: str | None = None,
                 timeout: float | None = None,
                 memory_mb: int = DEFAULT_MEMORY_MB) -> Multiplier:
    """Run a Verilog or C multiplier on every operand pair (in the sandbox) and return it as
    a Multiplier whose family is the measured product table; its ``source`` says how the top
    module or function and the signedness were chosen. ``name``: the unit the circuit's
    Verilog modules are renamed for (default ``TOP_imported``). See the module docstring."""
    from .api import resolve_widths

    path = Path(file)
    na, nb = resolve_widths(bits, a_bits, b_bits)
    for what, w in (("a", na), ("b", nb)):
        if not MIN_OPERAND_BITS <= w <= MAX_OPERAND_BITS:
            raise InputError(f"operand {what} of {w} bits is impossible: use "
                             f"{MIN_OPERAND_BITS} to {MAX_OPERAND_BITS} bits")
    if 1 << (na + nb) > MAX_IMPORT_PAIRS:
        raise InputError(f"{na} x {nb} bits is 2^{na + nb} pairs: import runs every pair and "
                         "keeps the table, at most 2^24 (12 x 12 bits)")
    seconds = default_timeout(na, nb) if timeout is None else timeout
    if not (isinstance(seconds, (int, float)) and math.isfinite(seconds) and seconds > 0):
        raise InputError(f"--timeout {timeout}: give a positive number of seconds")
    if not (isinstance(memory_mb, int) and 64 <= memory_mb <= 1 << 20):
        raise InputError(f"--memory {memory_mb}: give 64 to 1048576 MB")
    suffix = path.suffix.lower()
    if suffix not in (".v", ".c"):
        raise InputError(f"{_shown(path)}: import takes a Verilog (.v) or C (.c) file")
    text, digest = read_source(path)
    with Sandbox(seconds, memory_bytes=memory_mb << 20, prefix="actc-import-") as box:
        try:
            if suffix == ".v":
                measured = _measure_verilog(box, path, text, na, nb, ports, module, name)
            else:
                measured = _measure_c(box, path, text, na, nb, signed, ports, function, name)
        except InputError as exc:
            if not str(exc).startswith(_shown(path)):
                raise InputError(f"{_shown(path)}: {exc}") from None
            raise
        taken, other, note = choose_signedness(measured.bits, na, nb, signed)
        if taken.signed and measured.rerun is not None:  # C: call it with signed values
            taken = _reading(measured.rerun(), na, nb, True)
    source = dict(measured.source)
    source["sha256"] = digest
    source["signedness"] = {
        "signed": taken.signed, "by": "detected" if signed is None else
        ("--signed" if signed else "--unsigned"),
        "mre_percent": {"signed": (taken if taken.signed else other).mre_percent,
                        "unsigned": (other if taken.signed else taken).mre_percent},
        "note": note}
    return Multiplier(TableFamily(taken.table, na, nb, taken.signed, source), na, nb,
                      taken.signed)


def import_circuit(file: str | Path, *, bits: int | None = None, a_bits: int | None = None,
                   b_bits: int | None = None, signed: bool | None = None,
                   ports: str | None = None, module: str | None = None,
                   function: str | None = None, lanes: int = 1, accumulate: bool = False,
                   acc_bits: int | None = None, target: str | list[str] = "all",
                   name: str | None = None, timeout: float | None = None,
                   memory_mb: int = DEFAULT_MEMORY_MB, **options: Any) -> Any:
    """Characterise a Verilog or C multiplier and compile it like a library one (a Result,
    nothing written yet); see the module docstring. ``signed`` None: detected. Every unit
    option is checked before the circuit runs.

    >>> r = import_circuit("tests/fixtures/evoapproxlib/mul8s_1KR3.v", bits=8,
    ...                    target="python")  # doctest: +SKIP
    >>> r.unit.multiplier.signed, r.unit.multiplier.family.source["top"]  # doctest: +SKIP
    (True, 'the module no other instantiates (also in the file: PDKGENHAX1, PDKGENFAX1)')
    """
    from .api import compile as compile_mac
    from .api import plan_unit, resolve_widths
    from .families.exact import ExactFamily

    na, nb = resolve_widths(bits, a_bits, b_bits)
    if MIN_OPERAND_BITS <= min(na, nb) and max(na, nb) <= MAX_OPERAND_BITS:
        plan_unit(Multiplier(ExactFamily(), na, nb, bool(signed)), name or "imported", lanes,
                  accumulate, acc_bits, target, options)
    m = characterise(file, bits=bits, a_bits=a_bits, b_bits=b_bits, signed=signed, ports=ports,
                     module=module, function=function, name=name, timeout=timeout,
                     memory_mb=memory_mb)
    unit_name = _unit_name(name, m.family.stem())
    return compile_mac(m, lanes=lanes, accumulate=accumulate, acc_bits=acc_bits, target=target,
                       name=unit_name, **options)
