"""Run a program we did not write (a user's circuit, or a tool working on user input) so that
it cannot hang us, fill the disk or the screen, or write into the caller's directory.

>>> with Sandbox(seconds=10) as box:
...     done = box.run(["sh", "-c", "echo hi > note.txt; echo done"])
...     (box.path / "note.txt").read_text(), done.stdout, done.ok
('hi\\n', 'done\\n', True)

What a :class:`Sandbox` does:

- a **private working directory**: a fresh temporary directory (mode 0700), also ``TMPDIR``,
  removed with everything in it when the ``with`` block ends. A program's relative paths
  (``fopen("x.txt")``, ``system("touch y")``, Verilog ``$fopen``) land there, never in the
  caller's working directory;
- a **process group of its own** (a new session); at the wall-clock limit the whole group is
  killed (SIGKILL), and so is whatever the program left running in it when it ends, so a
  forked child holding a pipe cannot hang the caller. Each run also marks its environment
  (``ACTC_SANDBOX``) and, on Linux, every process still carrying the mark afterwards is
  killed too: a child that left the group with ``setsid`` is found that way;
- a **time budget** shared by every run in the ``with`` block (``seconds``), so a stage that
  follows a slow one gets only what is left;
- **resource limits** set in the child before it runs: address space (``RLIMIT_AS``,
  ``memory_bytes``), the size of any file it writes (``RLIMIT_FSIZE``, ``file_bytes``), CPU
  seconds (a backstop for the wall clock), no core files;
- **captured output capped**: at most ``output_bytes`` of stdout and of stderr are kept; the
  rest is read and dropped, so a program that prints without end costs time (bounded by the
  budget), not memory. Results are meant to come from a file the program writes in the
  directory, not from its stdout.

What it does **not** do: it is no security boundary. The program runs with the caller's user
rights: it can read and write any file the user can by an absolute path and use the network;
a process that leaves its group and clears its environment escapes the kill, and one that
changes directory (``chdir``), or writes through ``../..``, leaves the private directory.
Use it to survive careless or broken code, not hostile code.
"""

from __future__ import annotations

import os
import resource
import secrets
import selectors
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

__all__ = ["DEFAULT_MEMORY_BYTES", "DEFAULT_OUTPUT_BYTES", "Completed", "Sandbox", "kill_marked",
           "write_all"]

DEFAULT_MEMORY_BYTES = 4 << 30  # address space per process (compilers need 1-2 GB at most)
DEFAULT_OUTPUT_BYTES = 64 << 10  # kept per stream (stdout, stderr)
_GRACE = 0.5  # seconds to drain the pipes after the program ended and its group was killed
_POLL = 0.02


