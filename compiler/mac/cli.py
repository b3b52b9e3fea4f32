"""``actc mac``: compile, import, list, encode, report. Building the parser imports nothing
heavy (the handlers import what they use)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["add_parser", "run"]

_IMPORT_FLAGS = ("bits", "a_bits", "b_bits", "signed")


def _widths(p: argparse.ArgumentParser) -> None:
    p.add_argument("--bits", type=int, metavar="N", help="both operand widths, 4 to 12 (import "
                   "runs every pair: at most 2^24)")
    p.add_argument("--a-bits", type=int, metavar="N", help="width of operand a")
    p.add_argument("--b-bits", type=int, metavar="N", help="width of operand b")
    sign = p.add_mutually_exclusive_group()
    sign.add_argument("--signed", action="store_true", default=None,
                      help="two's complement operands and product (default: detected, the "
                      "reading closer to a*b)")
    sign.add_argument("--unsigned", dest="signed", action="store_false",
                      help="unsigned operands and product")


def add_parser(sub: Any, parser_class: type, command: list[str]) -> None:
    """Add ``mac`` and its subcommands; ``command`` is the command line's words (the target
    option flags are generated only for ``mac compile`` and ``mac import``)."""
    mac = sub.add_parser("mac", help="multipliers and MAC arrays: compile, import, list, "
                         "encode, report", description="The MAC companion: approximate and "
                         "alphabet-set multipliers and MAC arrays, bit-exact in Verilog, C and "
                         "Python.")
    msub = mac.add_subparsers(dest="mac_command", metavar="SUBCOMMAND", parser_class=parser_class)
    wants_flags = len(command) > 1 and command[0] == "mac" and command[1] in ("compile", "import")

    c = msub.add_parser("compile", help="compile a multiplier or MAC array to files",
                        description="Compile a library multiplier (actc mac list) to a "
                        "Verilog module and testbench, a C header, a Python model and a "
                        "manifest with its error metrics.",
                        epilog="Example: actc mac compile --multiplier drum:4 --bits 8 -o out/")
    _common(c)
    if wants_flags:
        from ..options import add_flags
        from .options import MacOptions

        add_flags(c.add_argument_group("the unit"), {"mac": MacOptions})
        _target_flags(c)

    i = msub.add_parser("import", help="characterise a user's multiplier (Verilog or C)",
                        description="Run a multiplier circuit nobody here wrote with the real "
                        "tool (Icarus Verilog, or the C compiler) on every operand pair, store "
                        "its product table, and compile it like a library multiplier. The "
                        "circuit's code runs with your user rights, in a sandbox that bounds its "
                        "time, memory, output and working directory (not a security boundary: "
                        "docs/reference/mac.md: Import).",
                        epilog="Example: actc mac import my_mul.v --bits 8 -o out/")
    i.add_argument("file", help="a Verilog module (.v) or a C function (.c)")
    _widths(i)
    i.add_argument("--ports", metavar="A,B,O",
                   help="the circuit's operand a, operand b and product ports (Verilog) or "
                   "parameters (C: A,B); default: found from the file")
    i.add_argument("--module", help="the Verilog module (default: the top, the module no "
                   "other instantiates; among several, the one named like the file)")
    i.add_argument("--function", help="the C function (default: the file's only function of "
                   "two parameters, else the one named like the file)")
    i.add_argument("--timeout", type=float, metavar="SECONDS",
                   help="time limit of the circuit's compilation and runs together (default: "
                   "300 s plus 60 s per 2^20 operand pairs: 5 minutes at 8 x 8 bits)")
    i.add_argument("--memory", type=int, metavar="MB", dest="memory_mb",
                   help="address-space limit of each program the import runs (default 4096)")
    i.add_argument("--lanes", type=int, default=None, metavar="N", help="lanes sharing a")
    i.add_argument("--accumulate", action="store_true", default=None, help="add accumulators")
    i.add_argument("--acc-bits", type=int, metavar="N", help="accumulator width")
    _common(i)
    if wants_flags:
        _target_flags(i)

    msub.add_parser("list", help="the multiplier families and their parameters")

    e = msub.add_parser("encode", help="encode weights for an alphabet set multiplier",
                        description="Round integer weights to the nearest value an alphabet "
                        "represents and write their ASM codes: NAME.npy, a C header NAME.h, "
                        "the per-weight rounding error NAME_error.npy and a report NAME.json.",
                        epilog="Example: actc mac encode w.npy --alphabet 1,3 --bits 8 "
                        "--signed -o out/")
    e.add_argument("weights", help="a .npy file of integer weight codes")
    e.add_argument("--alphabet", required=True, metavar="A,B,...", help="e.g. 1,3 or 1,3,5,7")
    e.add_argument("--bits", type=int, default=8, metavar="N", help="weight width (default 8)")
    e.add_argument("--signed", action="store_true", help="two's complement weights")
    e.add_argument("--tie", default="up", choices=("up", "down"),
                   help="halfway weights round up (default) or down in magnitude")
    e.add_argument("--name", help="output name (default: the weights file's stem)")
    e.add_argument("-o", "--output", default=".", metavar="DIR")

    r = msub.add_parser("report", help="the library's error against LUTs (Pareto plot)",
                        description="With --library: every library family at a typical "
                        "configuration, its metrics and its Yosys cost (xilinx, DSPs off), as a "
                        "table and a Pareto plot of MRE against LUTs. For one unit use "
                        "actc report NAME.json.")
    r.add_argument("--library", action="store_true", required=True,
                   help="characterise the whole library")
    r.add_argument("--bits", type=int, default=8, metavar="N", help="operand widths (default 8)")
    r.add_argument("--signed", action="store_true", help="signed operands")
    r.add_argument("-o", "--output", default=".", metavar="DIR",
                   help="where mac_library_NBITS{u,s}.png and .json go")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", "-t", default="all", help="verilog, c, python or all (default)")
    p.add_argument("--name", help="module/function name")
    p.add_argument("-o", "--output", default=".", metavar="DIR",
                   help="output directory (default: .)")


def _target_flags(p: argparse.ArgumentParser) -> None:
    from actc.targets import TARGETS

    from ..options import add_flags

    add_flags(p.add_argument_group("target options (declared by each target)"),
              {name: tgt.options for name, tgt in TARGETS.items()})


def run(args: argparse.Namespace) -> int:
    command = args.mac_command
    if command is None:
        print("actc: error: actc mac needs a subcommand: compile, import, list, encode or "
              "report (see actc mac --help)", file=sys.stderr)
        return 2
    handler = {"compile": _compile, "import": _import, "list": _list, "encode": _encode,
               "report": _report}[command]
    return handler(args)


def _target_options(args: argparse.Namespace, skip: set[str]) -> dict[str, Any]:
    from dataclasses import fields

    from actc.targets import TARGETS

    names = {f.name for t in TARGETS.values() for f in fields(t.options)}
    return {k: v for k, v in vars(args).items() if k in names and k not in skip and v is not None}


def _print_result(r: Any, paths: list) -> None:
    m = r.error
    u = r.unit
    note = "all" if m["exhaustive"] else "sampled"
    print(f"{u.name}: {u.summary()}; MRE {m['mre_percent']:.4g} %, MAE {m['mae_percent']:.4g} %,"
          f" WCE {m['wce_percent']:.4g} %, EP {m['ep_percent']:.4g} % over {m['pairs']} pairs "
          f"({note})")
    for path in paths:
        print(f"  wrote {path}")


def _compile(args: argparse.Namespace) -> int:
    from dataclasses import fields

    from ..sandbox import write_all
    from .api import compile as compile_
    from .options import MacOptions

    unit_args = {f.name: getattr(args, f.name) for f in fields(MacOptions)
                 if getattr(args, f.name, None) is not None}
    spec = unit_args.pop("multiplier", "exact")
    r = compile_(spec, target=args.target, name=args.name,
                 **unit_args, **_target_options(args, set()))
    _print_result(r, write_all(args.output, r.files))
    return 0


def _import(args: argparse.Namespace) -> int:
    from ..sandbox import write_all
    from .importer import import_circuit

    kw = {k: getattr(args, k) for k in (*_IMPORT_FLAGS, "lanes", "accumulate", "acc_bits",
                                        "timeout", "memory_mb")
          if getattr(args, k, None) is not None}
    r = import_circuit(args.file, ports=args.ports, module=args.module, function=args.function,
                       target=args.target, name=args.name, **kw,
                       **_target_options(args, set()))
    source = r.unit.multiplier.family.source
    paths = write_all(args.output, r.files)
    _print_result(r, [])
    if source["kind"] == "verilog":
        print(f"  top module {source['circuit_module']}: {source['top']}; emitted as "
              f"{source['module']}")
    else:
        print(f"  function {source['function']}: {source['chosen']}")
    note = source["signedness"]["note"]
    if note.startswith("warning: "):
        print(f"actc: {note}", file=sys.stderr)
    elif note:
        print(f"  {note}")
    for path in paths:
        print(f"  wrote {path}")
    return 0


def _list(args: argparse.Namespace) -> int:
    import dataclasses

    from .families import FAMILIES

    print("multiplier families (--multiplier FAMILY[:ARGS]; --signed: the sign handling shown):")
    for f in FAMILIES.values():
        if not f.listed:
            continue
        print(f"  {f.usage():<40} {f.title}")
        print(f"  {'':<40} signed: {f.signing}; {f.reference}")
        for fld in f.parameters_declared():
            default = "" if fld.default is dataclasses.MISSING else f" (default {fld.default})"
            print(f"  {'':<42}{fld.name}: {fld.metadata['help']}{default}")
    print(f"  {'table:PATH':<40} a product table read from a file")
    print(f"  {'':<42}PATH: a MAC manifest (.json: an imported circuit, actc mac import "
          "FILE.v|FILE.c, or any compiled multiplier) or a .npy array of products [a][b] in "
          "ascending code order; widths come from it, signedness from a manifest or --signed")
    print("widths: --bits N or --a-bits/--b-bits, 4 to 16 bits per operand")
    return 0


def _encode(args: argparse.Namespace) -> int:
    from .encode import encode_file

    out = encode_file(args.weights, alphabet=args.alphabet, bits=args.bits, signed=args.signed,
                      tie=args.tie, name=args.name, output=args.output)
    s = out.report
    print(f"{s['count']} weights, alphabet {{{','.join(map(str, s['alphabet']))}}}: "
          f"{s['bits_per_weight']} bits per encoded weight ({s['min_bits_per_weight']} at "
          f"least); {s['changed']} rounded, max |error| {s['max_abs_error']}, mean |error| "
          f"{s['mean_abs_error']:.4g}")
    for path in out.paths:
        print(f"  wrote {path}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from .library import library_report

    paths, table = library_report(bits=args.bits, signed=args.signed, output=args.output,
                                  progress=sys.stderr)
    print(table)
    for path in paths:
        print(f"  wrote {path}")
    return 0
