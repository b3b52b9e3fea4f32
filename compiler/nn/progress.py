"""The progress bar of every training or sweep loop: tqdm when it is installed (it comes with
the ``torch`` extra) and standard error is a terminal; otherwise nothing is drawn.

>>> list(progress(range(3), desc="epochs"))
[0, 1, 2]
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

__all__ = ["progress"]

T = TypeVar("T")


def progress(iterable: Iterable[T], *, desc: str | None = None, total: int | None = None,
             leave: bool = False, **kw: Any) -> Iterator[T]:
    """Iterate with a progress bar on a terminal (quiet when not one, or without tqdm)."""
    if not sys.stderr.isatty():
        return iter(iterable)
    try:
        from tqdm import tqdm
    except ImportError:
        return iter(iterable)
    bar: Iterator[T] = tqdm(iterable, desc=desc, total=total, leave=leave, **kw)
    return bar
