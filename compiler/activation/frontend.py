"""Expression text -> sympy. A lark LALR parser and one Transformer; user text never reaches
``sympify``, ``parse_expr``, ``eval`` or ``exec``.

>>> from actc.activation.frontend import parse
>>> parse("gelu(x)").name
'gelu'
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import ActcError, LimitError, ParseError, SemanticError, Span, printable
from ..limits import (
    CONSTANT_RANGE,
    LITERAL_RANGE,
    MAX_CONSTANT_BITS,
    MAX_EXPONENT,
    MAX_EXPRESSION_CHARS,
    MAX_LITERAL_CHARS,
    MAX_NESTING,
)
from .functions import FUNCTIONS

__all__ = ["Expression", "parse", "VARIABLE"]

VARIABLE = "x"
_CONSTANTS = ("pi", "e")

# Human names for the grammar's terminals, used in syntax error messages.
_TERMINALS = {
    "RPAR": "')'",
    "LPAR": "'('",
    "COMMA": "','",
    "PLUS": "'+'",
    "MINUS": "'-'",
    "STAR": "'*'",
    "SLASH": "'/'",
    "POW": "'^'",
    "NUMBER": "a number",
    "NAME": "a name",
    "$END": "the end",
}


@dataclass(frozen=True)
class Expression:
    """A parsed expression: the user's text, its sympy form and a default design name."""

    text: str
    expr: Any  # sympy.Expr in the single real symbol x
    symbol: Any  # the sympy Symbol for x
    name: str  # the named function when the text is one call of it, else "act"

    @property
    def canonical(self) -> str:
        return str(self.expr)


@lru_cache(maxsize=1)
def _parser():
    from lark import Lark

    grammar = (Path(__file__).parent / "grammar.lark").read_text()
    return Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=False)


def _suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _syntax_error(exc, text: str) -> ParseError:
    from lark.exceptions import UnexpectedCharacters, UnexpectedToken

    if isinstance(exc, UnexpectedCharacters):
        pos = int(exc.pos_in_stream or 0)
        return ParseError(f"unexpected character {text[pos]!r}", text, Span(pos, pos + 1))
    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        expected = set(exc.expected)
        if tok.type == "$END":
            pos = len(text.rstrip())
            if not text.strip():
                return ParseError("empty expression: write a function of x, e.g. sigmoid(x)")
            if "RPAR" in expected:
                msg = "missing ')' at the end of the expression"
            else:
                msg = "the expression ends too early: an operand is missing"
            return ParseError(msg, text, Span(pos, pos + 1))
        start = tok.start_pos
        span = Span(start, start + max(1, len(str(tok))))
        if tok.type == "RPAR":
            return ParseError("unexpected ')': no '(' is open here, or an operand is missing",
                              text, span)
        if tok.type in ("NAME", "NUMBER", "LPAR") and "POW" in expected:
            return ParseError(f"missing operator before {str(tok)!r}", text, span)
        want = sorted(_TERMINALS.get(t, t) for t in expected)
        hint = f"; expected {' or '.join(want[:4])}" if want else ""
        return ParseError(f"unexpected {str(tok)!r}{hint}", text, span)
    return ParseError(str(exc).splitlines()[0])


def parse(text: str) -> Expression:
    """Parse an activation expression in ``x`` into sympy.

    Raises ParseError for malformed text, SemanticError for unknown names, wrong argument
    counts, free variables other than x and constants that are not finite real numbers, and
    LimitError for text beyond the documented limits (``actc.limits``: length, nesting,
    literal size, exponent growth), all checked before sympy evaluates anything.
    """
    from lark.exceptions import UnexpectedInput

    if any(c.isspace() and c != " " for c in text):
        text = " ".join(text.split())
    if len(text) > MAX_EXPRESSION_CHARS:
        raise LimitError(f"the expression is {len(text)} characters long: expressions take at "
                         f"most {MAX_EXPRESSION_CHARS}")
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(exc, text) from None
    import sympy

    lowering = _Lowering(text, sympy)
    expr = lowering.lower(tree, 1)
    name = "act"
    if tree.data in ("call",) and str(tree.children[0]) in FUNCTIONS:
        name = str(tree.children[0])
    return Expression(text=text, expr=expr, symbol=lowering.x, name=name)


