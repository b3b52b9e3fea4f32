"""Errors. Every user-facing failure is an ActcError; the CLI maps it to exit code 2."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ActcError",
    "ConfigError",
    "FitError",
    "FormatError",
    "InputError",
    "ManifestError",
    "OutputError",
    "ParseError",
    "SemanticError",
    "Span",
    "TargetError",
    "ToolError",
]


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

    def __str__(self) -> str:
        if self.text is None or self.span is None:
            return self.message
        width = max(1, self.span.end - self.span.start)
        caret = " " * self.span.start + "^" * width
        return f"{self.message}\n  {self.text}\n  {caret}"


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


class ManifestError(ActcError):
    """A manifest is missing, unreadable or damaged."""


class ToolError(ActcError):
    """An external tool (compiler, simulator, synthesiser) is missing or failed."""
