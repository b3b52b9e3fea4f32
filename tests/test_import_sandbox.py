"""actc.sandbox and `actc mac import` against hostile circuits: every case of issue 16 ends
within its time limit with exit 0 or one line and exit 2, and nothing appears in the caller's
working directory or in -o on refusal."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from actc.errors import OutputError
from actc.sandbox import Sandbox, write_all

# --- the sandbox itself --------------------------------------------------------------------


def test_private_directory_is_the_working_directory_and_is_removed():
    with Sandbox(10) as box:
        done = box.run(["sh", "-c", "pwd; echo x > made.txt; echo $TMPDIR"])
        root = box.path
        assert done.ok and done.stdout.split() == [str(root), str(root)]
        assert (root / "made.txt").read_text() == "x\n"
    assert not root.exists() and not root.parent.exists()


def test_time_limit_kills_the_whole_group():
    with Sandbox(1.5) as box:
        start = time.monotonic()
        done = box.run(["sh", "-c", "sleep 60 & sleep 60 & wait"])
        assert done.timed_out and not done.ok
        assert done.how() == "stopped at the 1.5 s time limit"
        assert time.monotonic() - start < 30  # not the 60 or 100 s of the sleeps


def test_budget_is_shared_by_the_runs_of_one_block():
    with Sandbox(1.0) as box:
        first = box.run(["sleep", "5"])
        second = box.run(["true"])
    assert first.timed_out and second.timed_out  # nothing left for the second


def test_a_child_holding_the_pipe_does_not_hang_us(tmp_path):
    pid_file = tmp_path / "child.pid"
    with Sandbox(30) as box:
        start = time.monotonic()
        done = box.run(["sh", "-c", f"sleep 100 & echo $! > {pid_file}; echo parent done"])
        assert done.ok and done.stdout == "parent done\n"
        assert time.monotonic() - start < 30  # not the 60 or 100 s of the sleeps
    assert _gone(int(pid_file.read_text()))  # killed with its group when the parent ended


def _gone(pid):
    for _ in range(100):
        if not Path(f"/proc/{pid}").exists() or \
                Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
            return True
        time.sleep(0.05)
    return False


def test_a_child_that_leaves_the_group_is_killed_too(tmp_path):
    pid_file = tmp_path / "escaped.pid"
    with Sandbox(30) as box:
        done = box.run(["sh", "-c", f"setsid sh -c 'echo $$ > {pid_file}; exec sleep 100' & "
                        "sleep 0.5"])
    assert done.ok
    assert _gone(int(pid_file.read_text()))


def test_captured_output_is_capped_and_the_rest_drained():
    with Sandbox(30, output_bytes=1000) as box:
        done = box.run(["sh", "-c", "head -c 5000000 /dev/zero | tr '\\0' x; echo err >&2"])
    assert done.ok and len(done.stdout) == 1000 and done.truncated
    assert done.stderr == "err\n"


def test_memory_and_file_size_limits():
    with Sandbox(30, memory_bytes=256 << 20) as box:
        done = box.run([sys.executable, "-c", "x = bytearray(1 << 30)"])
        assert done.returncode == 1 and "MemoryError" in done.stderr
        done = box.run(["dd", "if=/dev/zero", "of=big", "bs=1M", "count=8"], file_bytes=1 << 20)
        assert not done.ok and (box.path / "big").stat().st_size <= 1 << 20


def test_a_program_that_cannot_start_is_an_exit_127_not_an_exception():
    with Sandbox(10) as box:
        done = box.run(["/nonexistent/tool"])
    assert done.returncode == 127 and not done.ok
    assert done.first_line().startswith("error: cannot run /nonexistent/tool: [Errno 2]")


def test_signal_death_is_described():
    with Sandbox(10) as box:
        done = box.run(["sh", "-c", "kill -SEGV $$"])
    assert done.how() == "killed by SIGSEGV"


def test_write_all_is_all_or_nothing(tmp_path, monkeypatch):
    out = tmp_path / "out"
    write_all(out, {"a.txt": "old a", "b.txt": "old b"})
    real = os.replace
    calls = []

    def failing(src, dst):
        calls.append(dst)
        if str(dst).endswith("b.txt") and str(src).endswith(".tmp"):
            raise OSError(28, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", failing)
    with pytest.raises(OutputError, match="No space left on device"):
        write_all(out, {"a.txt": "new a", "b.txt": "new b", "c.txt": "new c"})
    monkeypatch.undo()
    assert sorted(p.name for p in out.iterdir()) == ["a.txt", "b.txt"]
    assert (out / "a.txt").read_text() == "old a" and (out / "b.txt").read_text() == "old b"
    (out / "c.txt").mkdir()  # a directory in the way: refused before anything is written
    with pytest.raises(OutputError, match="a directory is in the way"):
        write_all(out, {"a.txt": "new a", "c.txt": "x"})
    assert (out / "a.txt").read_text() == "old a"
    deep = tmp_path / "x" / "y"
    write_all(deep, {"f": "1"})
    assert (deep / "f").read_text() == "1"


# --- hostile circuits through the CLI -------------------------------------------------------

def run_import(cwd, source_name, source, *args, limit=30):
    """Run actc mac import on a circuit written into an otherwise empty directory; return
    (exit code, stdout, stderr, seconds, files now in the directory besides the source)."""
    cwd.mkdir(exist_ok=True)
    (cwd / source_name).write_text(source)
    start = time.monotonic()
    p = subprocess.run([sys.executable, "-m", "actc", "mac", "import", source_name, *args,
                        "-o", "out"], cwd=cwd, capture_output=True, text=True, timeout=limit)
    left = sorted(str(f.relative_to(cwd)) for f in cwd.rglob("*")
                  if f.name != source_name and not f.is_relative_to(cwd / "out"))
    return p.returncode, p.stdout, p.stderr, time.monotonic() - start, left


def refused(result, message):
    code, out, err, _, left = result
    assert code == 2 and out == "" and err.count("\n") == 1, (code, out, err)
    assert err.startswith("actc: error: " + message), err
    assert left == [], left


C_HANG = "int mul(int a, int b) { while (1) { } return a * b; }\n"
C_FORK_HOLD = """#include <unistd.h>
int mul(int a, int b)
{
    static int forked;
    if (!forked) { forked = 1; if (fork() == 0) { sleep(100); _exit(0); } }
    return a * b;
}
"""
C_FORK_WAIT = """#include <unistd.h>
#include <sys/wait.h>
int mul(int a, int b) { if (fork() == 0) { for (;;) { } } wait(0); return a * b; }
"""
C_FILES = """#include <stdio.h>
#include <stdlib.h>
int mul(int a, int b)
{
    static int done;
    if (!done) {
        FILE *f = fopen("from_fopen.txt", "w");
        fputs("written\\n", f);
        fclose(f);
        system("touch from_system.txt; mkdir -p sub; touch ../from_parent.txt");
        done = 1;
    }
    return a * b;
}
"""
C_PRINTS = """#include <stdio.h>
int mul(int a, int b) { printf("%d x %d\\n", a, b); fprintf(stderr, "err\\n"); return a * b; }
"""
C_EXITS = """#include <stdlib.h>
int mul(int a, int b) { if (a == 3 && b == 7) exit(0); return a * b; }
"""
C_ABORTS = "#include <stdlib.h>\nint mul(int a, int b) { if (a == 200) abort(); return a*b; }\n"
C_MEMORY = """#include <stdlib.h>
#include <string.h>
int mul(int a, int b)
{
    char *p = malloc((size_t)1 << 33);
    if (p) memset(p, 1, (size_t)1 << 33);
    return a * b + (p ? p[12345] - 1 : 0);
}
"""
V_ENDLESS_INITIAL = """module mul (input [7:0] A, input [7:0] B, output [15:0] O);
    assign O = A * B;
    initial begin
        while (1) begin end
    end
