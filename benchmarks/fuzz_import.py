"""Hostile and careless inputs to `actc mac import` (and `actc mac compile --multiplier
table:...`), each run through the real command line under a time limit.

    python benchmarks/fuzz_import.py [--jobs N] [--only CLASS,...] [--list]

Classes (issue 16 section 2, issue 17): hangs, forks, huge ports, file writes, prints, early
exits, crashes, memory, syntax errors, wrong widths, binary junk, huge files, wrong signedness,
module-name clashes, bad options, tables. Every case runs in a fresh, otherwise empty working
directory, with its own TMPDIR beside it (not above it), an environment mark to find any
process it leaves behind, and half of the cases with an existing ``-o`` directory holding a
file that must survive. A case is **mishandled** when:

- stderr holds a Python traceback, or the exit code is neither 0 nor 2;
- it runs past its limit (the ``--timeout`` it was given plus 60 s for Python, metrics and
  the emitted files);
- exit 2 with other than exactly one line on stderr, or with ``-o`` changed;
- exit 0 without the manifest in ``-o``;
- a file appears in the working directory outside ``-o``, or is left in its TMPDIR;
- a process started by the case is still running afterwards (it is then killed).

What the sandbox documents it does not stop (writes by absolute path or through more than one
``..``, a process that clears its environment) is not tried. The table goes to
benchmarks/results/fuzz_import.txt (and .json with every case). Seeded (random junk from
numpy seed 0); the time column is wall clock on a shared 2-core machine.

The case list is reusable: ``cases()`` returns them and ``run_case(case, root)`` runs one.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
EVO = ROOT / "tests" / "fixtures" / "evoapproxlib"
FIXTURES = ROOT / "tests" / "fixtures"
MARGIN = 60.0


@dataclass
class Case:
    klass: str
    name: str
    files: dict[str, str | bytes]
    args: list[str]  # after "actc"; FILE names are relative to the working directory
    timeout: float = 3.0
    keep_out: bool = False  # -o exists beforehand with a file in it
    extra_files: dict[str, Path] = field(default_factory=dict)  # copied in


# --- circuits ------------------------------------------------------------------------------

def c_mul(body: str, head: str = "", name: str = "mul", ret: str = "int",
          params: str = "int a, int b") -> str:
    return f"#include <stdio.h>\n#include <stdlib.h>\n#include <unistd.h>\n{head}\n" \
           f"{ret} {name}({params})\n{{\n{body}\n}}\n"


def v_mul(body: str, ports: str = "input [7:0] A, input [7:0] B, output [15:0] O",
          name: str = "mul", extra: str = "") -> str:
    return f"module {name} ({ports});\n{body}\nendmodule\n{extra}"


EXACT_V = "    assign O = A * B;"
EXACT_C = "    return a * b;"


def imp(file: str, *args: str) -> list[str]:
    return ["mac", "import", file, *args]


def cases() -> list[Case]:  # noqa: C901 - one flat list of cases is the clearest form
    out: list[Case] = []

    def add(klass: str, name: str, files: dict, args: list[str], timeout: float = 3.0,
            **kw) -> None:
        out.append(Case(klass, name, files, args, timeout, **kw))

    widths = [["--bits", "8"], ["--bits", "4"]]

    # hangs
    c_hangs = {
        "while1": "    while (1) { }\n    return a * b;",
        "for_ever": "    for (;;) { }\n    return 0;",
        "hang_on_pair": "    if (a == 5 && b == 3) while (1) { }\n    return a * b;",
        "sleep": "    if (a == 1) sleep(1000);\n    return a * b;",
        "pause": "    if (a == 2 && b == 2) pause();\n    return a * b;",
        "spin_volatile": "    volatile unsigned long k = 0;\n    while (k != 1) k += 2;\n"
                         "    return a * b;",
        "select_forever": "    if (a == 7) select(0, 0, 0, 0, 0);\n    return a * b;",
        "read_stdin": "    char c;\n    if (a == 0 && b == 0) while (read(0, &c, 1) >= 0) { }\n"
                      "    return a * b;",
    }
    for key, body in c_hangs.items():
        for w in widths:
            head = "#include <sys/select.h>" if "select" in key else ""
            add("hang", f"c_{key}_{w[1]}", {"mul.c": c_mul(body, head)},
                imp("mul.c", *w, "--timeout", "2"), 2.0)
    v_hangs = {
        "initial_while": "    initial begin while (1) begin end end",
        "initial_forever": "    reg x;\n    initial forever x = ~x;",
        "always_no_event": "    reg y;\n    always y = ~y;",
        "big_loop": "    integer i;\n    initial for (i = 0; i >= 0; i = i + 1) begin end",
        "always_at_a_loop": "    reg z;\n    always @(A) begin while (A == 8'd9) z = ~z; end",
        "oscillator_fast": "    reg c = 0;\n    always #0.001 c = ~c;",
    }
    for key, body in v_hangs.items():
        for w in (["--bits", "8"],):
            for t in ("2", "3"):
                add("hang", f"v_{key}_t{t}", {"mul.v": v_mul(EXACT_V + "\n" + body)},
                    imp("mul.v", *w, "--timeout", t), float(t))
    add("hang", "c_include_dev_zero", {"mul.c": '#include "/dev/zero"\nint mul(int a, int b) '
                                                "{ return a * b; }\n"},
        imp("mul.c", "--bits", "8", "--timeout", "3"), 3.0)
    add("hang", "v_include_dev_zero", {"mul.v": '`include "/dev/zero"\n' + v_mul(EXACT_V)},
        imp("mul.v", "--bits", "8", "--timeout", "3"), 3.0)

    # forks
    forks = {
        "hold_pipe": "    static int f;\n    if (!f) { f = 1; if (fork() == 0) { sleep(100); "
                     "_exit(0); } }\n    return a * b;",
        "wait_forever": "    if (a == 1 && b == 1) { if (fork() == 0) for (;;) { } wait(0); }\n"
                        "    return a * b;",
        "setsid_daemon": "    static int f;\n    if (!f) { f = 1; if (fork() == 0) { setsid(); "
                         "sleep(100); _exit(0); } }\n    return a * b;",
        "double_fork": "    static int f;\n    if (!f) { f = 1; if (fork() == 0) { if (fork() "
                       "== 0) { setsid(); sleep(100); } _exit(0); } }\n    return a * b;",
        "system_background": "    static int f;\n    if (!f) { f = 1; system(\"sleep 100 &\"); }\n"
                             "    return a * b;",
        "popen_sleep": "    static int f;\n    if (!f) { f = 1; popen(\"sleep 100\", \"r\"); }\n"
                       "    return a * b;",
        "fifty_children": "    static int f;\n    if (!f) { int k; f = 1; for (k = 0; k < 50; k++) "
                          "if (fork() == 0) { sleep(100); _exit(0); } }\n    return a * b;",
        "child_prints": "    static int f;\n    if (!f) { f = 1; if (fork() == 0) { for (;;) "
                        "puts(\"child\"); } }\n    return a * b;",
        "daemon": "    static int f;\n    if (!f) { f = 1; if (daemon(1, 1) != 0) return 0; }\n"
                  "    return a * b;",
    }
    for key, body in forks.items():
        for w in widths:
            add("fork", f"c_{key}_{w[1]}", {"mul.c": c_mul(body, "#include <sys/wait.h>")},
                imp("mul.c", *w, "--timeout", "4"), 4.0)

    # huge ports
    for bits in (65, 100, 4096, 1_000_000, 100_000_000):
        add("huge ports", f"v_out_{bits}", {"mul.v": v_mul(
            EXACT_V, f"input [7:0] A, input [7:0] B, output [{bits - 1}:0] O")},
            imp("mul.v", "--bits", "8", "--timeout", "10"), 10.0)
        add("huge ports", f"v_in_{bits}", {"mul.v": v_mul(
            "    assign O = A[7:0] * B;", f"input [{bits - 1}:0] A, input [7:0] B, "
            "output [15:0] O")}, imp("mul.v", "--bits", "8", "--timeout", "10"), 10.0)
        add("huge ports", f"v_param_{bits}", {"mul.v": (
            f"module mul #(parameter W = {bits}) (input [7:0] A, input [7:0] B, "
            "output [W-1:0] O);\n    assign O = A * B;\nendmodule\n")},
            imp("mul.v", "--bits", "8", "--timeout", "10"), 10.0)
        add("huge ports", f"v_extra_{bits}", {"mul.v": v_mul(
            EXACT_V, f"input [7:0] A, input [7:0] B, output [15:0] O, input [{bits - 1}:0] X")},
            imp("mul.v", "--bits", "8", "--ports", "A,B,O", "--timeout", "10"), 10.0)
    add("huge ports", "v_out_64_ok", {"mul.v": v_mul(
        EXACT_V, "input [7:0] A, input [7:0] B, output [63:0] O")}, imp("mul.v", "--bits", "8"))
    add("huge ports", "v_1000_inputs", {"mul.v": v_mul(
        EXACT_V, "input [7:0] A, input [7:0] B, output [15:0] O, "
        + ", ".join(f"input i{k}" for k in range(1000)))},
        imp("mul.v", "--bits", "8", "--ports", "A,B,O"))

    # file writes (relative paths, one "..", the temporary directory)
    writes = {
        "fopen": "    static int f;\n    if (!f) { FILE *h = fopen(\"x.txt\", \"w\"); f = 1; "
                 "if (h) { fputs(\"x\", h); fclose(h); } }\n    return a * b;",
        "fopen_every_pair": "    FILE *h = fopen(\"log.txt\", \"a\");\n    if (h) { fprintf(h, "
                            "\"%d %d\\n\", a, b); fclose(h); }\n    return a * b;",
        "system_touch": "    static int f;\n    if (!f) { f = 1; system(\"touch s.txt; mkdir -p "
                        "d/e; touch d/e/f\"); }\n    return a * b;",
        "parent_dir": "    static int f;\n    if (!f) { FILE *h = fopen(\"../up.txt\", \"w\"); "
                      "f = 1; if (h) fclose(h); }\n    return a * b;",
        "tmpfile": "    static int f;\n    if (!f) { f = 1; FILE *h = tmpfile(); if (h) "
                   "fputs(\"t\", h); system(\"touch $TMPDIR/tmp.txt\"); }\n    return a * b;",
        "big_file": "    static int f;\n    if (!f) { FILE *h = fopen(\"big.bin\", \"w\"); long k;"
                    " f = 1; for (k = 0; h && k < (1L << 40); k++) fputc(1, h); }\n"
                    "    return a * b;",
        "chmod_dir": "    static int f;\n    if (!f) { f = 1; system(\"mkdir ro && touch ro/x && "
                     "chmod 0 ro\"); }\n    return a * b;",
        "unlink_results": "    static int f;\n    if (!f) { f = 1; system(\"rm -f "
                          "actc_import_*.bin\"); }\n    return a * b;",
    }
    for key, body in writes.items():
        for w in widths:
            add("file writes", f"c_{key}_{w[1]}", {"mul.c": c_mul(body)},
                imp("mul.c", *w, "--timeout", "5"), 5.0, keep_out=w[1] == "4")
    v_writes = {
        "fopen": "    integer f;\n    initial begin f = $fopen(\"v.txt\", \"w\"); "
                 "$fdisplay(f, \"x\"); $fclose(f); end",
        "fopen_parent": "    integer f;\n    initial begin f = $fopen(\"../v.txt\", \"w\"); "
                        "$fclose(f); end",
        "fopen_each_change": "    integer f;\n    initial f = $fopen(\"log.txt\", \"w\");\n"
                             "    always @(A or B) $fdisplay(f, \"%d %d\", A, B);",
        "dumpfile": "    initial begin $dumpfile(\"w.vcd\"); $dumpvars; end",
        "writememh": "    reg [7:0] m [0:3];\n    initial $writememh(\"m.hex\", m);",
        "overwrite_results": "    integer f;\n    initial begin #150 f = $fopen("
                             "\"actc_import.hex\", \"w\"); $fclose(f); end",
    }
    for key, body in v_writes.items():
        for w in (["--bits", "8"], ["--bits", "4"]):
            ports = "input [3:0] A, input [3:0] B, output [7:0] O" if w[1] == "4" else \
                "input [7:0] A, input [7:0] B, output [15:0] O"
            add("file writes", f"v_{key}_{w[1]}", {"mul.v": v_mul(EXACT_V + "\n" + body, ports)},
                imp("mul.v", *w, "--timeout", "20"), 20.0, keep_out=w[1] == "8")

    # prints
    prints = {
        "printf": "    printf(\"%d x %d\\n\", a, b);\n    return a * b;",
        "stderr": "    fprintf(stderr, \"warn %d\\n\", a);\n    return a * b;",
        "write_raw": "    write(1, \"\\0\\1\\2binary\", 9);\n    return a * b;",
        "megabyte_lines": "    static int f;\n    if (!f) { int k; f = 1; for (k = 0; k < 100000; "
                          "k++) puts(\"0123456789012345678901234567890123456789\"); }\n"
                          "    return a * b;",
        "close_stdout": "    fclose(stdout);\n    fclose(stderr);\n    return a * b;",
        "fake_result": "    printf(\"%d\\n\", 12345);\n    return a * b;",
        "escape_codes": "    fputs(\"\\033[2J\\033[31mred\", stderr);\n    return a * b;",
        "dup_over_stdout": "    static int f;\n    if (!f) { f = 1; dup2(2, 1); }\n"
                           "    return a * b;",
    }
    for key, body in prints.items():
        for w in widths:
            add("prints", f"c_{key}_{w[1]}", {"mul.c": c_mul(body)},
                imp("mul.c", *w, "--timeout", "10"), 10.0)
    for key, body in {"display": "    always @(A or B) $display(\"%d %d\", A, B);",
                      "write": "    always @(B) $write(\"x\");",
                      "monitor": "    initial $monitor(\"%d\", O);",
                      "strobe": "    always @(A) $strobe(\"s\");"}.items():
        add("prints", f"v_{key}", {"mul.v": v_mul(EXACT_V + "\n" + body)},
            imp("mul.v", "--bits", "8", "--timeout", "20"), 20.0)

    # early exits and crashes
    exits = {
        "exit0": ("early exits", "    if (a == 3 && b == 7) exit(0);\n    return a * b;"),
        "exit1": ("early exits", "    if (a == 9) exit(1);\n    return a * b;"),
        "exit97": ("early exits", "    if (b == 2) exit(97);\n    return a * b;"),
        "_exit0": ("early exits", "    if (a == 1) _exit(0);\n    return a * b;"),
        "abort": ("crashes", "    if (a == 11) abort();\n    return a * b;"),
        "segv": ("crashes", "    if (a == 12) { volatile int *p = 0; *p = 1; }\n"
                            "    return a * b;"),
        "fpe": ("crashes", "    volatile int z = 0;\n    if (a == 13) return b / z;\n"
                           "    return a * b;"),
        "stack": ("crashes", "    volatile char big[1 << 20];\n    big[0] = (char)a;\n"
                             "    return a == 14 ? mul(a, b) + big[0] : a * b;"),
        "raise_kill": ("crashes", "    if (b == 15) raise(9);\n    return a * b;"),
        "raise_term": ("crashes", "    if (b == 14) raise(15);\n    return a * b;"),
        "kill_group": ("crashes", "    if (a == 3) kill(0, 9);\n    return a * b;"),
        "close_all_fds": ("crashes", "    int k;\n    for (k = 3; k < 64; k++) close(k);\n"
                                     "    return a * b;"),
    }
    for key, (klass, body) in exits.items():
        for w in widths:
            add(klass, f"c_{key}_{w[1]}", {"mul.c": c_mul(body, "#include <signal.h>")},
                imp("mul.c", *w, "--timeout", "10"), 10.0, keep_out=key.endswith("0"))
    for key, body in {"finish_at_0": "    initial $finish;",
                      "finish_later": "    initial #777 $finish;",
                      "stop": "    initial #300 $stop;",
                      "fatal": "    initial #200 $fatal;",
                      "finish_on_value": "    always @(A) if (A == 8'd77) $finish;"}.items():
        add("early exits", f"v_{key}", {"mul.v": v_mul(EXACT_V + "\n" + body)},
            imp("mul.v", "--bits", "8", "--timeout", "20"), 20.0)

    # memory
    mem = {
        "malloc_8g": "    static char *p;\n    if (!p) { p = malloc((size_t)1 << 33); if (p) "
                     "p[(size_t)1 << 32] = 1; }\n    return a * b;",
        "malloc_loop": "    static int f;\n    if (!f) { f = 1; while (malloc(1 << 20)) { } }\n"
                       "    return a * b;",
        "touch_all": "    static int f;\n    if (!f) { char *p; f = 1; while ((p = malloc(1 << "
                     "24))) { int k; for (k = 0; k < (1 << 24); k += 4096) p[k] = 1; } }\n"
                     "    return a * b;",
        "leak_per_pair": "    malloc(1 << 16);\n    return a * b;",
    }
    for key, body in mem.items():
        for m in ("512", "2048"):
            add("memory", f"c_{key}_{m}", {"mul.c": c_mul(body)},
                imp("mul.c", "--bits", "8", "--memory", m, "--timeout", "20"), 20.0)
    add("memory", "v_huge_memory", {"mul.v": v_mul(
        EXACT_V + "\n    reg [63:0] m [0:(1<<30)-1];\n    initial m[5] = 1;")},
        imp("mul.v", "--bits", "8", "--memory", "1024", "--timeout", "20"), 20.0)

    # syntax errors
    c_bad = {
        "missing_semicolon": "int mul(int a, int b) { return a * b }\n",
        "unbalanced": "int mul(int a, int b) { return a * b;\n",
        "undefined": "int mul(int a, int b) { return a * c; }\n",
        "error_directive": "#error stop here\nint mul(int a, int b) { return a * b; }\n",
        "missing_include": '#include "nowhere.h"\nint mul(int a, int b) { return a * b; }\n',
        "void_return": "void mul(int a, int b) { }\n",
        "pointer_params": "int mul(int *a, int *b) { return *a * *b; }\n",
        "struct_return": "struct s { int v; };\nstruct s mul(int a, int b) { struct s r = "
                         "{a * b}; return r; }\n",
        "main_defined": "int mul(int a, int b) { return a * b; }\nint main(void) { return 3; }\n",
        "macro_function": "#define mul(a, b) ((a) * (b))\n",
        "no_function": "int x = 3;\n",
        "keyword_names": "int mul(int if, int b) { return b; }\n",
        "kr_style": "int mul(a, b) int a; int b; { return a * b; }\n",
        "static_inline": "static inline int mul(int a, int b) { return a * b; }\n",
        "two_functions": "int f(int a, int b) { return a * b; }\nint g(int a, int b) "
                         "{ return a + b; }\n",
        "variadic": "int mul(int a, ...) { return a; }\n",
        "cpp_code": "template <typename T> T mul(T a, T b) { return a * b; }\n",
        "float_result": "double mul(int a, int b) { return a * b * 0.5; }\n",
        "huge_result": "long long mul(int a, int b) { return (long long)a * b * 100000; }\n",
        "negative_result": "int mul(int a, int b) { return -a * b - 100000; }\n",
    }
    for key, text in c_bad.items():
        add("syntax errors", f"c_{key}", {"mul.c": text}, imp("mul.c", "--bits", "8"),
            keep_out=len(key) % 2 == 0)
    v_bad = {
        "missing_endmodule": "module mul (input [7:0] A, input [7:0] B, output [15:0] O);\n"
                             "assign O = A * B;\n",
        "bad_token": v_mul("    assign O = A ** * B;"),
        "unknown_instance": v_mul("    nothere u (.x(A));\n" + EXACT_V),
        "missing_include": '`include "nowhere.vh"\n' + v_mul(EXACT_V),
        "no_module": "// nothing here\n",
        "duplicate_module": v_mul(EXACT_V) + v_mul(EXACT_V),
        "keyword_port": "module mul (input [7:0] A, input [7:0] B, output [15:0] begin);\n"
                        "endmodule\n",
        "systemverilog": "module mul (input logic [7:0] A, input logic [7:0] B, output logic "
                         "[15:0] O);\n  always_comb O = A * B;\nendmodule\n",
        "undriven": v_mul(""),
        "partly_x": v_mul("    assign O = {A[0] ? 8'bx : 8'd0, A * B};"),
        "comment_only_module": "/* module mul (input a); endmodule */\n",
        "escaped_names": "module \\mul$ (input [7:0] \\A , input [7:0] B, output [15:0] O);\n"
                         "  assign O = \\A * B;\nendmodule\n",
        "nested_comment": "/* a /* b */ */\n" + v_mul(EXACT_V),
        "macro_module": "`define M mul\nmodule `M (input [7:0] A, input [7:0] B, output [15:0] O"
                        ");\n  assign O = A * B;\nendmodule\n",
        "inout_ports": v_mul("    assign O = A * B;", "inout [7:0] A, inout [7:0] B, "
                             "output [15:0] O"),
        "reg_output_no_driver": v_mul("    initial O = 0;", "input [7:0] A, input [7:0] B, "
                                      "output reg [15:0] O"),
        "delay_output": v_mul("    assign #5 O = A * B;"),
        "long_delay_output": v_mul("    assign #500 O = A * B;"),
    }
    for key, text in v_bad.items():
        add("syntax errors", f"v_{key}", {"mul.v": text},
            imp("mul.v", "--bits", "8", "--timeout", "30"), 30.0, keep_out=len(key) % 2 == 1)

    # wrong widths and ports
    ww = [
        ("v_bits4_for_8", {"mul.v": v_mul(EXACT_V)}, ["--bits", "4"]),
        ("v_bits12_for_8", {"mul.v": v_mul(EXACT_V)}, ["--bits", "12"]),
        ("v_a6_b8", {"mul.v": v_mul(EXACT_V)}, ["--a-bits", "6", "--b-bits", "8"]),
        ("v_narrow_out", {"mul.v": v_mul(EXACT_V, "input [7:0] A, input [7:0] B, "
                                         "output [14:0] O")}, ["--bits", "8"]),
        ("v_three_inputs", {"mul.v": v_mul(EXACT_V, "input [7:0] A, input [7:0] B, input C, "
                                           "output [15:0] O")}, ["--bits", "8"]),
        ("v_no_output", {"mul.v": v_mul("", "input [7:0] A, input [7:0] B")}, ["--bits", "8"]),
        ("v_two_outputs", {"mul.v": v_mul(EXACT_V + "\n    assign P = 0;", "input [7:0] A, "
                                          "input [7:0] B, output [15:0] O, output P")},
         ["--bits", "8"]),
        ("v_ports_unknown", {"mul.v": v_mul(EXACT_V)}, ["--bits", "8", "--ports", "X,Y,Z"]),
        ("v_ports_two", {"mul.v": v_mul(EXACT_V)}, ["--bits", "8", "--ports", "A,B"]),
        ("v_ports_swapped_dir", {"mul.v": v_mul(EXACT_V)}, ["--bits", "8", "--ports", "O,B,A"]),
        ("v_ports_repeated", {"mul.v": v_mul(EXACT_V)}, ["--bits", "8", "--ports", "A,A,O"]),
        ("v_ports_reordered", {"mul.v": v_mul(EXACT_V)}, ["--bits", "8", "--ports", "B,A,O"]),
        ("v_module_unknown", {"mul.v": v_mul(EXACT_V)}, ["--bits", "8", "--module", "nope"]),
        ("c_one_param", {"mul.c": "int mul(int a) { return a; }\n"}, ["--bits", "8"]),
        ("c_three_params", {"mul.c": "int mul(int a, int b, int c) { return a * b; }\n"},
         ["--bits", "8"]),
        ("c_ports_wrong", {"mul.c": c_mul(EXACT_C)}, ["--bits", "8", "--ports", "x,y"]),
        ("c_ports_three", {"mul.c": c_mul(EXACT_C)}, ["--bits", "8", "--ports", "a,b,c"]),
        ("c_function_unknown", {"mul.c": c_mul(EXACT_C)}, ["--bits", "8", "--function", "f"]),
        ("c_out_of_range", {"mul.c": c_mul("    return a * b * 3;")}, ["--bits", "8"]),
        ("c_bits_10", {"mul.c": c_mul(EXACT_C)}, ["--bits", "10", "--target", "python"]),
    ]
    for bits in ("0", "3", "13", "17", "-1", "999999999999", "x", "8.5"):
        ww.append((f"c_bits_{bits}", {"mul.c": c_mul(EXACT_C)}, ["--bits", bits]))
    ww += [("c_a_only", {"mul.c": c_mul(EXACT_C)}, ["--a-bits", "8"]),
           ("c_bits_and_a", {"mul.c": c_mul(EXACT_C)}, ["--bits", "8", "--a-bits", "8"]),
           ("c_a12_b16", {"mul.c": c_mul(EXACT_C)}, ["--a-bits", "12", "--b-bits", "16"]),
           ("c_a12_b4", {"mul.c": c_mul(EXACT_C)}, ["--a-bits", "12", "--b-bits", "4"]),
           ("c_a4_b12", {"mul.c": c_mul(EXACT_C)}, ["--a-bits", "4", "--b-bits", "12"])]
    for key, files, args in ww:
        timeout = 60.0 if "--timeout" in args else 30.0
        targs = [] if "--timeout" in args else ["--timeout", "30"]
        add("wrong widths", key, files, imp(next(iter(files)), *args, *targs), timeout,
            keep_out=len(key) % 2 == 0)

    # binary junk
    rng = np.random.default_rng(0)
    for k in range(16):
        data = rng.integers(0, 256, int(rng.integers(1, 5000)), dtype=np.uint8).tobytes()
        suffix = ".v" if k % 2 else ".c"
        if k % 4 >= 2:  # no NUL bytes: invalid UTF-8 and control characters reach the parser
            data = data.replace(b"\0", b"\1")
        add("binary junk", f"random_{k}{suffix}", {f"junk{suffix}": data},
            imp(f"junk{suffix}", "--bits", "8"), keep_out=k % 3 == 0)
    junk = {
        "empty.v": b"", "empty.c": b"", "spaces.v": b"   \n\t\n", "just_module.v": b"module",
        "bom.v": b"\xef\xbb\xbf" + v_mul(EXACT_V).encode(),
        "crlf.v": v_mul(EXACT_V).replace("\n", "\r\n").encode(),
        "latin1.c": ("/* caf\xe9 */\n" + c_mul(EXACT_C)).encode("latin-1"),
        "utf16.v": v_mul(EXACT_V).encode("utf-16"),
        "png.c": b"\x89PNG\r\n\x1a\n" + bytes(range(1, 256)),
        "elf.v": b"\x7fELF\x02\x01\x01" + b"\x01" * 500,
        "nul_in_comment.c": b"/* \0 */\nint mul(int a, int b) { return a * b; }\n",
        "ansi_escapes.v": b"\x1b[31m" + v_mul(EXACT_V).encode(),
        "newline_name\n.v": v_mul(EXACT_V).encode(),
        "dash-name.v": v_mul(EXACT_V).encode(),
        "UPPER.V": v_mul(EXACT_V).encode(),
        "no_suffix": v_mul(EXACT_V).encode(),
        "wrong_suffix.sv": v_mul(EXACT_V).encode(),
        "verilog_in.c": v_mul(EXACT_V).encode(),
        "c_in.v": c_mul(EXACT_C).encode(),
    }
    for fname, data in junk.items():
        add("binary junk", fname.replace("\n", "\\n"), {fname: data},
            imp(fname, "--bits", "8"))

    # huge files
    comment_v = "// " + "x" * 1000 + "\n"
    add("huge files", "v_17mb_comments", {"mul.v": comment_v * 17_500 + v_mul(EXACT_V)},
        imp("mul.v", "--bits", "8"))
    add("huge files", "c_17mb_comments", {"mul.c": comment_v * 17_500 + c_mul(EXACT_C)},
        imp("mul.c", "--bits", "8"), keep_out=True)
    add("huge files", "v_10mb_comments_ok", {"mul.v": comment_v * 10_000 + v_mul(EXACT_V)},
        imp("mul.v", "--bits", "8", "--timeout", "60"), 60.0)
    add("huge files", "c_200k_statements", {"mul.c": c_mul(
        "    volatile int s = 0;\n" + "    s += a;\n" * 200_000 + "    return a * b;")},
        imp("mul.c", "--bits", "4", "--timeout", "5"), 5.0)
    add("huge files", "v_20k_modules", {"mul.v": "".join(
        f"module m{k} (input x, output y); assign y = x; endmodule\n" for k in range(20_000))
        + v_mul(EXACT_V)}, imp("mul.v", "--bits", "8", "--module", "mul", "--timeout", "30"),
        30.0)
    add("huge files", "v_deep_instances", {"mul.v": "".join(
        f"module m{k} (input x, output y); m{k + 1} u (.x(x), .y(y)); endmodule\n"
        for k in range(2000)) + "module m2000 (input x, output y); assign y = x; endmodule\n"
        + v_mul(EXACT_V)}, imp("mul.v", "--bits", "8", "--timeout", "30"), 30.0)
    add("huge files", "c_1mb_line", {"mul.c": "int mul(int a, int b) { return a * b" +
                                     " + 0" * 250_000 + "; }\n"},
        imp("mul.c", "--bits", "4", "--timeout", "10"), 10.0)

    # wrong signedness (real EvoApproxLib circuits and the repository's own fixtures)
    evo = {f.name: f for f in EVO.glob("mul8*")}
    for fname in sorted(evo):
        for flag in ([], ["--signed"], ["--unsigned"]):
            add("wrong signedness", f"{fname}{''.join(flag)}", {}, imp(fname, "--bits", "8",
                *flag, "--timeout", "30"), 30.0, extra_files={fname: evo[fname]},
                keep_out=bool(flag))
    for fname in ("loa_mul_signed.c", "loa_mul.v"):
        for flag in ([], ["--signed"], ["--unsigned"]):
            add("wrong signedness", f"{fname}{''.join(flag)}", {}, imp(fname, "--bits", "8",
                *flag), extra_files={fname: FIXTURES / fname})

    # module-name clashes
    helper = "module h (input x, output y); assign y = x; endmodule\n"
    top_with_helper = v_mul("    wire t;\n    h u (.x(A[0]), .y(t));\n" + EXACT_V, extra=helper)
    for name in ("mul", "h", "mul_imported__mul", "actc_import_tb", "actc_probe", "dut",
                 "mul_imported", "core", "module", "wire", "9lives", "a" * 64, "evil;rm",
                 "../x", "x__y", "_x", "ÿ"):
        add("module-name clashes", f"name_{name[:12]}", {"mul.v": top_with_helper},
            imp("mul.v", "--bits", "8", "--name", name), keep_out=name == "h")
    for mod in ("actc_import_tb", "actc_probe", "dut", "o", "i", "f", "a", "b"):
        add("module-name clashes", f"module_{mod}", {"mul.v": v_mul(EXACT_V, name=mod)
                                                     .replace("module mul", f"module {mod}")},
            imp("mul.v", "--bits", "8"))
    add("module-name clashes", "module_named_like_port", {"mul.v": v_mul(
        "    wire [15:0] mul = A * B;\n    assign O = mul;")}, imp("mul.v", "--bits", "8"))
    add("module-name clashes", "two_roots", {"mul2.v": v_mul(EXACT_V, name="p")
                                             + v_mul(EXACT_V, name="q")},
        imp("mul2.v", "--bits", "8"))
    add("module-name clashes", "case_twins", {"mul.v": v_mul(EXACT_V, name="Mul")
                                              + v_mul(EXACT_V, name="mul")},
        imp("mul.v", "--bits", "8"))
    add("module-name clashes", "helper_named_like_file", {"h.v": top_with_helper},
        imp("h.v", "--bits", "8"))
    add("module-name clashes", "testbench_in_file", {"mul.v": v_mul(EXACT_V) +
                                                     "module tb; mul d (); initial $finish; "
                                                     "endmodule\n"},
        imp("mul.v", "--bits", "8"))
    add("module-name clashes", "c_main_and_mul", {"mul.c": c_mul(EXACT_C) +
                                                  "int main(int argc, char **argv) "
                                                  "{ return 0; }\n"},
        imp("mul.c", "--bits", "8"))
    add("module-name clashes", "c_harness_names", {"mul.c": c_mul(
        "    int actc_i = 0, actc_out = 1;\n    return a * b + actc_i * actc_out;")},
        imp("mul.c", "--bits", "8"))

    # bad options and destinations
    ok_v = {"mul.v": v_mul(EXACT_V)}
    for key, args in {
        "timeout_0": ["--timeout", "0"], "timeout_neg": ["--timeout", "-1"],
        "timeout_nan": ["--timeout", "nan"], "timeout_inf": ["--timeout", "inf"],
        "timeout_huge": ["--timeout", "1e308"], "timeout_text": ["--timeout", "soon"],
        "timeout_tiny": ["--timeout", "0.001"], "memory_0": ["--memory", "0"],
        "memory_10": ["--memory", "10"], "memory_huge": ["--memory", "99999999999"],
        "memory_64": ["--memory", "64"],
        "lanes_0": ["--lanes", "0"], "lanes_65": ["--lanes", "65"], "lanes_4": ["--lanes", "4"],
        "acc_without": ["--acc-bits", "40"], "acc_small": ["--accumulate", "--acc-bits", "8"],
        "acc_ok": ["--accumulate"], "target_vhdl": ["--target", "vhdl"],
        "registered_acc": ["--accumulate", "--registered"], "registered": ["--registered"],
        "signed_and_unsigned": ["--signed", "--unsigned"], "unknown_flag": ["--frobnicate"],
        "function_for_v": ["--function", "mul"],
    }.items():
        add("bad options", key, ok_v, imp("mul.v", "--bits", "8", *args),
            timeout=3.0 if "timeout" not in key else 1.0, keep_out=len(key) % 2 == 0)
    add("bad options", "missing_file", {}, imp("none.v", "--bits", "8"))
    add("bad options", "directory_as_file", {"d.v/x": "x"}, imp("d.v", "--bits", "8"))
    add("bad options", "out_is_file", {**ok_v, "outfile": "keep"},
        ["mac", "import", "mul.v", "--bits", "8", "-o", "outfile"])
    add("bad options", "out_dir_in_the_way", {**ok_v, "out/mul_imported.json/x": "keep"},
        ["mac", "import", "mul.v", "--bits", "8", "-o", "out"])
    add("bad options", "out_deep_new", ok_v,
        ["mac", "import", "mul.v", "--bits", "8", "-o", "out/a/b/c"])
    add("bad options", "out_unwritable_parent", ok_v,
        ["mac", "import", "mul.v", "--bits", "8", "-o", "/proc/actc_out"])
    add("bad options", "no_file_argument", {}, ["mac", "import", "--bits", "8"])

    # product tables through mac compile
    arr = np.arange(16)[:, None] * np.arange(16)[None, :]
    np_bytes = {}
    for key, a in {"ok": arr, "neg": -arr, "float": arr * 1.0, "3d": arr[None],
                   "odd": arr[:, :10], "huge": arr * 10 ** 6, "obj": arr.astype(object),
                   "uint64": arr.astype(np.uint64), "bool": arr > 3,
                   "big": np.zeros((8192, 8192), dtype=np.int8)}.items():
        import io

        buf = io.BytesIO()
        np.save(buf, a, allow_pickle=True)
        np_bytes[f"{key}.npy"] = buf.getvalue()
    for fname, data in np_bytes.items():
        for flag in ([], ["--signed"]):
            add("tables", f"npy_{fname}{''.join(flag)}", {fname: data},
                ["mac", "compile", "--multiplier", f"table:{fname}", *flag, "--target",
                 "python"], keep_out=bool(flag))
    for key, spec in {"bare": "table", "v_suffix": "table:mul.v", "missing": "table:none.json",
                      "mixed_case": "table:Dir/Mixed.JSON", "not_manifest": "table:bad.json",
                      "activation": "table:act.json", "dot_dot": "table:../x.npy",
                      "empty_path": "table: ", "json_deep": "table:deep.json"}.items():
        add("tables", f"spec_{key}", {"bad.json": "{\"x\": 1}",
                                      "deep.json": "[" * 100_000 + "]" * 100_000,
                                      "act.json": '{"schema": "actc/1", "design": {}}'},
            ["mac", "compile", "--multiplier", spec, "--target", "python"])
    # the rest of the MAC command line
    import io

    w = io.BytesIO()
    np.save(w, np.array([[1, -2], [3, 4]], dtype=np.int8))
    weights = {"w.npy": w.getvalue(), "junk.npy": b"junk", "empty.npy": b"\x93NUMPY\x01\x00"}
    for key, args in {
        "too_many_args": ["compile", "--multiplier", "drum:4,5,6"],
        "empty_family": ["compile", "--multiplier", ":"],
        "bad_choice": ["compile", "--multiplier", "asm:1,3,tie=sideways"],
        "huge_bits": ["compile", "--bits", "99999999999"],
        "huge_lanes": ["compile", "--lanes", "99999999999"],
        "negative_acc": ["compile", "--accumulate", "--acc-bits", "-1"],
        "negative_k": ["compile", "--multiplier", "truncated:-1"],
        "huge_param": ["compile", "--multiplier", "bam:99999999999999999999,1"],
        "letter_17": ["compile", "--multiplier", "asm:1,3,5,7,9,11,13,15,17"],
        "unicode_family": ["compile", "--multiplier", "drüm:4"],
        "control_chars": ["compile", "--multiplier", "drum:\x1b[2J4"],
        "path_family": ["compile", "--multiplier", "Some/Path.json"],
        "name_reserved": ["compile", "--name", "module"],
        "registered_acc": ["compile", "--accumulate", "--registered"],
        "table_and_bits": ["compile", "--multiplier", "table:w.npy"],
        "encode_junk": ["encode", "junk.npy", "--alphabet", "1,3"],
        "encode_truncated": ["encode", "empty.npy", "--alphabet", "1,3"],
        "encode_bad_alphabet": ["encode", "w.npy", "--alphabet", "2,4"],
        "encode_empty_alphabet": ["encode", "w.npy", "--alphabet", ""],
        "encode_bits_0": ["encode", "w.npy", "--alphabet", "1,3", "--bits", "0"],
        "encode_name": ["encode", "w.npy", "--alphabet", "1,3", "--name", "../x"],
        "encode_missing": ["encode", "nofile.npy", "--alphabet", "1"],
        "report_bits_99": ["report", "--library", "--bits", "99"],
        "report_bits_2": ["report", "--library", "--bits", "2"],
        "no_subcommand": [],
    }.items():
        add("mac cli", key, weights, ["mac", *args, "--target", "python"]
            if args[:1] == ["compile"] else ["mac", *args], keep_out=len(key) % 2 == 0)
    return out


# --- running -------------------------------------------------------------------------------

def _marked(mark: str) -> list[int]:
    needle = f"ACTC_FUZZ={mark}".encode()
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if needle in (d / "environ").read_bytes():
                    pids.append(int(d.name))
            except OSError:
                pass
    return pids


def _snapshot(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def run_case(case: Case, root: Path) -> dict:
    """Run one case in a fresh directory under ``root``; return its record."""
    work = Path(tempfile.mkdtemp(prefix="case-", dir=root))
    tmp = Path(tempfile.mkdtemp(prefix="tmp-", dir=root))
    for name, data in case.files.items():
        p = work / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data if isinstance(data, bytes) else data.encode())
    for name, src in case.extra_files.items():
        shutil.copyfile(src, work / name)
    args = list(case.args)
    if "-o" not in args and case.args[0] == "mac":
        args += ["-o", "out"]
    out = work / args[args.index("-o") + 1] if "-o" in args else None
    if case.keep_out and out is not None and not out.exists():
        out.mkdir(parents=True)
        (out / "keep.txt").write_text("keep")
    before = _snapshot(work)
    out_existed = out is not None and out.exists()
    mark = secrets.token_hex(6)
    env = {**os.environ, "TMPDIR": str(tmp), "ACTC_FUZZ": mark}
    limit = case.timeout + MARGIN
    start = time.monotonic()
    try:
        p = subprocess.run([sys.executable, "-m", "actc", *args], cwd=work, env=env,
                           capture_output=True, timeout=limit, stdin=subprocess.DEVNULL)
        code, stderr = p.returncode, p.stderr.decode(errors="replace")
    except subprocess.TimeoutExpired as exc:
        code, stderr = None, (exc.stderr or b"").decode(errors="replace")
    seconds = time.monotonic() - start
    left = _marked(mark)
    for pid in left:
        try:
            os.kill(pid, 9)
        except OSError:
            pass
    problems = []
    if code is None:
        problems.append(f"over the limit ({limit:g} s)")
    elif code not in (0, 2):
        problems.append(f"exit {code}")
    if "Traceback (most recent call last)" in stderr:
        problems.append("traceback")
    after = _snapshot(work)
    outside = sorted(k for k in set(after) - set(before)
                     if out is None or not (work / k).is_relative_to(out))
    changed = sorted(k for k in set(before) & set(after) if before[k] != after[k])
    if outside:
        problems.append(f"files outside -o: {outside[:3]}")
    if changed and code != 0:
        problems.append(f"changed on refusal: {changed[:3]}")
    if code == 2:
        if stderr.count("\n") != 1 or not stderr.startswith("actc: error: "):
            problems.append(f"{stderr.count(chr(10))} stderr lines")
        made = sorted(set(after) - set(before))
        if made:
            problems.append(f"written on refusal: {made[:3]}")
        if out is not None and out.exists() != out_existed:
            problems.append("-o created on refusal")
    if code == 0 and out is not None and not any(out.glob("*.json")):
        problems.append("exit 0 without a manifest")
    if any(tmp.iterdir()):
        problems.append(f"left in TMPDIR: {[p.name for p in tmp.iterdir()][:3]}")
    if left:
        problems.append(f"{len(left)} processes left running")
    shutil.rmtree(work, ignore_errors=True)
    shutil.rmtree(tmp, ignore_errors=True)
    return {"class": case.klass, "case": case.name, "args": args, "exit": code,
            "seconds": round(seconds, 2), "stderr": stderr[-500:], "problems": problems}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--only", help="comma-separated classes")
    ap.add_argument("--list", action="store_true", help="list the cases and exit")
    args = ap.parse_args()
    todo = cases()
    if args.only:
        keep = set(args.only.split(","))
        todo = [c for c in todo if c.klass in keep]
    if args.list:
        for c in todo:
            print(f"{c.klass:<22}{c.name}")
        print(len(todo), "cases")
        return 0
    root = Path(tempfile.mkdtemp(prefix="actc-fuzz-import-"))
    records = []
    start = time.monotonic()
    with ThreadPoolExecutor(args.jobs) as pool:
        for k, rec in enumerate(pool.map(lambda c: run_case(c, root), todo)):
            records.append(rec)
            flag = "  MISHANDLED " + "; ".join(rec["problems"]) if rec["problems"] else ""
            print(f"[{k + 1}/{len(todo)}] {rec['class']}/{rec['case']}: exit {rec['exit']} "
                  f"{rec['seconds']:.1f} s{flag}", file=sys.stderr, flush=True)
    shutil.rmtree(root, ignore_errors=True)
    classes: dict[str, list[dict]] = {}
    for r in records:
        classes.setdefault(r["class"], []).append(r)
    head = f"{'class':<22}{'tried':>7}{'exit 0':>8}{'exit 2':>8}{'mishandled':>12}{'max s':>8}"
    lines = [head, "-" * len(head)]
    for klass, rs in classes.items():
        lines.append(f"{klass:<22}{len(rs):>7}{sum(r['exit'] == 0 for r in rs):>8}"
                     f"{sum(r['exit'] == 2 for r in rs):>8}"
                     f"{sum(bool(r['problems']) for r in rs):>12}"
                     f"{max(r['seconds'] for r in rs):>8.1f}")
    lines.append("-" * len(head))
    lines.append(f"{'all':<22}{len(records):>7}{sum(r['exit'] == 0 for r in records):>8}"
                 f"{sum(r['exit'] == 2 for r in records):>8}"
                 f"{sum(bool(r['problems']) for r in records):>12}"
                 f"{max(r['seconds'] for r in records):>8.1f}")
    bad = [r for r in records if r["problems"]]
    lines += ["", f"mishandled: {len(bad)}"] + [
        f"  {r['class']}/{r['case']}: {'; '.join(r['problems'])}" for r in bad]
    lines += ["", f"{len(records)} cases in {time.monotonic() - start:.0f} s with {args.jobs} "
              "job(s) on a shared 2-core machine; python benchmarks/fuzz_import.py"]
    text = "\n".join(lines)
    print(text)
    if not args.only:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "fuzz_import.txt").write_text(text + "\n")
        (RESULTS / "fuzz_import.json").write_text(json.dumps(records, indent=1) + "\n")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
