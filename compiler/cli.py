"""Command line: parse arguments, call the API, map ActcError to exit code 2.

Kept free of heavy imports: ``actc --help`` loads only argparse.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from . import __version__
from .errors import ActcError, LimitError
from .limits import DEFAULT_MAX_RAM_GB, DEFAULT_TIMEOUT_S, MAX_POINTS

__all__ = ["main"]


def _domain(text: str) -> tuple[float, float]:
    parts = text.split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        lo, hi = float(parts[0]), float(parts[1])
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LO,HI (e.g. -8,8), got {text!r}") from None
    return lo, hi


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line, like every other actc error."""

    def error(self, message: str):
        self.exit(2, f"actc: error: {message} (see {self.prog} --help)\n")


def _method_and_target_flags(c: argparse.ArgumentParser) -> None:
    """Flags generated from the options each method and each target declares."""
    from actc.targets import TARGETS

    from .activation.passes import METHODS
    from .options import add_flags

    g = c.add_argument_group("method options (declared by each method)")
    add_flags(g, dict(METHODS))
    g.add_argument("--no-symmetry", dest="symmetry", action="store_const", const="off",
                   help="same as --symmetry off")
    t = c.add_argument_group("target options (declared by each target)")
    add_flags(t, {name: tgt.options for name, tgt in TARGETS.items()})
    t.add_argument("--pipeline", action="store_true", help="same as --architecture pipelined")
    t.add_argument("--serial", action="store_true", help="same as --architecture serial")