endmodule
"""
V_HUGE_PORT = """module mul (input [7:0] A, input [7:0] B, output [99999999:0] O);
    assign O = A * B;
endmodule
"""
V_FOPEN = """module mul (input [7:0] A, input [7:0] B, output [15:0] O);
    integer f;
    assign O = A * B;
    initial begin
        f = $fopen("from_verilog.txt", "w");
        $fdisplay(f, "written");
        $fclose(f);
    end
    always @(A) $display("a = %d", A);
endmodule
"""
V_FINISH = """module mul (input [7:0] A, input [7:0] B, output [15:0] O);
    assign O = A * B;
    initial #5050 $finish;
endmodule
"""


def test_infinite_loop_is_stopped_at_the_limit(tmp_path):
    r = run_import(tmp_path / "w", "mul.c", C_HANG, "--bits", "8", "--timeout", "2")
    refused(r, "mul.c: the compiled circuit stopped at the 2 s time limit (--timeout raises the "
               "limit)")
    assert r[3] < 40  # the default limit would be 300 s (bounds loose: a shared machine)


def test_forked_child_holding_the_pipe(tmp_path):
    r = run_import(tmp_path / "w", "mul.c", C_FORK_HOLD, "--bits", "8", "--timeout", "20")
    code, out, err, seconds, left = r
    assert code == 0, err
    assert out.startswith("mul_imported: table:mul.c, 8x8-bit unsigned; MRE 0 %")
    assert seconds < 60 and left == []  # not the child's 100 s


def test_forked_child_that_never_ends(tmp_path):
    r = run_import(tmp_path / "w", "mul.c", C_FORK_WAIT, "--bits", "8", "--timeout", "2")
    refused(r, "mul.c: the compiled circuit stopped at the 2 s time limit")
    assert r[3] < 40  # the default limit would be 300 s (bounds loose: a shared machine)


def test_endless_initial_block(tmp_path):
    r = run_import(tmp_path / "w", "mul.v", V_ENDLESS_INITIAL, "--bits", "8", "--timeout", "2")
    refused(r, "mul.v: simulating it (to read its port widths) stopped at the 2 s time limit")
    assert r[3] < 40  # the default limit would be 300 s (bounds loose: a shared machine)


def test_100_megabit_output_port_is_refused_before_anything_runs(tmp_path):
    r = run_import(tmp_path / "w", "mul.v", V_HUGE_PORT, "--bits", "8", "--timeout", "60")
    refused(r, "mul.v: module mul: port O is 100000000 bits; import takes ports of at most 64 "
               "bits\n")
    assert r[3] < 40  # the default limit would be 300 s (bounds loose: a shared machine)


def test_files_the_circuit_writes_stay_out_of_the_working_directory(tmp_path):
    for name, text in (("mul.c", C_FILES), ("mul.v", V_FOPEN)):
        work = tmp_path / name.replace(".", "_")
        code, out, err, _, left = run_import(work, name, text, "--bits", "8", "--target",
                                             "python")
        assert code == 0, err
        assert left == []  # no from_fopen.txt, from_system.txt, sub/, from_verilog.txt
        assert sorted(p.name for p in (work / "out").iterdir()) == [
            "mul_imported.json", "mul_imported.py"]
        assert not (tmp_path / "from_parent.txt").exists()


def test_a_printing_c_function_still_imports(tmp_path):
    code, out, err, _, left = run_import(tmp_path / "w", "mul.c", C_PRINTS, "--bits", "8")
    assert code == 0 and err == "" and left == []
    assert "x" not in out.split("\n")[0][:10] and "8x8-bit unsigned; MRE 0 %" in out


@pytest.mark.parametrize("source, message", [
    (C_EXITS, "mul.c: the compiled circuit stopped (exit 0) while running a = 3 (bit pattern): "
              "does it call exit()?\n"),
    (C_ABORTS, "mul.c: the compiled circuit stopped (killed by SIGABRT) while running a = 200 "
               "(bit pattern)\n"),
])
def test_a_c_function_that_ends_the_program_early(tmp_path, source, message):
    refused(run_import(tmp_path / "w", "mul.c", source, "--bits", "8"), message)


def test_memory_is_bounded(tmp_path):
    r = run_import(tmp_path / "w", "mul.c", C_MEMORY, "--bits", "8", "--memory", "512")
    code, out, err, _, left = r
    # malloc fails under the limit: the product is exact; never an 8 GB allocation
    assert code == 0 and "MRE 0 %" in out and left == [], err


def test_verilog_that_finishes_early(tmp_path):
    refused(run_import(tmp_path / "w", "mul.v", V_FINISH, "--bits", "8"),
            "mul.v: the simulation ended after 50 of 65536 operand pairs (does the circuit call "
            "$finish or $stop?)\n")