_LITERAL = re.compile(r"(\d*)\.?(\d*)(?:[eE]([+-]?\d+))?")
_CHAINS = {"add": ("add", "sub"), "sub": ("add", "sub"), "mul": ("mul", "div"),
           "div": ("mul", "div")}


def _decimal_exponent(token: str) -> int | None:
    """floor(log10 |value|) of a number literal, read from its text (None for zero)."""
    m = _LITERAL.fullmatch(token)
    assert m is not None, token  # the grammar's NUMBER
    whole, frac, exp = m.group(1), m.group(2), int(m.group(3) or 0)
    if whole.lstrip("0"):
        return exp + len(whole.lstrip("0")) - 1
    if frac.strip("0"):
        return exp - (len(frac) - len(frac.lstrip("0"))) - 1
    return None


class _Lowering:
    """Lowers the lark tree to sympy, checking names, limits and constants with their spans.

    A recursive walk rather than lark's Transformer: calls need their argument *trees* to
    report spans. Chains of + and - (and of * and /) are walked iteratively and built as one
    n-ary sympy node, so a long sum is one level deep; every other level counts towards
    ``MAX_NESTING``. Every sub-expression without x is checked as it is built (exact size,
    magnitude, real and finite), and a power of constants is bounded before sympy computes it.
    """

    def __init__(self, text: str, sp):
        self.text = text
        self.sp = sp
        self.x = sp.Symbol(VARIABLE, real=True)

    def _span(self, node) -> Span:
        from lark import Token

        if isinstance(node, Token):
            return Span(int(node.start_pos or 0), int(node.end_pos or 0))
        return Span(node.meta.start_pos, node.meta.end_pos)

    def _snippet(self, node) -> str:
        s = self._span(node)
        text = self.text[s.start:s.end]
        return text if len(text) <= 60 else text[:57] + "..."

    def lower(self, node, depth: int):
        from lark import Token

        if isinstance(node, Token):  # a bare NUMBER or NAME reached through ?rules
            raise AssertionError(f"unexpected token {node!r}")  # pragma: no cover
        if depth > MAX_NESTING:
            raise LimitError(f"the expression nests more than {MAX_NESTING} levels deep "
                             "(operators, calls and signs): write it more simply", self.text,
                             self._span(node))
        kind = node.data
        ch = node.children
        if kind == "number":
            return self._number(ch[0])
        if kind == "name":
            return self._name(ch[0])
        if kind == "call":
            return self._call(ch[0], ch[1].children, node, depth)
        if kind == "call_empty":
            return self._call(ch[0], [], node, depth)
        if kind == "neg":
            return self._checked(node, lambda: -self.lower(ch[0], depth + 1))
        if kind in _CHAINS:
            return self._chain(node, depth)
        if kind == "pow":
            return self._power(node, depth)
        raise AssertionError(f"unknown node {kind}")  # pragma: no cover

    def _number(self, tok):
        text = str(tok)
        span = self._span(tok)
        if len(text) > MAX_LITERAL_CHARS:
            raise LimitError(f"the number literal is {len(text)} characters long: literals "
                             f"take at most {MAX_LITERAL_CHARS}", self.text, span)
        exp10 = _decimal_exponent(text)
        lo, hi = LITERAL_RANGE
        frac = Fraction(0)
        # the decimal exponent, read from the text, first: Fraction("1e999999999") would
        # compute 10^999999999
        if exp10 is not None and abs(exp10) < 400:
            frac = Fraction(text)
        if exp10 is not None and not Fraction(repr(lo)) <= frac <= Fraction(repr(hi)):
            raise LimitError(f"the number {text} is out of range: literals take magnitudes "
                             f"from {lo:g} to {hi:g}, or 0", self.text, span)
        return self.sp.Rational(frac.numerator, frac.denominator)

    def _chain(self, node, depth: int):
        """a + b - c + ... or a * b / c * ...: one n-ary node."""
        sp = self.sp
        ops = _CHAINS[node.data]
        spine = []
        cur = node
        while cur.data in ops:
            spine.append(cur)
            cur = cur.children[0]
        terms = [self.lower(cur, depth + 1)]
        for link in reversed(spine):
            operand = link.children[-1]
            t = self.lower(operand, depth + 1)
            if link.data == "sub":
                t = -t
            elif link.data == "div":
                value = self._constant(t, operand)
                if t == 0 or value == 0.0:
                    raise SemanticError("division by zero", self.text, self._span(operand))
                t = sp.Pow(t, -1)
            terms.append(t)
        build = sp.Add if ops[0] == "add" else sp.Mul
        consts = [t for t in terms if not t.free_symbols]
        if 1 < len(consts) < len(terms):  # the constant part of a chain is a constant too
            part = "sum of the constant terms" if build is sp.Add else \
                "product of the constant factors"
            self._constant(build(*consts), node, f"the {part} of")
        return self._checked(node, lambda: build(*terms))

    def _power(self, node, depth: int):
        sp = self.sp
        ch = node.children
        base = self.lower(ch[0], depth + 1)
        exponent = self.lower(ch[-1], depth + 1)
        e = self._constant(exponent, ch[-1])
        if e is not None:
            if abs(e) > MAX_EXPONENT:
                raise LimitError(f"the exponent {self._snippet(ch[-1])} is {e:.4g}: constant "
                                 f"exponents take magnitudes up to {MAX_EXPONENT}", self.text,
                                 self._span(ch[-1]))
            b = self._constant(base, ch[0])
            if b is not None and b != 0:
                self._bound_power(node, base, exponent, b, e)
        return self._checked(node, lambda: sp.Pow(base, exponent))

    def _bound_power(self, node, base, exponent, b: float, e: float) -> None:
        """A power of constants, bounded before sympy computes it: its magnitude, and the
        exact size of a rational power."""
        lo, hi = CONSTANT_RANGE
        log10 = e * math.log10(abs(b))
        if not math.log10(lo) <= log10 <= math.log10(hi):
            raise LimitError(f"{self._snippet(node)} is about 10^{_power10(log10)}: constants take "
                             f"magnitudes from {lo:g} to {hi:g}, or 0", self.text,
                             self._span(node))
        if base.is_Rational and exponent.is_Rational and abs(b) != 1:
            bits = max(abs(int(base.p)).bit_length(), int(base.q).bit_length()) * abs(e)
            if bits > MAX_CONSTANT_BITS:
                raise LimitError(f"{self._snippet(node)} needs about {bits:.3g} bits exactly: "
                                 f"exact constants take at most {MAX_CONSTANT_BITS}",
                                 self.text, self._span(node))

    def _checked(self, node, build):
        """Build a sympy node (sympy's own errors become SemanticErrors at the node) and
        check it if it is a constant."""
        try:
            value = build()
        except ActcError:
            raise
        except (ArithmeticError, TypeError, ValueError) as exc:
            raise SemanticError(f"{self._snippet(node)} cannot be built: "
                                f"{printable(str(exc).splitlines()[0] if str(exc) else '')}",
                                self.text, self._span(node)) from None
        self._constant(value, node)
        return value

    def _constant(self, value, node, what: str = "the constant") -> float | None:
        """For a sub-expression without x: check it is a finite real number within
        ``CONSTANT_RANGE`` and of exact size at most ``MAX_CONSTANT_BITS``, and return its
        float value. None for a sub-expression of x."""
        sp = self.sp
        if value.free_symbols:
            return None
        span = self._span(node)
        what = f"{what} {self._snippet(node)}"
        lo, hi = CONSTANT_RANGE
        if value.is_Rational:
            p, q = int(value.p), int(value.q)
            if max(abs(p).bit_length(), q.bit_length()) > MAX_CONSTANT_BITS:
                raise LimitError(f"{what} needs more than {MAX_CONSTANT_BITS} bits exactly",
                                 self.text, span)
            frac = Fraction(p, q)
            if frac and not Fraction(repr(lo)) <= abs(frac) <= Fraction(repr(hi)):
                raise LimitError(f"{what} is about 10^{_power10(_log10(frac))}: constants take "
                                 f"magnitudes from {lo:g} to {hi:g}, or 0", self.text, span)
            return float(frac)
        kinds = {sp.zoo: "complex infinity", sp.nan: "undefined (NaN)", sp.oo: "infinite",
                 -sp.oo: "infinite"}
        for bad, name in kinds.items():
            if value == bad or value.has(bad):
                raise SemanticError(f"{what} is {name}, not a finite real number", self.text,
                                    span)
        try:
            v = value.evalf(30)
        except (ArithmeticError, TypeError, ValueError, RecursionError):
            v = None
        if v is None or not v.is_Number:
            shown = printable(str(v.evalf(6)))[:40] if v is not None else "not computable"
            raise SemanticError(f"{what} is {shown}, not a real number", self.text, span)
        if not v.is_finite:
            raise SemanticError(f"{what} is not a finite real number", self.text, span)
        import mpmath

        m = mpmath.mpf(v)
        if m == 0:  # also a zero known only to within evalf's precision (log(2)+log(3)-log(6))
            return 0.0
        log10 = float(mpmath.log10(abs(m)))
        if not math.log10(lo) <= log10 <= math.log10(hi):
            raise LimitError(f"{what} is about 10^{_power10(log10)}: constants take magnitudes "
                             f"from {lo:g} to {hi:g}, or 0", self.text, span)
        return float(v)

    def _name(self, tok):
        name = str(tok)
        if name == VARIABLE:
            return self.x
        if name == "pi":
            return self.sp.pi
        if name == "e":
            return self.sp.E
        span = self._span(tok)
        if name in FUNCTIONS:
            raise SemanticError(
                f"'{name}' is a function: call it, e.g. {name}(x)", self.text, span
            )
        known = [VARIABLE, *_CONSTANTS, *FUNCTIONS]
        raise SemanticError(
            f"unknown name '{name}': the only variable is x, the constants are pi and e"
            + _suggest(name, known),
            self.text,
            span,
        )

    def _call(self, tok, arg_nodes, node, depth: int):
        name = str(tok)
        span = self._span(node)
        fn = FUNCTIONS.get(name)
        if fn is None:
            raise SemanticError(
                f"unknown function '{name}'" + _suggest(name, FUNCTIONS) + " (actc list shows all)",
                self.text,
                self._span(tok),
            )
        n = len(arg_nodes)
        if fn.variadic:
            if n < 2:
                raise SemanticError(
                    f"{name} takes two or more arguments, got {n}", self.text, span
                )
        elif not fn.min_args <= n <= len(fn.params):
            want = (
                f"{fn.min_args}"
                if fn.min_args == len(fn.params)
                else f"{fn.min_args} to {len(fn.params)}"
            )
            plural = "" if want == "1" else "s"
            raise SemanticError(
                f"{name} takes {want} argument{plural} ({fn.signature()}), got {n}",
                self.text,
                span,
            )
        args = [self.lower(a, depth + 1) for a in arg_nodes]
        for d in fn.defaults[len(args) - fn.min_args :] if not fn.variadic else ():
            frac = Fraction(d)
            args.append(self.sp.Rational(frac.numerator, frac.denominator))
        return self._checked(node, lambda: fn.build(self.sp, *args))


def _power10(log10: float) -> str:
    """An exponent of ten for a message: whole below a million, else three digits."""
    return f"{log10:.0f}" if abs(log10) < 1e6 else f"({log10:.3g})"


def _log10(frac: Fraction) -> float:
    """log10 |frac| for any size of fraction."""
    p, q = abs(frac.numerator), frac.denominator
    shift = max(0, p.bit_length() - 1000), max(0, q.bit_length() - 1000)
    return (math.log10(p >> shift[0]) + shift[0] * math.log10(2)
            - math.log10(q >> shift[1]) - shift[1] * math.log10(2))
