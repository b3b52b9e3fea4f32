"""Multiplier families: one module per family, one registry keyed by the name used in
``--multiplier``, and the grammar of that option.

Grammar (docs/reference/mac.md: Multipliers)::

    SPEC  = FAMILY [ ":" ARG { "," ARG } ]
    ARG   = VALUE | NAME "=" VALUE

Positional values fill the family's parameters in order (a list parameter, the ASM alphabet,
takes every remaining one); ``NAME=VALUE`` sets one by name.

>>> parse_multiplier("drum:4")
DrumFamily(k=4)
>>> parse_multiplier("truncated:6,correction=mean").spec()
'truncated:6,correction=mean'
>>> parse_multiplier("asm:3,1").spec()
'asm:1,3'
"""

from __future__ import annotations

import difflib

from ...errors import SemanticError
from .asm import AsmFamily
from .bam import BamFamily
from .base import ArrayFamily, Family, SignMagnitude
from .drum import DrumFamily
from .exact import ExactFamily
from .ilm import IlmFamily
from .mbm import MbmFamily
from .mitchell import MitchellFamily
from .table import TableFamily
from .truncated import TruncatedFamily

__all__ = ["FAMILIES", "TABLE_USAGE", "ArrayFamily", "Family", "SignMagnitude",
           "family_from_json", "parse_multiplier", "table_file"]

FAMILIES: dict[str, type[Family]] = {
    f.name: f for f in (ExactFamily, TruncatedFamily, BamFamily, DrumFamily, MitchellFamily,
                        IlmFamily, MbmFamily, AsmFamily, TableFamily)
}


TABLE_USAGE = ("table:PATH, PATH a MAC manifest (.json: an imported circuit or any "
               "compiled multiplier) or a .npy array of products [a][b] in ascending code order")


def table_file(spec: str) -> str | None:
    """The file a ``--multiplier`` text names as a product table (``table:PATH``, or a bare
    path ending in .json or .npy), as given (case kept); None for a family spec.

    >>> table_file("table:Out/Mul.json"), table_file("out/X.JSON"), table_file("drum:4")
    ('Out/Mul.json', 'out/X.JSON', None)
    """
    text = spec.strip()
    name, sep, rest = text.partition(":")
    if name.strip().lower() == TableFamily.name:
        if not rest.strip():
            raise SemanticError(f"--multiplier {spec!r}: a product table is read from a file: "
                                f"{TABLE_USAGE}")
        path = rest.strip()
    elif text.lower().endswith((".json", ".npy")):
        path = text
    else:
        return None
    if not path.lower().endswith((".json", ".npy")):
        raise SemanticError(f"--multiplier {spec!r}: a product table is read from a MAC "
                            f"manifest (.json) or a .npy array, not {path!r} (to characterise a "
                            "circuit use actc mac import)")
    return path


def parse_multiplier(spec: str) -> Family:
    """The family configuration a ``--multiplier`` text names (SemanticError otherwise; a
    product table needs its file read: ``actc.mac.api.make_multiplier``)."""
    if table_file(spec) is not None:
        raise SemanticError(f"--multiplier {spec!r}: a product table comes with its widths: "
                            "read it with actc.mac.api.make_multiplier")
    text = spec.strip()
    name, _, rest = text.partition(":")
    name = name.strip().lower()
    cls = FAMILIES.get(name)
    if cls is None or not cls.listed:
        listed = [k for k, f in FAMILIES.items() if f.listed]
        near = difflib.get_close_matches(name, listed, n=1)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        raise SemanticError(f"--multiplier {spec!r}: unknown family {name!r}{hint} "
                            f"(actc mac list shows them: {', '.join(listed)})")
    args = [a for a in rest.split(",")] if rest.strip() else []
    if any(not a.strip() for a in args):
        raise SemanticError(f"--multiplier {spec!r}: empty argument ({cls.usage()})")
    return cls.from_args(args, spec)


def family_from_json(obj: dict) -> Family:
    name = obj["family"]
    cls = FAMILIES[name]
    if cls is TableFamily:
        return TableFamily.from_json(obj)
    params = {k: (tuple(v) if isinstance(v, list) else v) for k, v in obj.items()
              if k != "family"}
    family: Family = cls(**params)
    return family