@dataclass(frozen=True)
class Completed:
    """How a sandboxed run ended. ``stdout``/``stderr`` hold at most the first
    ``output_bytes`` of each (``truncated`` says more was dropped)."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool
    truncated: bool
    limit: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def how(self) -> str:
        """How it ended, in words: ``exit 3``, ``killed by SIGSEGV``, ``stopped at the 5 s
        limit``."""
        if self.timed_out:
            return f"stopped at the {self.limit:g} s time limit"
        if self.returncode < 0:
            try:
                name = signal.Signals(-self.returncode).name
            except ValueError:
                name = f"signal {-self.returncode}"
            why = {"SIGXFSZ": " (a file it wrote passed the size limit)",
                   "SIGXCPU": " (CPU time limit)"}.get(name, "")
            return f"killed by {name}{why}"
        return f"exit {self.returncode}"

    def first_line(self, name_map: dict[str, str] | None = None,
                   prefer: tuple[str, ...] = ()) -> str:
        """One line of stderr (else stdout) for a one-line message: the first that mentions
        one of ``prefer`` (the user's file, where the cause usually is) and an error, else the
        first that mentions an error, else the first non-empty one; text in ``name_map`` is
        replaced (the sandbox's copy of a file by the user's file name)."""
        lines = [ln.strip() for text in (self.stderr, self.stdout) for ln in text.splitlines()
                 if ln.strip()]
        errors = [ln for ln in lines if "error" in ln.lower() or "not found" in ln.lower()]
        own = [ln for ln in errors if any(p in ln for p in prefer)]
        line = (own or errors or lines or ["no message"])[0]
        for old, new in (name_map or {}).items():
            line = line.replace(old, new)
        return _printable(line)[:300]


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in text)


def _limits(memory_bytes: int | None, file_bytes: int | None, cpu_seconds: int) -> None:
    """Runs in the child between fork and exec: lower each limit, never above the hard limit
    the caller already has (a shell's ulimit, a container's)."""
    wanted = [(resource.RLIMIT_CORE, 0), (resource.RLIMIT_AS, memory_bytes),
              (resource.RLIMIT_FSIZE, file_bytes), (resource.RLIMIT_CPU, cpu_seconds)]
    for which, value in wanted:
        if value is None:
            continue
        _, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, hard))


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class Sandbox:
    """A private directory and a time budget for running programs; see the module docstring.

    ``seconds`` is the wall-clock budget of every run in the block together (None: no
    limit); ``memory_bytes``, ``file_bytes`` and ``output_bytes`` are the defaults of
    :meth:`run`."""

    def __init__(self, seconds: float | None, *, memory_bytes: int | None = DEFAULT_MEMORY_BYTES,
                 file_bytes: int | None = None, output_bytes: int = DEFAULT_OUTPUT_BYTES,
                 prefix: str = "actc-sandbox-") -> None:
        if seconds is not None and not seconds > 0:
            raise ValueError(f"a time limit must be positive, got {seconds}")
        self.seconds = seconds
        self.memory_bytes = memory_bytes
        self.file_bytes = file_bytes
        self.output_bytes = output_bytes
        self.prefix = prefix
        self._path: Path | None = None
        self._deadline = float("inf")

    # --- the directory ----------------------------------------------------------------------
    def __enter__(self) -> Sandbox:
        # work/ one level down, so that "../x" from the program lands in our directory too
        self._root = Path(tempfile.mkdtemp(prefix=self.prefix))
        self._path = self._root / "work"
        self._path.mkdir(mode=0o700)
        if self.seconds is not None:
            self._deadline = time.monotonic() + self.seconds
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.cleanup()

    def cleanup(self) -> None:
        if getattr(self, "_root", None) is None:
            return

        def unlock(func: object, path: str, exc: object) -> None:  # a read-only dir it made
            try:
                os.chmod(os.path.dirname(path), 0o700)
                os.chmod(path, 0o700)
            except OSError:
                return
            try:
                shutil.rmtree(path) if os.path.isdir(path) else os.unlink(path)
            except OSError:
                pass

        shutil.rmtree(self._root, onerror=unlock)
        self._root = None  # type: ignore[assignment]

    @property
    def path(self) -> Path:
        """The private working directory (inside the ``with`` block)."""
        if self._path is None:
            raise RuntimeError("use the Sandbox in a with block")
        return self._path

    @property
    def remaining(self) -> float:
        """Seconds left of the budget (inf without one)."""
        return max(0.0, self._deadline - time.monotonic())

    # --- running ------------------------------------------------------------------------------
    def run(self, argv: Sequence[str | os.PathLike], *, memory_bytes: int | None | str = "default",
            file_bytes: int | None | str = "default", output_bytes: int | None = None,
            env: dict[str, str] | None = None) -> Completed:
        """Run ``argv`` in the private directory, stdin empty, bounded as the module docstring
        says; return how it ended (never raises for the program's failure or time-out).
        ``memory_bytes``/``file_bytes``: None for no limit, ``"default"`` for the sandbox's."""
        mem = self.memory_bytes if memory_bytes == "default" else memory_bytes
        fsize = self.file_bytes if file_bytes == "default" else file_bytes
        cap = self.output_bytes if output_bytes is None else output_bytes
        assert mem is None or isinstance(mem, int)
        assert fsize is None or isinstance(fsize, int)
        args = tuple(os.fspath(a) for a in argv)
        limit = self.remaining
        start = time.monotonic()
        if limit <= 0:
            return Completed(args, -int(signal.SIGKILL), "", "", 0.0, True, False,
                             self.seconds or 0.0)
        cpu = int(min(limit, 10 ** 7)) + 1
        environment = dict(os.environ if env is None else env)
        for key in ("TMPDIR", "TMP", "TEMP"):
            environment[key] = str(self.path)
        environment.setdefault("LC_ALL", "C")
        mark = secrets.token_hex(8)
        environment[_MARK] = mark
        try:
            proc = subprocess.Popen(
                args, cwd=self.path, env=environment, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                preexec_fn=lambda: _limits(mem, fsize, cpu))
        except (OSError, subprocess.SubprocessError) as exc:  # cannot start: say so, like a shell
            return Completed(args, 127, "", f"error: cannot run {args[0]}: {exc}",
                             time.monotonic() - start, False, False, self.seconds or 0.0)
        pgid = proc.pid  # the session's (and group's) leader
        try:
            out, err, truncated, timed_out = self._collect(proc, pgid, start + limit, cap)
        finally:
            _kill_group(pgid)
            code = proc.wait()  # the group is dead; reap the leader
            kill_marked(f"{_MARK}={mark}")
        return Completed(args, code, out.decode("utf-8", "replace"),
                         err.decode("utf-8", "replace"), time.monotonic() - start, timed_out,
                         truncated, self.seconds or 0.0)

    @staticmethod
    def _collect(proc: subprocess.Popen, pgid: int, deadline: float,
                 cap: int) -> tuple[bytes, bytes, bool, bool]:
        """Read both pipes until the program ends (then kill what is left of its group and
        drain for a moment) or the deadline passes (then kill the group)."""
        assert proc.stdout is not None and proc.stderr is not None
        out_fd, err_fd = proc.stdout.fileno(), proc.stderr.fileno()
        kept = {out_fd: bytearray(), err_fd: bytearray()}
        truncated = False
        timed_out = False
        sel = selectors.DefaultSelector()
        for f in (proc.stdout, proc.stderr):
            os.set_blocking(f.fileno(), False)
            sel.register(f.fileno(), selectors.EVENT_READ)
        ended_at: float | None = None
        try:
            while sel.get_map():
                now = time.monotonic()
                if ended_at is None:
                    if now >= deadline:
                        timed_out = True
                        _kill_group(pgid)
                        ended_at = now
                    elif _exited(proc.pid):
                        # the leader is a zombie (not reaped), so its pid and group id cannot
                        # be reused yet: kill what it left behind in its group
                        _kill_group(pgid)
                        ended_at = now
                elif now - ended_at > _GRACE:
                    break  # something outside the group holds the pipe: stop listening
                for key, _ in sel.select(timeout=_POLL):
                    fd = int(key.fd)
                    try:
                        chunk = os.read(fd, 1 << 16)
                    except BlockingIOError:
                        continue
                    if not chunk:
                        sel.unregister(fd)
                        continue
                    room = cap - len(kept[fd])
                    if room > 0:
                        kept[fd] += chunk[:room]
                    if len(chunk) > room:
                        truncated = True
            if ended_at is None:  # both pipes closed before the leader ended
                while not _exited(proc.pid):
                    if time.monotonic() >= deadline:
                        timed_out = True
                        break
                    time.sleep(_POLL)
                _kill_group(pgid)
        finally:
            sel.close()
            proc.stdout.close()
            proc.stderr.close()
        return bytes(kept[out_fd]), bytes(kept[err_fd]), truncated, timed_out


_MARK = "ACTC_SANDBOX"


def kill_marked(entry: str) -> int:
    """Kill (SIGKILL) every process of this user whose environment holds ``entry``
    (``NAME=VALUE``), on Linux; return how many were found. Repeats while a kill races with
    a fork."""
    needle = entry.encode() + b"\0"
    proc = Path("/proc")
    if not proc.is_dir():
        return 0
    found = 0
    for _ in range(5):
        hit = False
        for d in proc.iterdir():
            if not d.name.isdigit() or int(d.name) == os.getpid():
                continue
            try:
                env = (d / "environ").read_bytes()
            except OSError:
                continue
            if needle in env or env.endswith(needle[:-1]):
                try:
                    os.kill(int(d.name), signal.SIGKILL)
                    found += 1
                    hit = True
                except OSError:
                    pass
        if not hit:
            break
    return found


def _exited(pid: int) -> bool:
    """Whether the process has ended, without reaping it."""
    try:
        info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return True
    return info is not None


# --- staged output ------------------------------------------------------------------------------

def write_all(directory: str | os.PathLike, files: Mapping[str, str | bytes]) -> list[Path]:
    """Write {file name: text or bytes} into ``directory`` all or nothing: every destination is
    checked first, every file is staged under a temporary name beside it, then all are moved
    into place; if any step fails, the files replaced so far are restored, the staged ones and
    any directory this call created are removed, and OutputError says why. Returns the paths
    in order.

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> [p.name for p in write_all(d / "out", {"a.txt": "A", "b.bin": b"B"})]
    ['a.txt', 'b.bin']
    """
    from .errors import OutputError

    out = Path(directory)
    if out.exists() and not out.is_dir():
        raise OutputError(f"output path {str(out)!r} is not a directory")
    for name in files:
        if Path(name).name != name or name in ("", ".", ".."):
            raise OutputError(f"refusing to write {name!r}: not a plain file name")
        if (out / name).is_dir():
            raise OutputError(f"cannot write {str(out / name)!r}: a directory is in the way")
    created = []
    parent = out
    while not parent.exists():
        created.append(parent)
        parent = parent.parent
    umask = os.umask(0)
    os.umask(umask)
    staged: list[tuple[Path, Path]] = []
    moved: list[tuple[Path, Path | None]] = []  # (destination, backup of what it replaced)
    try:
        for d in reversed(created):
            d.mkdir()
        for name, content in files.items():
            fd, staging = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=out)
            staged.append((Path(staging), out / name))
            with os.fdopen(fd, "wb") as fh:
                fh.write(content if isinstance(content, bytes) else
                         content.encode("utf-8"))
            os.chmod(staging, 0o666 & ~umask)
        for tmp, final in staged:
            backup = None
            if final.exists():
                fd, old = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".old", dir=out)
                os.close(fd)
                backup = Path(old)
                os.replace(final, backup)
            moved.append((final, backup))
            os.replace(tmp, final)
    except OSError as exc:
        for final, backup in reversed(moved):
            try:
                if backup is not None:
                    os.replace(backup, final)
                elif final.exists():
                    final.unlink()
            except OSError:
                pass
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        for d in created:
            try:
                d.rmdir()
            except OSError:
                pass
        raise OutputError(f"cannot write to {str(out)!r}: {exc.strerror or exc}") from None
    for _, backup in moved:
        if backup is not None:
            backup.unlink(missing_ok=True)
    return [final for _, final in staged]