def _parser(command: str | None = None,
            words: list[str] | None = None) -> argparse.ArgumentParser:
    p = _Parser(
        prog="actc",
        description="Activation-approximation compiler: an expression in, a Verilog module, "
        "a C header and a Python reference model out, bit-exact with each other.",
        epilog="Example: actc compile \"gelu(x)\" --target verilog --bits 8 -o out/",
    )
    p.add_argument("--version", action="version", version=f"actc {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    c = sub.add_parser("compile", help="compile an expression to hardware/firmware files",
                       description="Compile an activation expression in x.")
    c.add_argument("expression", help='e.g. "gelu(x)", "x*sigmoid(1.702*x)"')
    c.add_argument("--target", "-t", default="all",
                   help="verilog, c, python, hls (HLS C++, activations only) or all "
                   "(verilog, c, python; default: all)")
    c.add_argument("--method", "-m",
                   help="table, uniform, geba, optimal, knots, auto, grau or threshold (default: "
                   "table); actc list shows all")
    c.add_argument("--bits", type=int, help="input and output width; formats picked by rule")
    c.add_argument("--in-bits", type=int, help="input width")
    c.add_argument("--out-bits", type=int, help="output width")
    c.add_argument("--in", dest="in_format", metavar="FMT",
                   help="input format: s8.4, u8.8, or s8:SCALE:ZERO_POINT")
    c.add_argument("--out", dest="out_format", metavar="FMT", help="output format")
    c.add_argument("--domain", type=_domain, metavar="LO,HI",
                   help="input range to cover when formats are picked from widths")
    c.add_argument("--name", help="module/function name (default: the function's name)")
    c.add_argument("-o", "--output", default=".", metavar="DIR",
                   help="output directory (default: .)")
    a = c.add_argument_group("automatic choice (instead of --method)")
    a.add_argument("--max-error-lsb", type=float, metavar="E",
                   help="compile the cheapest design whose max error is at most E output LSBs "
                   "(a small sweep across the methods, on Dask)")
    a.add_argument("--minimize", choices=("luts", "memory", "depth"),
                   help="what cheapest means with --max-error-lsb (default: luts, by Yosys)")
    a.add_argument("--budget-s", type=float, metavar="S",
                   help="with --max-error-lsb: stop the search after S seconds and choose "
                   "among what finished")
    _dask_flags(a)
    if command == "compile":  # the generated flags import the methods: only when needed
        _method_and_target_flags(c)

    s = sub.add_parser("sweep", help="compile and measure a design space on Dask (Pareto plots)",
                       description="Run (or resume) the sweep a TOML spec describes: every "
                       "point compiled, measured (error; Yosys cost and network accuracy if "
                       "asked), kept under DIR/designs/; results.parquet, results.csv, "
                       "pareto_*.png and summary.md in DIR.")
    s.add_argument("spec", help="the sweep spec (TOML; examples/sweep.toml)")
    s.add_argument("-o", "--output", required=True, metavar="DIR",
                   help="the sweep directory (a sweep started again in it resumes)")
    s.add_argument("--max-points", type=int, default=MAX_POINTS, metavar="N",
                   help=f"refuse a spec of more than N points (default {MAX_POINTS:,})")
    _dask_flags(s)

    k2 = sub.add_parser("pick", help="choose from a finished sweep",
                        description="The cheapest design of a finished sweep within an error "
                        "bound, per expression and formats.")
    k2.add_argument("directory", help="the sweep directory")
    k2.add_argument("--max-error-lsb", type=float, required=True, metavar="E")
    k2.add_argument("--minimize", choices=("luts", "memory", "depth"), default="luts")
    k2.add_argument("--expression", help="only this expression")

    v = sub.add_parser("verify", help="check every emitted file against the evaluator",
                       description="Compile/simulate/import what a manifest lists and "
                       "compare with the integer evaluator on every input code.")
    v.add_argument("manifest", help="the <name>.json written by compile")

    r = sub.add_parser("report", help="plot a design against the true function (PNG)",
                       description="Plot the true function, the design's output and its "
                       "error in LSBs with the breakpoints marked; print the metrics.")
    r.add_argument("manifest", help="the <name>.json written by compile")
    r.add_argument("-o", "--output", metavar="PNG|DIR",
                   help="output file, or a directory (ending in / or existing) to write "
                   "<name>_report.png into (default: beside the manifest)")

    sub.add_parser("list", help="list the named functions, methods and targets")

    k = sub.add_parser("cost", help="synthesise the Verilog with Yosys: LUTs, flip-flops, depth",
                       description="Synthesise the Verilog module a manifest lists with Yosys "
                       "and write LUTs, flip-flops and logic depth into the manifest.")
    k.add_argument("manifest", help="the <name>.json written by compile (with Verilog)")
    k.add_argument("--family", default="xilinx",
                   help="xilinx (UltraScale+, LUT6; default), ice40 (LUT4) or all")
    k.add_argument("--dsp", action="store_true",
                   help="let Yosys map multipliers to DSP blocks (counted under dsp); by "
                   "default they are built from LUTs, so an approximation's savings show")
    k.add_argument("--timeout", type=float, default=600.0, metavar="SECONDS",
                   help="time limit of each Yosys run (default 600)")

    from .mac.cli import add_parser as add_mac

    add_mac(sub, _Parser, words or [])
    c.add_argument("--in-from", metavar="MANIFEST",
                   help="take the input format from a column back end's manifest (the "
                   "output code of actc adc compile)")
    adc = sub.add_parser("adc", help="the ADC companion: IMC cost model, column back end",
                         description="In-memory-computing partial sums and their converters.")
    asub = adc.add_subparsers(dest="adc_command", metavar="ADC_COMMAND", parser_class=_Parser)
    _adc_cost_parser(asub, command == "adc")
    _adc_compile_parser(asub, command == "adc")
    _limit_flags(p)
    return p


# Commands whose work is bounded otherwise: a sweep by its points' own limits.
_NO_DEFAULT_TIMEOUT = {"sweep"}


