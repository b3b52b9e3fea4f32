"""Every limit actc enforces, in one place (docs/reference/limits.md).

Work that the user controls is bounded before it starts wherever its size can be known
(expression size, literal magnitudes, exponent growth, the memory an evaluation needs, the
points of a sweep), and bounded while it runs everywhere else: each command runs under a
wall-clock limit (``--timeout``) and a memory limit (``--max-ram-gb``), enforced by
``command_limits`` (a SIGALRM deadline and the address-space rlimit), so nothing hangs and
nothing takes the machine down.

>>> MAX_EXPRESSION_CHARS, MAX_NESTING, DEFAULT_TIMEOUT_S, DEFAULT_MAX_RAM_GB
(1000, 50, 600.0, 4.0)
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from .errors import LimitError

__all__ = [
    "CONSTANT_RANGE", "DEFAULT_MAX_RAM_GB", "DEFAULT_TIMEOUT_S", "LITERAL_RANGE",
    "MAX_CONSTANT_BITS", "MAX_EXPONENT", "MAX_EXPRESSION_CHARS", "MAX_LITERAL_CHARS",
    "MAX_NESTING", "MAX_POINTS", "DEFAULT_POINT_TIMEOUT_S", "check_memory", "command_limits",
    "TimeUp", "committing", "gigabytes", "limit_address_space", "ram_budget_gb",
]

# --- expressions (checked by the front end before sympy evaluates anything) -------------------
MAX_EXPRESSION_CHARS = 1000  # characters of the expression text
MAX_NESTING = 50  # nested operators, calls and signs (a chain a+b+c... or a*b*c... is one level)
MAX_LITERAL_CHARS = 40  # characters of one number literal
LITERAL_RANGE = (1e-100, 1e100)  # magnitudes of a nonzero number literal
CONSTANT_RANGE = (1e-300, 1e300)  # magnitudes of a nonzero constant sub-expression
MAX_CONSTANT_BITS = 4096  # bits of the numerator and denominator of an exact constant
MAX_EXPONENT = 1024  # magnitude of a constant exponent

# --- commands ------------------------------------------------------------------------------------
DEFAULT_TIMEOUT_S = 600.0  # --timeout: wall-clock seconds of one command (0: none)
DEFAULT_MAX_RAM_GB = 4.0  # --max-ram-gb: memory one command may add to the process (0: none)

# --- sweeps --------------------------------------------------------------------------------------
MAX_POINTS = 10_000  # --max-points: points of one sweep
DEFAULT_POINT_TIMEOUT_S = 600.0  # [sweep] timeout_s: seconds of one point


def gigabytes(n_bytes: float) -> str:
    return f"{n_bytes / 2**30:.3g} GB"


def check_memory(n_bytes: float, what: str, budget_gb: float | None) -> None:
    """Refuse work estimated to need more than the budget (``--max-ram-gb``), before it
    starts. ``what`` says what needs the memory."""
    if budget_gb is None or budget_gb <= 0:
        return
    if n_bytes > budget_gb * 2**30:
        raise LimitError(f"{what} needs about {gigabytes(n_bytes)} of memory, above the "
                         f"budget of {budget_gb:g} GB: raise it with --max-ram-gb")


# The budget of the command running now (None outside command_limits): estimates read it.
_budget: dict[str, float | None] = {"ram_gb": None}


def ram_budget_gb() -> float | None:
    """The memory budget of the command running in this process (None: none set)."""
    return _budget["ram_gb"]


class TimeUp(BaseException):
    """Raised by the SIGALRM deadline. A BaseException, like KeyboardInterrupt, so that no
    ``except Exception`` on the way can swallow it; ``command_limits`` turns it into a
    LimitError."""


class _Deadline:
    """SIGALRM raises TimeUp in the main thread when the time is up, except while outputs
    are being committed (``committing``): the limit bounds the work, and a commit in progress
    finishes (or rolls back) whole."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.critical = 0
        self.expired = False

    def handler(self, signum: int, frame: object) -> None:
        if self.critical:
            self.expired = True
            return
        raise TimeUp()


_deadline = _Deadline()


@contextmanager
def committing() -> Iterator[None]:
    """A section the time limit does not interrupt (the rename of staged outputs)."""
    _deadline.critical += 1
    try:
        yield
    finally:
        _deadline.critical -= 1


def limit_address_space(ram_gb: float) -> tuple[int, int] | None:
    """Let this process (and the children it starts) add at most ``ram_gb`` GB to its
    address space (RLIMIT_AS); returns the previous limits to restore, or None when the
    current limit is already lower."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    want = _vm_size() + int(ram_gb * 2**30)
    if hard != resource.RLIM_INFINITY:
        want = min(want, hard)
    if soft != resource.RLIM_INFINITY and soft <= want:
        return None
    resource.setrlimit(resource.RLIMIT_AS, (want, hard))
    return soft, hard


def _vm_size() -> int:
    """Bytes of this process's address space now (0 where /proc is not available)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@contextmanager
def command_limits(timeout_s: float | None, max_ram_gb: float | None) -> Iterator[None]:
    """Run a command under a wall-clock limit and a memory limit, restoring both after.

    The time limit is a SIGALRM timer (main thread only: elsewhere it is not set); child
    processes the command starts are killed with it (``subprocess.run`` kills its child when
    interrupted). The memory limit is RLIMIT_AS set to the address space in use plus the
    budget (children inherit it); an allocation beyond it raises MemoryError, which the caller
    reports as a LimitError."""
    import resource

    timer = (timeout_s is not None and timeout_s > 0
             and threading.current_thread() is threading.main_thread())
    old_handler = None
    if timer:
        assert timeout_s is not None
        _deadline.seconds = timeout_s
        _deadline.expired = False
        old_handler = signal.signal(signal.SIGALRM, _deadline.handler)
        signal.setitimer(signal.ITIMER_REAL, timeout_s)
    old_limit = limit_address_space(max_ram_gb) if max_ram_gb and max_ram_gb > 0 else None
    _budget["ram_gb"] = max_ram_gb if max_ram_gb and max_ram_gb > 0 else None
    try:
        try:
            yield
        except TimeUp:
            raise LimitError(f"stopped after {timeout_s:g} s, the time limit: raise it with "
                             "--timeout S (0: no limit)") from None
        except MemoryError:
            raise LimitError(f"ran out of the memory budget of {max_ram_gb:g} GB: raise it "
                             "with --max-ram-gb G (0: no limit)") from None
    finally:
        if timer:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old_handler)
        _budget["ram_gb"] = None
        if old_limit is not None:
            resource.setrlimit(resource.RLIMIT_AS, old_limit)


