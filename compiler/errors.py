"""Errors. Every user-facing failure is an ActcError; the CLI maps it to exit code 2."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ActcError",
    "ConfigError",
    "FitError",
    "FormatError",
    "InputError",
    "LimitError",
    "ManifestError",
    "OutputError",
    "ParseError",
    "SemanticError",
    "Span",
    "TargetError",
    "ToolError",
    "printable",
]


def printable(text: str) -> str:
    """``text`` with every character that is not printable (control characters, escape
    sequences) replaced by ``?``, one for one, so carets stay aligned and user text can never
    drive the terminal."""
    return "".join(c if c.isprintable() else "?" for c in text)


@dataclass(frozen=True)
class Span:
    """Half-open column range [start, end) in the expression text, 0-based."""

    start: int
    end: int


class ActcError(Exception):
    """Root of all errors the user can cause. ``str(err)`` is the full message."""

    def __init__(self, message: str, text: str | None = None, span: Span | None = None):
        super().__init__(message)
        self.message = message
        self.text = text
        self.span = span

    def display(self) -> str:
        """The message as the command line prints it: one line (control characters and line
        breaks made ``?``), plus the expression and a caret line for expression errors."""
        line = printable(self.message)
        if self.text is None or self.span is None:
            return line
        width = max(1, self.span.end - self.span.start)
        caret = " " * self.span.start + "^" * width
        return f"{line}\n  {printable(self.text)}\n  {caret}"

    def __str__(self) -> str:
        if self.text is None or self.span is None:
            return self.message
        width = max(1, self.span.end - self.span.start)
        caret = " " * self.span.start + "^" * width
        return f"{self.message}\n  {printable(self.text)}\n  {caret}"


class ParseError(ActcError):
    """The expression text does not follow the grammar."""


class SemanticError(ActcError):
    """The expression parses but cannot be built: unknown name, bad arity, not finite."""


class FormatError(ActcError):
    """A number format, bit width, domain or size is impossible."""


class FitError(ActcError):
    """A method cannot build the requested approximation."""


class ConfigError(ActcError):
    """An ADC, crossbar, network or training configuration is impossible or unknown."""


class TargetError(ActcError):
    """A target cannot emit the design as asked."""


class InputError(ActcError):
    """A file the user gives is unusable: a circuit to import that does not fit or misbehaves,
    a weights file with the wrong shape or values."""


class OutputError(ActcError):
    """Output files cannot be written."""


class LimitError(ActcError):
    """A documented limit is exceeded: expression size, literal or constant magnitude,
    memory, time, sweep points (docs/reference/limits.md). The message names the limit and
    the flag that raises it, where there is one."""


class ManifestError(ActcError):
    """A manifest is missing, unreadable or damaged."""


class ToolError(ActcError):
    """An external tool (compiler, simulator, synthesiser) is missing or failed. Its message
    may end with the tool's own output, one line of it per line."""

    def display(self) -> str:
        return "\n".join(printable(line) for line in self.message.splitlines())