def _limit_flags(parser: argparse.ArgumentParser, command: str = "") -> None:
    """``--timeout`` and ``--max-ram-gb`` on every command (docs/reference/limits.md),
    unless the command declares a flag of that name itself."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if subs:
        for name, sub in subs[0].choices.items():
            _limit_flags(sub, command or name)
        return
    g = parser.add_argument_group("limits")
    if "--timeout" not in parser._option_string_actions:
        default = "none: each point has its own" if command in _NO_DEFAULT_TIMEOUT else \
            f"{DEFAULT_TIMEOUT_S:g}"
        g.add_argument("--timeout", dest="command_timeout", type=float, metavar="S",
                       help=f"stop after S seconds, leaving the outputs as they were "
                       f"(default: {default}; 0: no limit)")
    if "--max-ram-gb" not in parser._option_string_actions:
        g.add_argument("--max-ram-gb", dest="max_ram_gb", type=float, metavar="G",
                       help=f"memory the command may use beyond its start, in GB (default "
                       f"{DEFAULT_MAX_RAM_GB:g}; 0: no limit); more is refused before the work "
                       "when it can be estimated, else stops it")


def _crossbar_flags(parser: argparse.ArgumentParser, scheme: str, full: bool) -> None:
    """The crossbar's options, generated from ``Crossbar``'s declared fields."""
    g = parser.add_argument_group("crossbar (actc.adc.Crossbar)")
    g.add_argument("--scheme", default=scheme, choices=("differential", "offset", "unsigned"),
                   help=f"signed weights as differential pairs or with an offset, or unsigned "
                   f"weights (default: {scheme})")
    if full:  # importing the crossbar loads numpy: only for `actc adc ...`
        from .adc.crossbar import Crossbar
        from .options import add_flags

        add_flags(g, {"crossbar": Crossbar})


def _adc_cost_parser(asub: Any, full: bool) -> None:
    k = asub.add_parser(
        "cost", help="energy, latency and area of an IMC network: converter vs baseline",
        description="Per layer and in total: crossbar reads, conversions, samples; energy, "
        "latency and area of the converters, crossbars and digital accumulation, from the "
        "documented per-operation parameters (docs/reference/adc-cost.md).")
    k.add_argument("--network", default="resnet20",
                   help="resnet20 (CIFAR-10 shapes, built in) or a JSON file of layer shapes")
    k.add_argument("--converter", default="mtj:4", help="ideal, adc:N, sparse:N or mtj:T "
                   "(default mtj:4)")
    k.add_argument("--baseline", default="adc:8", help="the design compared against "
                   "(default adc:8)")
    k.add_argument("--cols", type=int, default=128, help="columns per array (default 128)")
    k.add_argument("--samples", metavar="T1,T2,...",
                   help="MTJ samples per crossbar layer (inhomogeneous sampling)")
    k.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="override a cost parameter (SI units), e.g. --set E_sample=1e-14")
    k.add_argument("--preset", choices=("stoxnet-v2",),
                   help="parameter values fitted to a paper's headline instead of the "
                   "published figures (stoxnet-v2: StoX-Net's v2 ratios)")
    k.add_argument("--json", metavar="FILE", help="write the report as JSON")
    k.add_argument("--plot", metavar="PNG", help="draw the per-layer bar chart")
    _crossbar_flags(k, "offset", full)


def _adc_compile_parser(asub: Any, full: bool) -> None:
    c = asub.add_parser(
        "compile", help="the digital back end of one column: Verilog, C, Python",
        description="Emit one column's back end (counters, shifts, adds) for a converter "
        "and crossbar, bit-exact across targets, with a manifest stating the output code's "
        "format.")
    c.add_argument("--converter", default="mtj:8", help="ideal, adc:N, sparse:N or mtj:T")
    c.add_argument("--subarrays", type=int, default=1, metavar="R",
                   help="sub-arrays whose partial sums one output accumulates (default 1)")
    c.add_argument("--clip", type=float, help="calibrated converter range: [-CLIP, CLIP] "
                   "(signed) or [0, CLIP] (default: the full partial-sum range)")
    c.add_argument("--k", type=float, help="mtj: device curve slope k")
    c.add_argument("--x0", type=float, help="mtj: device curve offset x0")
    c.add_argument("--input-scale", type=float, default=1.0,
                   help="real value of one input code (default 1)")
    c.add_argument("--weight-scale", type=float, default=1.0,
                   help="real value of one weight code (default 1)")
    c.add_argument("--vectors", type=int, default=2048,
                   help="model-driven test vectors beyond the corners (default 2048)")
    c.add_argument("--seed", type=int, default=0, help="seed of the stimulus (default 0)")
    c.add_argument("--target", "-t", default="all", help="verilog, c, python or all")
    c.add_argument("--architecture", default="parallel", choices=("parallel", "serial"),
                   help="Verilog: parallel (combinational) or serial (one input slice a "
                   "clock, start/valid handshake)")
    c.add_argument("--registered", action="store_true",
                   help="Verilog: an output register on the parallel form (latency 1)")
    c.add_argument("--name", default="col", help="module/function name (default col)")
    c.add_argument("-o", "--output", default=".", metavar="DIR",
                   help="output directory (default: .)")
    _crossbar_flags(c, "differential", full)


_COMPILE_ARGS = {"command", "expression", "target", "method", "bits", "in_bits", "out_bits",
                 "in_format", "out_format", "domain", "name", "output", "pipeline", "serial",
                 "max_error_lsb", "minimize", "budget_s", "scheduler", "workers", "in_from",
                 "command_timeout", "max_ram_gb"}


def _dask_flags(p: Any) -> None:
    p.add_argument("--scheduler", metavar="ADDR",
                   help="a running Dask scheduler, tcp://HOST:PORT (default: "
                   "$DASK_SCHEDULER_ADDRESS, else an embedded local cluster)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="workers of the local cluster (default: one per core)")


def _architecture(args: argparse.Namespace) -> None:
    """--pipeline and --serial: shorthands for --architecture."""
    from .errors import TargetError

    asked = [a for a, on in (("pipelined", args.pipeline), ("serial", args.serial)) if on]
    if len(asked) > 1:
        raise TargetError("--pipeline and --serial exclude each other: pick one")
    if asked:
        if args.architecture not in (None, asked[0]):
            flag = "--pipeline" if args.pipeline else "--serial"
            raise TargetError(f"--architecture {args.architecture} and {flag} disagree: "
                              "pick one")
        args.architecture = asked[0]


def _compile(args) -> int:
    from .api import compile as compile_

    _architecture(args)
    options = {k: v for k, v in vars(args).items() if k not in _COMPILE_ARGS and v is not None}
    if args.max_error_lsb is not None:
        return _compile_best(args, options)
    for flag, value in (("--minimize", args.minimize), ("--budget-s", args.budget_s)):
        if value is not None:
            raise ActcError(f"{flag} goes with --max-error-lsb")
    result = compile_(
        args.expression,
        target=args.target,
        method=args.method or "table",
        in_format=args.in_format,
        out_format=args.out_format,
        bits=args.bits,
        in_bits=args.in_bits,
        out_bits=args.out_bits,
        domain=args.domain,
        name=args.name,
        in_from=args.in_from,
        **options,
    )
    return _wrote(result, args.output)


def _compile_best(args: argparse.Namespace, options: dict) -> int:
    from .sweep.choose import compile_best

    if args.method is not None or options:
        given = "--method" if args.method else "--" + next(iter(options)).replace("_", "-")
        raise ActcError(f"{given} and --max-error-lsb exclude each other: --max-error-lsb "
                        "chooses the method and its options")
    import time

    start = time.perf_counter()
    result = compile_best(args.expression, max_error_lsb=args.max_error_lsb,
                          minimize=args.minimize or "luts", budget_s=args.budget_s,
                          scheduler=args.scheduler, workers=args.workers, target=args.target,
                          name=args.name, in_format=args.in_format, out_format=args.out_format,
                          bits=args.bits, in_bits=args.in_bits, out_bits=args.out_bits,
                          domain=args.domain)
    sel = result.manifest["selection"]
    chosen = sel["candidates"][sel["chosen"]]
    ok = sum(c["status"] == "ok" for c in sel["candidates"])
    print(f"chose {chosen['method']} {chosen['options']} among {ok} candidates in "
          f"{time.perf_counter() - start:.1f} s: max {chosen['max_lsb']:.3g} LSB, "
          f"{chosen['memory_bits']} memory bits"
          + (f", {chosen['luts']} LUTs" if chosen.get("luts") is not None else ""))
    return _wrote(result, args.output)


def _wrote(result: Any, output: str) -> int:
    paths = result.write(output)
    e = result.error
    d = result.design
    sym = f", symmetry {d.fold.relation}" if d.fold else ""
    print(f"{d.name}: {result.method}, {d.in_format.text} -> {d.out_format.text}{sym}, "
          f"{d.memory_bits} ROM bits; error max {e['max_lsb']:.3g} LSB "
          f"({e['max_abs']:.3g}), mean {e['mean_lsb']:.3g} LSB")
    for path in paths:
        print(f"  wrote {path}")
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from .sweep import sweep

    res = sweep(args.spec, args.output, scheduler=args.scheduler, workers=args.workers,
                max_points=args.max_points)
    df = res.table
    ok = int((df["status"] == "ok").sum())
    print(f"{len(df)} points ({res.computed} run now, {len(df) - res.computed} finished "
          f"before): {ok} ok, {len(df) - ok} failed")
    for name in ("results.parquet", "results.csv", "summary.md"):
        print(f"  wrote {res.directory / name}")
    return 0


def _pick(args: argparse.Namespace) -> int:
    from .sweep import MINIMIZE, pick

    col = MINIMIZE[args.minimize]
    for row in pick(args.directory, args.max_error_lsb, args.minimize, args.expression):
        where = f"{row['expression']} {row['in_format']} -> {row['out_format']}"
        if row["status"] == "none":
            print(f"{where}: none within {args.max_error_lsb:g} LSB (best "
                  f"{row['max_lsb']:.4g} LSB)")
            continue
        print(f"{where}: {row['method']} {row['options']}, max {row['max_lsb']:.4g} LSB, "
              f"{col} {row[col]:g}; designs/{row['key']}/{row['name']}.json")
    return 0


def _verify(args) -> int:
    from .verification import verify

    report = verify(args.manifest)
    print(report.table())
    return 0 if report.ok else 1


def _report(args) -> int:
    from .report import report

    path, line = report(args.manifest, args.output)
    print(line)
    print(f"  wrote {path}")
    return 0


def _cost(args) -> int:
    from .cost import cost, cost_text

    figures = cost(args.manifest, [args.family], dsp=args.dsp, timeout=args.timeout)
    print(cost_text(figures, args.manifest))
    return 0


def _mac(args) -> int:
    from .mac.cli import run

    return run(args)


def _crossbar_args(args: argparse.Namespace) -> dict:
    from .adc.crossbar import Crossbar
    from .options import declared

    return {o.name: getattr(args, o.name) if getattr(args, o.name) is not None else o.default
            for o in declared(Crossbar)}


def _int_list(text: str, flag: str) -> list[int]:
    from .errors import ConfigError

    try:
        return [int(v) for v in text.split(",")]
    except ValueError:
        raise ConfigError(f"{flag} {text!r}: expected whole numbers separated by commas"
                          ) from None


def _adc(args: argparse.Namespace) -> int:
    return {"cost": _adc_cost, "compile": _adc_compile}[args.adc_command](args)


def _adc_cost(args: argparse.Namespace) -> int:
    import io
    import json
    from pathlib import Path

    from .adc.cost import cost_report, figure
    from .errors import ConfigError
    from .fileio import write_paths

    params = {}
    for item in args.set:
        key, eq, value = item.partition("=")
        try:
            if not eq:
                raise ValueError
            params[key.strip()] = float(value)
        except ValueError:
            raise ConfigError(f"--set {item!r}: expected NAME=NUMBER") from None
    samples = _int_list(args.samples, "--samples") if args.samples else None
    report = cost_report(args.network, args.converter, args.baseline, cols=args.cols,
                         scheme=args.scheme, samples=samples, parameters=params,
                         preset=args.preset, with_sensitivity=True, **_crossbar_args(args))
    png = None
    if args.plot:
        import matplotlib.pyplot as plt

        fig = figure(report)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
        plt.close(fig)
        png = buf.getvalue()
    print(report.table())
    outputs: dict[Path, str | bytes] = {}  # written together: all or nothing
    if args.json:
        outputs[Path(args.json)] = json.dumps(report.to_json(), indent=1) + "\n"
    if png is not None:
        outputs[Path(args.plot)] = png
    for path in write_paths(outputs):
        print(f"  wrote {path}")
    return 0


def _adc_compile(args: argparse.Namespace) -> int:
    from .adc.backend import compile_column

    params = {k: getattr(args, k) for k in ("clip", "k", "x0") if getattr(args, k) is not None}
    result = compile_column(
        args.converter, subarrays=args.subarrays, target=args.target, name=args.name,
        architecture=args.architecture, registered=args.registered,
        input_scale=args.input_scale,
        weight_scale=args.weight_scale, vectors=args.vectors, seed=args.seed,
        scheme=args.scheme, converter_params=params, **_crossbar_args(args))
    paths = result.write(args.output)
    u = result.unit
    print(f"{u.name}: column back end, {u.summary()}")
    for path in paths:
        print(f"  wrote {path}")
    return 0


def _list(args) -> int:
    from actc.activation.functions import FUNCTIONS

    print("functions:")
    width = max(len(f.signature()) for f in FUNCTIONS.values())
    for f in FUNCTIONS.values():
        print(f"  {f.signature():<{width}}  {f.description}")
    print("constants: pi, e; operators: + - * / ^ ** and parentheses")
    from .activation.passes import METHODS

    print("methods: " + ", ".join(METHODS))
    from actc.targets import TARGETS

    print("targets: " + ", ".join([*TARGETS, "all"]))
    print("multipliers and MAC arrays: actc mac list")
    return 0


def _join_negative_values(argv: list[str]) -> list[str]:
    """argparse takes "--domain -8,8" for two options; pass it as "--domain=-8,8"."""
    out: list[str] = []
    it = iter(argv)
    for a in it:
        if a == "--domain":
            nxt = next(it, None)
            if nxt is not None and nxt.startswith("-"):
                out.append(f"--domain={nxt}")
                continue
            out.append(a)
            if nxt is not None:
                out.append(nxt)
            continue
        out.append(a)
    return out


def _limits(args: argparse.Namespace) -> tuple[float, float]:
    """(seconds, GB) the command runs under: its flags, else the documented defaults."""
    import math

    timeout = getattr(args, "command_timeout", None)
    if timeout is None and hasattr(args, "timeout"):
        # The command declares its own --timeout (cost: each Yosys run; mac import: the
        # circuit's runs), which bounds its foreign work; a second, fixed deadline would stop
        # the command before the limit its user raised.
        timeout = 0.0
    if timeout is None:
        timeout = 0.0 if args.command in _NO_DEFAULT_TIMEOUT else DEFAULT_TIMEOUT_S
    ram = getattr(args, "max_ram_gb", None)
    ram = DEFAULT_MAX_RAM_GB if ram is None else ram
    for flag, v, unit in (("--timeout", timeout, "seconds"), ("--max-ram-gb", ram, "GB")):
        if not (math.isfinite(v) and v >= 0):
            raise LimitError(f"{flag} {v:g}: give 0 or more {unit} (0: no limit)")
    return timeout, ram


def main(argv: list[str] | None = None) -> int:
    argv = _join_negative_values(sys.argv[1:] if argv is None else argv)
    words = [a for a in argv if not a.startswith("-")]
    command = words[0] if words else None
    parser = _parser(command, words)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if args.command == "adc" and args.adc_command is None:
        parser.parse_args(["adc", "--help"])
    handler = {"compile": _compile, "verify": _verify, "report": _report, "list": _list,
               "sweep": _sweep, "pick": _pick,
               "cost": _cost, "mac": _mac, "adc": _adc}[args.command]
    try:
        if getattr(args, "output", None) == "":
            from .errors import OutputError

            raise OutputError("-o '' names no output: give a directory, e.g. -o out/")
        timeout, ram = _limits(args)
        from .limits import command_limits

        with command_limits(timeout, ram):
            return handler(args)
    except ActcError as exc:
        print(f"actc: error: {exc.display()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("actc: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `actc list | head`: the reader left; say nothing more
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as exc:  # a file system refusal on a user's path not foreseen where it
        if exc.filename is None:  # happened: one line naming the path, exit 2
            raise
        from .errors import printable

        print(f"actc: error: {printable(repr(str(exc.filename)))}: {exc.strerror}",
              file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
