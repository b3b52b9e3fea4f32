"""C integer literals of the right type everywhere."""

from __future__ import annotations

__all__ = ["c_element", "c_literal", "c_unsigned"]


def c_literal(value: int, paren: bool = True) -> str:
    """A C integer literal of the right type everywhere: INT32_MIN cannot be written as a
    negated literal, and values beyond 32 bits need a suffix.

    >>> c_literal(-5), c_literal(-(2**31)), c_literal(2**40)
    ('(-5)', '(-2147483647 - 1)', '1099511627776LL')
    """
    if 0 <= value < 2**31:
        return str(value)
    if -(2**31) < value < 0:
        return f"({value})" if paren else str(value)
    if value == -(2**31):
        return "(-2147483647 - 1)"
    if value == -(2**63):
        return "(-9223372036854775807LL - 1)"
    text = f"{value}LL" if value < 2**63 else f"{value}ULL"
    return f"({text})" if paren and value < 0 else text


def c_element(value: int) -> str:
    """A table element: a literal without parentheses."""
    return c_literal(value, paren=False)


def c_unsigned(value: int) -> str:
    """An unsigned C literal (``u``, or ``ULL`` beyond 32 bits).

    >>> c_unsigned(7), c_unsigned(2**32)
    ('7u', '4294967296ULL')
    """
    assert value >= 0
    return f"{value}u" if value < 2**32 else f"{value}ULL"
