"""Issue 16: the fuzz campaign. Thousands of hostile and careless inputs, by class, each run
as the ``actc`` command line would run it, each judged.

    python benchmarks/fuzz.py                      # every class, the default case counts
    python benchmarks/fuzz.py --classes expressions,manifests --cases 100 --seed 3
    python benchmarks/fuzz.py --show mishandled    # print every mishandled case

Each case runs ``actc.cli.main(argv)`` in a forked child (actc imported once in this
process, so a case costs its own work, not an interpreter start) in a sandbox directory of
its own, with stdout and stderr captured, under a wall-clock limit. Every command gets
``--timeout 20`` (the documented flag; the default is 600 s) and the child is killed after
``--kill-after`` seconds (default 60). A case is **mishandled** when:

- stderr holds a traceback, or the exit code is not 0 or 2 (1 only from ``actc verify`` on a
  manifest that was tampered with, its last line "FAILED: ...");
- it is still running at the kill limit;
- it exits 2 with more than one stderr line (an expression error's caret display aside:
  the expression and a line of carets), or without "actc: error: ";
- it fails (exit 1 or 2) and anything in its sandbox changed: files written on refusal (a
  sweep stopped by its time limit may keep its finished points, ``designs/`` and
  ``results.jsonl``: that is how it resumes);
- anything changed in the sandbox outside the paths the command may write (its -o).

The table (tried, exit 0, exit 1, exit 2, mishandled, by class) is printed and written to
benchmarks/results/fuzz.json and fuzz.txt. The classes are the functions in ``CLASSES``;
``actc mac import`` (foreign code in a sandbox) adds its own class there.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import RESULTS  # noqa: E402

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # the children fork from this process


@dataclass
class Case:
    """One command line with the files it needs. ``output``: the path (relative to the
    sandbox's working directory) it may write; ``tampered``: exit 1 is the right answer
    (verify of a manifest whose claims were changed)."""

    argv: list[str]
    files: dict[str, bytes | str] = field(default_factory=dict)
    output: str | None = None
    writes: tuple[str, ...] = ()
    tampered: bool = False
    note: str = ""
    setup: Callable[[Path], None] | None = None  # extra preparation in the working directory


@dataclass
class Outcome:
    case: Case
    code: int | None
    seconds: float
    stdout: str
    stderr: str
    problems: list[str]


# --- generators, one per class ----------------------------------------------------------------
HOSTILE_EXPRESSIONS = [
    "9^9^9^9", "1e999999999*x", "log(0*x)", "sqrt(-1)*x", "1e-320*x", "1" * 5000 + "*x",
    "(" * 300 + "x" + ")" * 300, "+".join(["x"] * 600), "-" * 900 + "x", "x^" * 300 + "x",
    "x\x1b[31m", "x\x00", "x\r\n+1", "exp(exp(exp(exp(x))))", "x^1e30", "2^1e30*x",
    "(1/3)^1000*x", "0^-1*x", "x/(x-x)", "log(x)", "sqrt(x)", "1/x", "x^-1", "exp(1000*x)",
    "tanh(x)^0.5", "(-8)^(1/3)*x", "max(x, sqrt(-1))", "min()", "gelu()", "gelu(x,x,x)",
    "__import__('os')", "x;x", "x if x else 1", "lambda: 1", "é*x", "x*ℯ", "∞", "x" * 1001,
    "1e100*1e100*1e100*1e100*x", "exp(exp(exp(5)))*x", "x^(x^(x^(x^x)))", "0*x", "x-x",
    "e^1000*x", "pi^pi^pi^pi*x", "sqrt(2)^1025*x", "log(-1)*x", "abs(x)^(1/3)", "elu(x, -1)",
    "swish(x, 1e99)", "leaky_relu(x, 1e-99)", "softplus(1e300*x)", "sigmoid(x)*1e-300",
    "erf(x)*1e300", "min(x, 1, 2, 3, " + ", ".join(["x"] * 200) + ")", "", " ", "()", "(x",
]
PIECES = ["x", "1", "0", "2.5", "1e-3", "1e9", "pi", "e", "+", "-", "*", "/", "^", "**", "(",
          ")", ",", "gelu(", "tanh(", "exp(", "log(", "sqrt(", "max(", "min(", "swish(",
          "sigmoid(", "abs(", "erf(", "9^9", " ", "\t", ".", "e5", "E-400", "99999999999"]


def expressions(rng: random.Random, n: int) -> list[Case]:
    out = []
    for i in range(n):
        if i < len(HOSTILE_EXPRESSIONS):
            text = HOSTILE_EXPRESSIONS[i]
        elif i % 3 == 0:
            text = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 25)))
        elif i % 3 == 1:  # a random tree, well formed, of hostile leaves
            text = _tree(rng, rng.randint(1, 6))
        else:  # a real expression with one character changed
            base = rng.choice(["gelu(x)", "x*sigmoid(1.702*x)", "tanh(x)^2", "swish(x, 2)",
                               "max(x, 0.1*x)", "exp(-x^2)", "softplus(x)-log(2)"])
            k = rng.randrange(len(base))
            text = base[:k] + rng.choice(PIECES + ["\x1b", "\x7f", "\u202e"]) + base[k + 1:]
        bits = rng.choice(["4", "5", "6"])
        out.append(Case(["compile", text, "--bits", bits, "--target", "python", "-o", "out"],
                        output="out", note=text[:60]))
    return out


def _tree(rng: random.Random, depth: int) -> str:
    if depth == 0:
        return rng.choice(["x", "x", "pi", "e", "0", "1", "2", "0.5", "1e-9", "1e99", "1e-99",
                           "-1", "99999", "1e300"])
    k = rng.random()
    if k < 0.4:
        fn = rng.choice(["gelu", "tanh", "exp", "log", "sqrt", "sigmoid", "softplus", "abs",
                         "erf", "elu", "mish", "hardswish", "relu"])
        return f"{fn}({_tree(rng, depth - 1)})"
    if k < 0.5:
        return f"max({_tree(rng, depth - 1)}, {_tree(rng, depth - 1)})"
    op = rng.choice(["+", "-", "*", "/", "^"])
    return f"({_tree(rng, depth - 1)}){op}({_tree(rng, depth - 1)})"


FORMATS = ["s8.4", "u8.8", "s4.2", "u6", "s6:0.1:3", "u8:0.0039215686:0", "s8:1e-300:0",
           "s8:1e400:0", "s8:-1:0", "s8:0:0", "s0.0", "s65.0", "s33.4", "u32.30", "s8.999",
           "s8.-999", "fp16", "bf16", "fp32", "fp8", "s8:x:0", "s8:1:99999999999", "S8.4",
           "s8.4 ", "s 8.4", "", "s8:1/0:0", "u4:1e-320:0", "u1.0", "s1.0", "s2:1e300:1"]
METHODS = ["table", "uniform", "geba", "optimal", "knots", "auto", "grau", "threshold", "nope"]
VALUES = ["0", "1", "2", "3", "-1", "-5", "7", "16", "64", "1000", "1e3", "2.5", "nan", "inf",
          "99999999999999999999", "abc", "", "max", "mse", "both", "on", "off", "auto", "pot",
          "apot2", "apot9", "shift", "multiply", "uniform", "gradient", "serial", "pipelined",
          "header", "split"]
FLAGS = ["--entries", "--memory-bits", "--memory-bytes", "--segments", "--slopes", "--regions",
         "--addressing", "--objective", "--search-steps", "--symmetry", "--spacing",
         "--architecture", "--c-layout", "--interpolate", "--registered", "--pipeline",
         "--serial", "--no-symmetry", "--name", "--domain", "--in-bits", "--out-bits",
         "--bits", "--target", "--bogus"]


def formats_options(rng: random.Random, n: int) -> list[Case]:
    out = []
    for _ in range(n):
        argv = ["compile", rng.choice(["tanh(x)", "gelu(x)", "sigmoid(x)", "x", "exp(x)"])]
        if rng.random() < 0.6:
            argv += ["--in", rng.choice(FORMATS)]
            if rng.random() < 0.7:
                argv += ["--out", rng.choice(FORMATS)]
        else:
            argv += ["--bits", rng.choice(["1", "2", "4", "6", "8", "0", "-3", "33", "x"])]
        argv += ["--method", rng.choice(METHODS)]
        for _ in range(rng.randint(0, 3)):
            flag = rng.choice(FLAGS)
            if flag in ("--interpolate", "--registered", "--pipeline", "--serial",
                        "--no-symmetry"):
                argv.append(flag)
            elif flag == "--domain":
                argv += [flag, rng.choice(["-8,8", "0,1", "1,0", "-1e300,1e300", "nan,1",
                                           "a,b", "-inf,inf", "0,0", "-1e-300,1e-300"])]
            elif flag == "--target":
                argv += [flag, rng.choice(["c", "python", "verilog", "all", "vhdl", ""])]
            elif flag == "--name":
                argv += [flag, rng.choice(["f", "int", "module", "tanh", "a__b", "../x", "x" * 70,
                                           "in", "\x1b", "main", "2x", "np"])]
            else:
                argv += [flag, rng.choice(VALUES)]
        if "--target" not in argv:
            argv += ["--target", rng.choice(["python", "c", "all"])]
        out.append(Case(argv + ["-o", "out"], output="out", note=" ".join(argv[1:])[:80]))
    return out


def resources(rng: random.Random, n: int) -> list[Case]:
    fixed = [
        ["compile", "x", "--in", "s32.0"],
        ["compile", "x", "--in", "s32.0", "--method", "uniform", "--entries", str(1 << 30)],
        ["compile", "gelu(x)", "--in", "s32.28", "--out", "s16.14", "--method", "knots",
         "--entries", "1000000000"],
        ["compile", "gelu(x)", "--in", "s24.20", "--out", "s16.14", "--method", "knots",
         "--regions", "60"],
        ["compile", "gelu(x)", "--in", "s24.20", "--out", "s16.14", "--method", "geba",
         "--search-steps", "1000000000"],
        ["compile", "gelu(x)", "--in", "s24.20", "--out", "s16.14", "--method", "geba",
         "--memory-bits", str(10**15)],
        ["compile", "gelu(x)", "--in", "s20.16", "--out", "s16.14", "--method", "optimal",
         "--objective", "mse"],
        ["compile", "gelu(x)", "--in", "s16.12", "--out", "s16.14", "--method", "geba",
         "--max-ram-gb", "0.01"],
        ["compile", "gelu(x)", "--in", "s16.12", "--out", "s16.14", "--method", "optimal",
         "--timeout", "0.2"],
        ["compile", "gelu(x)", "--in", "fp32", "--method", "geba", "--entries", "100000000"],
        ["compile", "tanh(x)", "--in", "s20.16", "--out", "s20.16", "--method", "threshold"],
        ["compile", "tanh(x)", "--in", "s12.8", "--out", "s12.10", "--method", "grau",
         "--segments", "32", "--slopes", "apot4"],
        ["mac", "compile", "--multiplier", "exact", "--bits", "64"],
        ["mac", "compile", "--multiplier", "exact", "--bits", "16", "--lanes", "1000000"],
        ["mac", "compile", "--multiplier", "asm:1,3", "--bits", "16", "--lanes", "64"],
        ["mac", "compile", "--multiplier", "truncated:1000", "--bits", "8"],
        ["adc", "compile", "--converter", "mtj:64", "--subarrays", "64", "--rows", "512"],
        ["adc", "compile", "--converter", "adc:8", "--vectors", "1000000000"],
        ["adc", "compile", "--converter", "adc:8", "--rows", "1000000"],
        ["adc", "compile", "--converter", "ideal", "--rows", "512", "--weight-bits", "8",
         "--input-bits", "8", "--subarrays", "64"],
        ["adc", "cost", "--network", "resnet20", "--samples", ",".join(["64"] * 5000)],
        ["adc", "cost", "--converter", "mtj:1000000"],
        ["adc", "cost", "--set", "E_sample=1e400"],
        ["adc", "cost", "--cols", "1000000000"],
    ]
    out = [Case([*a, "-o", "out"] if a[0] != "adc" or a[1] != "cost" else a,
                output="out" if a[:2] != ["adc", "cost"] else None, note=" ".join(a)[:80])
           for a in fixed]
    big = json.dumps([{"name": "c", "kind": "conv", "in": 10**12, "out": 10**12,
                       "kernel": 10**6, "out_size": 10**6, "digital": False}])
    out.append(Case(["adc", "cost", "--network", "net.json"], files={"net.json": big},
                    note="network of 10^12 channels"))
    out.append(Case(["adc", "cost", "--network", "net.json"],
                    files={"net.json": "[" * 100000 + "]" * 100000}, note="deep network JSON"))
    while len(out) < n:
        bits = rng.choice([12, 16, 20, 24, 28, 32])
        argv = ["compile", rng.choice(["gelu(x)", "tanh(x)", "x", "sigmoid(x)"]), "--in",
                f"s{bits}.{bits - 4}", "--out", "s16.14", "--method",
                rng.choice(["uniform", "geba", "knots", "auto", "table", "threshold", "grau"])]
        flag = rng.choice(["--entries", "--memory-bits", "--memory-bytes", "--segments",
                           "--regions", "--search-steps"])
        argv += [flag, str(rng.choice([2**k for k in range(2, 40)] + [3, 7, 1000]))]
        if rng.random() < 0.3:
            argv += ["--max-ram-gb", rng.choice(["0.05", "0.2", "1"])]
        out.append(Case(argv + ["-o", "out"], output="out", note=" ".join(argv)[:80]))
    return out[:n]


SPEC_KEYS = {"sweep": ["name", "evaluations", "families", "network_seeds", "timeout_s", "x"],
             "activation": ["expressions", "bits", "formats", "domain", "x"],
             "mac": ["multipliers", "bits", "signed", "lanes", "x"],
             "adc": ["converters", "rows", "weight_bits", "input_bits", "subarrays", "scheme"]}
SPEC_VALUES = ['["xilinx"]', '[["x"]]', '"x"', "1", "0", "-1", "1e400", "inf", "nan", "true",
               '[]', '[1, "a"]', '["gelu(x)"]', '["9^9^9^9"]', '[4]', '[1000]', '[[1, 2]]',
               '{a = 1}', '["cost"]', '["network"]', '["s8.4", "u8.8"]', '[["s4.2", "s4.2"]]',
               '["drum:4"]', '["mtj:4"]', '["adc:3"]', '[16]', '[2]', '"\\u001b[31m"',
               "999999999999999999999999", '["exact"]', '[0, 1e400]', '0.5']


VALID_SPECS = [
    '[[activation]]\nexpressions = ["tanh(x)"]\nbits = [4]\n[activation.methods.table]\n',
    '[sweep]\ntimeout_s = 1\n[[activation]]\nexpressions = ["gelu(x)"]\n'
    'formats = [["s20.16", "s16.14"]]\n[activation.methods.optimal]\nobjective = "mse"\n',
    '[[mac]]\nmultipliers = ["exact", "drum:3"]\nbits = [4]\n',
    '[[adc]]\nconverters = ["adc:2"]\nrows = [16]\nweight_bits = [1]\ninput_bits = [1]\n',
    '[[activation]]\nexpressions = ["9^9^9^9", "log(0*x)"]\nbits = [4]\n'
    '[activation.methods.table]\n',
    '[[activation]]\nexpressions = ["x"]\nbits = [4]\n[activation.methods.uniform]\n'
    'entries = [-3, 1099511627776]\n',
    '[[mac]]\nmultipliers = ["drum:3"]\nbits = [4, 40]\nlanes = [1, 100000]\n',
]


def sweep_specs(rng: random.Random, n: int) -> list[Case]:
    out = []
    # pick on damaged sweep directories, and a resume over a damaged log
    for text in (b"PAR1garbage", b"", rng.randbytes(300), b"PAR1" + b"\x00" * 100 + b"PAR1"):
        out.append(Case(["pick", "sw", "--max-error-lsb", "1"],
                        files={"sw/results.parquet": text}, note="damaged results.parquet"))
    out.append(Case(["sweep", "spec.toml", "-o", "sw"],
                    files={"spec.toml": VALID_SPECS[3],
                           "sw/results.jsonl": '{"key": 5}\n[1,2]\n' + "[" * 50000 + "\n"},
                    output="sw", note="resume over a damaged results.jsonl"))
    for text in VALID_SPECS:  # valid specs, their points hostile: run on a real cluster
        out.append(Case(["sweep", "spec.toml", "-o", "out", "--workers", "1"],
                        files={"spec.toml": text}, output="out", note=text[:80]))
    for i in range(n - len(out)):
        lines = []
        if rng.random() < 0.5:
            lines.append("[sweep]")
            for k in rng.sample(SPEC_KEYS["sweep"], rng.randint(0, 3)):
                lines.append(f"{k} = {rng.choice(SPEC_VALUES)}")
        for kind in rng.sample(["activation", "mac", "adc"], rng.randint(0, 2)):
            lines.append(f"[[{kind}]]")
            for k in rng.sample(SPEC_KEYS[kind], rng.randint(0, 4)):
                lines.append(f"{k} = {rng.choice(SPEC_VALUES)}")
            if kind == "activation" and rng.random() < 0.8:
                m = rng.choice(["table", "uniform", "grau", "nope"])
                lines.append(f"[activation.methods.{m}]")
                if rng.random() < 0.5:
                    lines.append(f"{rng.choice(['entries', 'segments', 'x'])} = "
                                 f"{rng.choice(SPEC_VALUES)}")
        text = "\n".join(lines) + "\n"
        if i % 10 == 0:  # broken TOML
            k = rng.randrange(len(text))
            text = text[:k] + rng.choice(["[", "=", '"', "\x00", "]]", "\n[[", "\\"]) + text[k:]
        if i % 25 == 1:
            text = "[[mac]]\nmultipliers = [" + ", ".join(['"exact"'] * 30000) + "]\n"
        out.append(Case(["sweep", "spec.toml", "-o", "out", "--max-points", "4", "--workers",
                         "1"], files={"spec.toml": text}, output="out", note=text[:80]))
    return out[:n]


def _compiled(root: Path) -> dict[str, Path]:
    """A small manifest of each kind, compiled once (the manifests class mutates copies)."""
    import actc
    from actc.adc.backend import compile_column
    from actc.mac.api import compile as compile_mac

    dirs = {}
    for label, r in (("act", actc.compile("gelu(x)", bits=5, method="knots", memory_bytes=16,
                                          target="all", name="g")),
                     ("grau", actc.compile("tanh(x)", bits=5, method="grau", segments=3,
                                           target="all", name="t")),
                     ("mac", compile_mac("drum:3", bits=4, target="all")),
                     ("adc", compile_column("adc:2", rows=16, weight_bits=1, input_bits=1,
                                            target="all"))):
        d = root / label
        r.write(d)
        dirs[label] = d / f"{r.design.name}.json"
    return dirs


JSON_ODDITIES = [None, True, 0, -1, 1.5, 10**30, 2**63, -(2**63) - 1, "", "x", "../evil",
                 "/etc/passwd", [], {}, [1, 2], {"a": 1}, "\x1b[31m", 1e308, 64, 33, "9" * 50]


def manifests(rng: random.Random, n: int, base: dict[str, Path]) -> list[Case]:
    out = []
    for i in range(n):
        label = rng.choice(list(base))
        path = base[label]
        files = {p.name: p.read_bytes() for p in path.parent.iterdir()}
        m = json.loads(path.read_text())
        tampered = True
        k = i % 10
        note = ""
        if k == 0:  # a random leaf changed to an oddity
            p = rng.choice(_leaves(m))
            _set(m, p, rng.choice(JSON_ODDITIES))
            note = f"{'.'.join(map(str, p))} = oddity"
        elif k == 1:  # a key removed
            p = rng.choice(_leaves(m))
            _delete(m, p)
            note = f"del {'.'.join(map(str, p))}"
        elif k == 2:  # a number nudged
            nums = [p for p in _leaves(m) if isinstance(_get(m, p), (int, float))
                    and not isinstance(_get(m, p), bool)]
            if nums:
                p = rng.choice(nums)
                v = _get(m, p)
                _set(m, p, v + rng.choice([1, -1]) if isinstance(v, int) else v * 1.5)
                note = f"{'.'.join(map(str, p))} nudged"
        elif k == 3:  # an emitted file edited (and its sha256 recorded again, or not)
            name = rng.choice([f for f in m["files"] if not f.endswith(".json")])
            data = bytearray(files[name])
            j = rng.randrange(len(data))
            data[j] = (data[j] + 1) % 128 or 65
            files[name] = bytes(data)
            if rng.random() < 0.5:
                m["sha256"][name] = hashlib.sha256(files[name]).hexdigest()
            note = f"{name} edited"
        elif k == 4:  # names and files that point elsewhere
            choice = rng.choice(["name", "files", "design.name"])
            evil = rng.choice(["../evil", "/tmp/evil", "evil/../../x", ".hidden", "a b"])
            if choice == "files":
                m["files"].append(evil)
            elif choice == "name":
                m["name"] = evil
            else:
                m["design"]["name"] = evil
            note = f"{choice} = {evil}"
        elif k == 5:  # JSON text damage
            text = json.dumps(m)
            text = rng.choice([text[: rng.randrange(len(text))], "[" * 200000 + "]" * 200000,
                               text.replace("1", "1e400", 1), text.replace(": 0", ": NaN", 1),
                               '{"schema": "actc-manifest/1", "design": ' + "[" * 40 + "]" * 40
                               + "}", "\xff\xfe", text + "garbage"])
            files[path.name] = text.encode("utf-8", "surrogateescape")
            note = "damaged JSON"
        elif k == 6:  # a targets list or target options changed
            m["targets"] = rng.choice([["c"], ["python"], ["verilog", "vhdl"], [], ["c", "c"],
                                       m["targets"][::-1]])
            if rng.random() < 0.5:
                m["target_options"] = rng.choice([{}, {"verilog": {"x": 1}},
                                                  {"c": {"c_layout": "weird"}}])
            note = f"targets {m['targets']}"
        elif k == 7:  # a symlink where a listed file was
            note = "symlink"
        elif k == 8:
            tampered = False
            note = "untouched"
        else:  # an extra key, or the sha256 dropped
            if rng.random() < 0.5:
                m[rng.choice(["extra", "seconds", "cost"])] = rng.choice(JSON_ODDITIES)
            else:
                m.pop("sha256", None)
            note = "extra/sha256"
        if k != 5:
            files[path.name] = json.dumps(m, indent=1).encode()
        command = rng.choice(["verify", "verify", "verify", "report", "in-from"])
        argv = {"verify": ["verify", path.name],
                "report": ["report", path.name, "-o", "out/"],
                "in-from": ["compile", "relu(x)", "--in-from", path.name, "--out-bits", "4",
                            "-o", "out"]}[command]
        setup = None
        if k == 7:
            victim = rng.choice([f for f in m["files"] if not f.endswith(".json")])

            def setup(d: Path, victim: str = victim) -> None:
                (d / victim).unlink()
                (d / victim).symlink_to("/etc/hostname")
        out.append(Case(argv, files=files, output="out" if command != "verify" else None,
                        tampered=tampered and command == "verify", note=f"{label}: {note}",
                        setup=setup))
    return out


def _leaves(obj, prefix=()):
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _leaves(v, (*prefix, k)) if isinstance(v, (dict, list)) and v else \
                [(*prefix, k)]
    elif isinstance(obj, list):
        for i, v in enumerate(obj[:20]):
            out += _leaves(v, (*prefix, i)) if isinstance(v, (dict, list)) and v else \
                [(*prefix, i)]
    return out


def _get(obj, path):
    for k in path:
        obj = obj[k]
    return obj


def _set(obj, path, value):
    _get(obj, path[:-1])[path[-1]] = value


def _delete(obj, path):
    parent = _get(obj, path[:-1])
    if isinstance(parent, dict):
        parent.pop(path[-1])
    else:
        parent.pop(path[-1])


def outputs(rng: random.Random, n: int, base: dict[str, Path]) -> list[Case]:
    commands = [
        ["compile", "gelu(x)", "--bits", "5"],
        ["compile", "tanh(x)", "--bits", "5", "--method", "grau", "--segments", "3"],
        ["mac", "compile", "--multiplier", "drum:3", "--bits", "4"],
        ["adc", "compile", "--converter", "adc:2", "--rows", "16", "--weight-bits", "1",
         "--input-bits", "1"],
        ["report", "MANIFEST"],
    ]
    out = []
    manifest = base["act"]
    files0 = {f"m/{p.name}": p.read_bytes() for p in manifest.parent.iterdir()}
    for i in range(n):
        argv = list(rng.choice(commands))
        files = dict(files0)
        kind = i % 8
        target = "out"
        setup = None
        if kind == 0:  # -o is an existing file
            files["out"] = b"mine"
        elif kind == 1:  # an output's place is taken by a directory
            name = rng.choice(["gelu.json", "gelu.py", "t.v", "drum3.h", "col.json",
                               "g_report.png"])
            files[f"out/{name}/keep"] = b"mine"
            files["out/old.txt"] = b"old"
        elif kind == 2:  # a read-only output directory
            files["out/old.txt"] = b"old"

            def setup(d: Path) -> None:
                os.chmod(d / "out", 0o500)
        elif kind == 3:  # -o through a file
            files["f"] = b"mine"
            target = "f/out"
        elif kind == 4:  # existing outputs replaced on success
            files["out/gelu.py"] = b"old"
            files["out/gelu.json"] = b"{}"
        elif kind == 5:  # odd names
            target = rng.choice(["", "out\x1b", "o" * 300, "out/" + "d/" * 60, "-", "."])
        elif kind == 6:  # a failure after staging: a bad option late in the command
            argv += ["--bogus"]
        else:  # a name that is a path
            if argv[0] == "compile" or argv[:2] in (["mac", "compile"], ["adc", "compile"]):
                argv += ["--name", rng.choice(["../evil", "a/b", "x\x1b", "out"])]
        argv = [a if a != "MANIFEST" else "m/g.json" for a in argv]
        if argv[0] == "report":
            argv += ["-o", target + ("/" if rng.random() < 0.5 and target else "")]
        else:
            argv += ["-o", target]
        out.append(Case(argv, files=files, output=target or None,
                        writes=("m/g_report.png",) if argv[0] == "report" else (),
                        note=f"kind {kind}: {' '.join(argv)[:70]}", setup=setup))
    return out


CLASSES: dict[str, Callable[..., list[Case]]] = {
    "expressions": expressions,
    "formats/options": formats_options,
    "resources": resources,
    "sweep specs": sweep_specs,
    "manifests/verify": manifests,
    "outputs": outputs,
    # "import": the cases of `actc mac import` (foreign code in a sandbox) go here
}
DEFAULT_CASES = {"expressions": 600, "formats/options": 450, "resources": 150,
                 "sweep specs": 300, "manifests/verify": 400, "outputs": 200}
NEEDS_MANIFESTS = {"manifests/verify", "outputs"}


# --- running and judging ---------------------------------------------------------------------
def _snapshot(root: Path) -> dict[str, str]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            p = Path(dirpath) / d
            out[str(p.relative_to(root)) + "/"] = "dir"
        for f in filenames:
            p = Path(dirpath) / f
            try:
                out[str(p.relative_to(root))] = ("link:" + os.readlink(p)) if p.is_symlink() \
                    else hashlib.sha1(p.read_bytes()).hexdigest()
            except OSError:
                out[str(p.relative_to(root))] = "unreadable"
    return out


def _prepare(case: Case, box: Path) -> Path:
    work = box / "work"
    work.mkdir(parents=True)
    for name, data in case.files.items():
        p = work / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8",
                                                                      "surrogateescape"))
    if case.setup is not None:
        case.setup(work)
    return work


def _start(case: Case, work: Path) -> int:
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            os.setpgid(0, 0)
            os.chdir(work)
            out = os.open(work.parent / "stdout", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            err = os.open(work.parent / "stderr", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(out, 1)
            os.dup2(err, 2)
            sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
            sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
            from actc.cli import main

            code = main(list(case.argv))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 2
        except BaseException:
            traceback.print_exc()
            code = 1
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)
    return pid


def _judge(case: Case, code: int | None, stdout: str, stderr: str, before: dict[str, str],
           after: dict[str, str]) -> list[str]:
    problems = []
    if code is None:
        return ["over the time limit"]
    if "Traceback (most recent call last)" in stderr:
        problems.append("traceback")
    if code == 1:
        last = stdout.strip().splitlines()[-1] if stdout.strip() else ""
        if not (case.tampered and last.startswith("FAILED: ")):
            problems.append("exit 1" + ("" if case.tampered else " on bad input"))
    elif code not in (0, 2):
        problems.append(f"exit {code}")
    if code == 2:
        lines = stderr.rstrip("\n").split("\n")
        caret = (len(lines) == 3 and lines[1].startswith("  ")
                 and set(lines[2].strip()) == {"^"})
        if not lines[0].startswith("actc: error: "):
            problems.append("exit 2 without 'actc: error:'")
        elif len(lines) > 1 and not caret:
            problems.append(f"{len(lines)} stderr lines on exit 2")
        if any(not ln.isprintable() for ln in lines):
            problems.append("unprintable stderr")
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    if case.argv[0] == "sweep" and "stopped after" in stderr and case.output:
        # a sweep stopped while running keeps its finished points, to resume (README)
        progress = os.path.normpath(f"work/{case.output}")
        changed = {k for k in changed if not (
            os.path.normpath(k) == progress
            or os.path.normpath(k).startswith(f"{progress}/designs")
            or os.path.normpath(k) == f"{progress}/results.jsonl")}
    if code != 0 and changed:
        problems.append(f"files written on refusal: {sorted(changed)[:3]}")
    allowed = [os.path.normpath(f"work/{a}") for a in
               ((case.output,) if case.output else ()) + case.writes]

    def inside(k: str) -> bool:
        path = os.path.normpath(k)
        return any(path == a or path.startswith(a + "/")  # the output or in it
                   or (k.endswith("/") and a.startswith(path + "/"))  # a directory made for it
                   for a in allowed)

    outside = {k for k in changed if not inside(k)}
    if code == 0 and outside:
        problems.append(f"wrote outside -o: {sorted(outside)[:3]}")
    return problems


def run_cases(cases: list[Case], root: Path, kill_after: float, jobs: int) -> list[Outcome]:
    pending = list(enumerate(cases))
    running: dict[int, tuple[int, Case, Path, float, dict[str, str]]] = {}
    results: dict[int, Outcome] = {}
    while pending or running:
        while pending and len(running) < jobs:
            i, case = pending.pop(0)
            if "--timeout" not in case.argv and case.argv[:2] != ["mac", "import"]:
                case.argv = [*case.argv, "--timeout", "20"]
            box = root / f"c{i}"
            work = _prepare(case, box)
            before = _snapshot(box)
            running[_start(case, work)] = (i, case, box, time.monotonic(), before)
        time.sleep(0.01)
        for pid, (i, case, box, t0, before) in list(running.items()):
            done, status = os.waitpid(pid, os.WNOHANG)
            late = time.monotonic() - t0 > kill_after
            if not done and not late:
                continue
            if not done:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    pass
                os.waitpid(pid, 0)
                code = None
            else:
                code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else \
                    128 + os.WTERMSIG(status)
            _release(box)
            stdout = (box / "stdout").read_text(errors="replace")
            stderr = (box / "stderr").read_text(errors="replace")
            (box / "stdout").unlink()
            (box / "stderr").unlink()
            after = _snapshot(box)
            results[i] = Outcome(case, code, time.monotonic() - t0, stdout, stderr,
                                 _judge(case, code, stdout, stderr, before, after))
            shutil.rmtree(box, ignore_errors=True)
            del running[pid]
    return [results[i] for i in range(len(cases))]


def _release(box: Path) -> None:
    for dirpath, dirnames, _ in os.walk(box):
        for d in dirnames:
            try:
                os.chmod(Path(dirpath) / d, 0o700)
            except OSError:
                pass


def table(summary: dict[str, dict]) -> str:
    head = (f"{'class':<18} {'tried':>6} {'exit 0':>7} {'exit 1':>7} {'exit 2':>7} "
            f"{'mishandled':>11}")
    lines = [head, "-" * len(head)]
    total = dict.fromkeys(("tried", "exit0", "exit1", "exit2", "mishandled"), 0)
    for name, s in summary.items():
        lines.append(f"{name:<18} {s['tried']:>6} {s['exit0']:>7} {s['exit1']:>7} "
                     f"{s['exit2']:>7} {s['mishandled']:>11}")
        for k in total:
            total[k] += s[k]
    lines.append(f"{'total':<18} {total['tried']:>6} {total['exit0']:>7} {total['exit1']:>7} "
                 f"{total['exit2']:>7} {total['mishandled']:>11}")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--classes", default=",".join(CLASSES))
    ap.add_argument("--cases", type=int, help="cases per class (default: DEFAULT_CASES)")
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--kill-after", type=float, default=60.0)
    ap.add_argument("--show", choices=("mishandled", "all"), default="mishandled")
    ap.add_argument("--no-save", action="store_true")
    args = ap.parse_args()
    import actc.api  # noqa: F401 - imported once, before the children fork
    import actc.cli  # noqa: F401
    import actc.schema  # noqa: F401
    import actc.targets  # noqa: F401

    names = [c.strip() for c in args.classes.split(",") if c.strip()]
    summary: dict[str, dict] = {}
    examples: dict[str, list] = {}
    with tempfile.TemporaryDirectory(prefix="actc-fuzz-") as tmp:
        root = Path(tmp)
        base = _compiled(root / "base") if NEEDS_MANIFESTS & set(names) else {}
        for name in names:
            rng = random.Random(f"{args.seed}:{name}")
            n = args.cases or DEFAULT_CASES.get(name, 100)
            gen = CLASSES[name]
            cases = gen(rng, n, base) if name in NEEDS_MANIFESTS else gen(rng, n)
            t0 = time.monotonic()
            outcomes = run_cases(cases, root / name.replace("/", "_"), args.kill_after,
                                 args.jobs)
            s = {"tried": len(outcomes),
                 "exit0": sum(o.code == 0 for o in outcomes),
                 "exit1": sum(o.code == 1 for o in outcomes),
                 "exit2": sum(o.code == 2 for o in outcomes),
                 "mishandled": sum(bool(o.problems) for o in outcomes),
                 "seconds": round(time.monotonic() - t0, 1),
                 "max_case_seconds": round(max(o.seconds for o in outcomes), 1)}
            summary[name] = s
            bad = [o for o in outcomes if o.problems or args.show == "all"]
            examples[name] = [{"argv": o.case.argv, "note": o.case.note, "code": o.code,
                               "problems": o.problems, "stderr": o.stderr[-600:]}
                              for o in bad if o.problems][:50]
            print(f"{name}: {s}", flush=True)
            for o in bad:
                print(f"  {o.problems or 'ok'} exit {o.code} {o.seconds:.1f}s: "
                      f"{json.dumps(o.case.argv)[:160]} [{o.case.note[:60]!r}]\n"
                      f"    {o.stderr.strip()[-400:]!r}", flush=True)
    text = table(summary)
    print(text)
    if not args.no_save:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "fuzz.json").write_text(json.dumps(
            {"seed": args.seed, "kill_after_s": args.kill_after, "command_timeout_s": 20,
             "jobs": args.jobs, "classes": summary, "mishandled_examples": examples},
            indent=1) + "\n")
        (RESULTS / "fuzz.txt").write_text(
            f"python benchmarks/fuzz.py --seed {args.seed} (shared 2-core machine; each case "
            f"a forked `actc` command with --timeout 20, killed at {args.kill_after:g} s)\n\n"
            + text + "\n")
    return 1 if any(s["mishandled"] for s in summary.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
