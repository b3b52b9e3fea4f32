"""Multiplier families: one module per family, one registry keyed by the name used in
``--multiplier``, and the grammar of that option.

Grammar (README "Multipliers")::

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

__all__ = ["FAMILIES", "ArrayFamily", "Family", "SignMagnitude", "family_from_json",
           "parse_multiplier"]

FAMILIES: dict[str, type[Family]] = {
    f.name: f for f in (ExactFamily, TruncatedFamily, BamFamily, DrumFamily, MitchellFamily,
                        IlmFamily, MbmFamily, AsmFamily, TableFamily)
}


def parse_multiplier(spec: str) -> Family:
    """The family configuration a ``--multiplier`` text names (SemanticError otherwise)."""
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
