"""Options declared once, as dataclass fields, and turned into command-line flags.

A method (``passes/*.py``) or a target (``targets/*``) declares its options as fields of a
frozen dataclass with ``option(...)``; ``add_flags`` generates the argparse flags from every
such class, merging a flag that several classes share (its help names each class).

>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Demo:
...     name = "demo"
...     width: int = option(8, "bits of the thing", metavar="N")
>>> [(o.flag, o.kind, o.default) for o in declared(Demo)]
[('--width', 'int', 8)]
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

__all__ = ["Declared", "add_flags", "declared", "option"]


def option(default: Any, help: str, *, choices: tuple[str, ...] | None = None,
           metavar: str | None = None) -> Any:
    """A dataclass field that is a user option: its flag is ``--name-with-dashes``."""
    return dataclasses.field(default=default,
                             metadata={"help": help, "choices": choices, "metavar": metavar})


@dataclass(frozen=True)
class Declared:
    """One option of one class, as the command line sees it."""

    name: str  # the field (and keyword argument) name
    flag: str
    kind: str  # int, str or bool (a bool option is a flag that sets True)
    default: Any
    help: str
    choices: tuple[str, ...] | None
    metavar: str | None


def _kind(annotation: Any) -> str:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    for kind in ("bool", "int", "float", "str"):
        if kind in str(text):
            return kind
    raise TypeError(f"option type {annotation!r} is not int, float, str or bool")


def declared(cls: type) -> list[Declared]:
    """The options a dataclass declares with ``option``, in field order."""
    out = []
    for f in dataclasses.fields(cls):
        if "help" not in f.metadata:
            continue
        out.append(Declared(f.name, "--" + f.name.replace("_", "-"), _kind(f.type), f.default,
                            f.metadata["help"], f.metadata["choices"], f.metadata["metavar"]))
    return out


_TYPES = {"int": int, "float": float, "str": str}


def add_flags(group: Any, owners: dict[str, type]) -> dict[str, list[str]]:
    """Add one flag per option name declared by ``owners`` ({label: dataclass}); a flag
    shared by several owners gets one help text per distinct meaning, prefixed by the labels.
    Flags default to None (not given). Returns {option name: [labels that take it]}."""
    seen: dict[str, list[tuple[str, Declared]]] = {}
    for label, cls in owners.items():
        for opt in declared(cls):
            seen.setdefault(opt.name, []).append((label, opt))
    for name, uses in seen.items():
        first = uses[0][1]
        texts: dict[str, list[str]] = {}
        for label, opt in uses:
            texts.setdefault(opt.help, []).append(label)
        help_text = "; ".join(f"{'/'.join(labels)}: {text}" for text, labels in texts.items())
        # argparse formats help with %: a literal percent sign must be doubled
        kw: dict[str, Any] = {"dest": name, "default": None,
                              "help": help_text.replace("%", "%%")}
        if first.kind == "bool":
            kw["action"] = "store_true"
        else:
            kw["type"] = _TYPES[first.kind]
            if first.choices:
                kw["choices"] = first.choices
            if first.metavar:
                kw["metavar"] = first.metavar
        group.add_argument(first.flag, **kw)
    return {name: [label for label, _ in uses] for name, uses in seen.items()}
