"""Views of a MAC unit that every target prints: the header facts, and each family's
constants (partial-product row masks, window widths, fraction bits, the ASM weight layout,
an imported table), computed from the IR so templates only lay them out."""

from __future__ import annotations

from typing import Any

import numpy as np

from actc.mac.families import ArrayFamily, Family
from actc.mac.families.asm import AsmFamily
from actc.mac.families.drum import DrumFamily
from actc.mac.families.ilm import IlmFamily
from actc.mac.families.mbm import MbmFamily
from actc.mac.families.mitchell import MitchellFamily
from actc.mac.families.table import TableFamily
from actc.mac.ir import MacUnit

from .base import EmitInfo

__all__ = ["family_template", "family_view", "mac_header"]


def mac_header(unit: MacUnit, info: EmitInfo) -> dict[str, Any]:
    """Names, formats, provenance and metrics every target's file header quotes."""
    m = unit.multiplier
    fa, fb, fo, fw = m.a_format, m.b_format, m.out_format, m.weight_format
    met = info.error
    return {
        "name": unit.name, "NAME": unit.name.upper(), "version": info.version,
        "spec": m.family.spec(), "title": m.family.title, "reference": m.family.reference,
        "signing": m.family.signing, "signed": m.signed, "summary": unit.summary(),
        "na": m.a_bits, "nb": m.b_bits, "np": m.out_bits, "nw": m.weight_bits,
        "a_min": fa.code_min, "a_max": fa.code_max, "b_min": fb.code_min, "b_max": fb.code_max,
        "w_min": fw.code_min, "w_max": fw.code_max, "p_min": fo.code_min, "p_max": fo.code_max,
        "encoded": m.encoded, "lanes": unit.lanes, "accumulate": unit.accumulate,
        "acc_bits": unit.acc_bits, "b_names": unit.lane_names("b"),
        "y_names": unit.lane_names("acc" if unit.accumulate else "y"),
        "metrics_text": (f"over {met['pairs']} {'(all)' if met['exhaustive'] else 'sampled'} "
                         f"pairs: MRE {met['mre_percent']:.4g} %, MAE {met['mae_percent']:.4g} "
                         f"%, WCE {met['wce_percent']:.4g} %, EP {met['ep_percent']:.4g} %, "
                         f"bias {met['bias']:.4g}"),
    }


def family_template(family: Family) -> str:
    """The template stem of a family's datapath (the partial-product arrays share one)."""
    return "array" if isinstance(family, ArrayFamily) else family.name


def family_view(unit: MacUnit) -> dict[str, Any]:
    """The family's constants, for every target."""
    m = unit.multiplier
    f = m.family
    na, nb, s = m.a_bits, m.b_bits, m.signed
    if isinstance(f, ArrayFamily):
        rows = [{"j": j, "and_mask": a, "nand_mask": n}
                for j, (a, n) in enumerate(f.rows(na, nb, s))]
        return {"rows": rows, "constant": f.constant(na, nb, s) % (1 << m.out_bits),
                "kept": sum(bin(r["and_mask"] | r["nand_mask"]).count("1") for r in rows)}
    if isinstance(f, DrumFamily):
        return {"k": f.k}
    if isinstance(f, MbmFamily):
        frac = f.fraction_bits(na, nb)
        return {"frac": frac, "c": 10 << (frac - 7)}
    if isinstance(f, MitchellFamily):
        return {"frac": max(na, nb) - 1}
    if isinstance(f, IlmFamily):
        return {"corrections": f.corrections}
    if isinstance(f, AsmFamily):
        lay = f.layout(nb, s)
        return {"alphabet": list(lay.alphabet), "quartets": lay.quartets,
                "select_bits": lay.select_bits, "field_bits": lay.field_bits,
                "sign_bit": lay.quartets * lay.field_bits,
                "rounding": [int(v) for v in f.rounding(nb, s)],
                "magnitude_max": lay.magnitude_max,
                "codes": [int(v) for v in lay.encode_magnitude(f.rounding(nb, s))]}
    if isinstance(f, TableFamily):
        flat = np.asarray(f.values, dtype=np.int64).ravel()
        return {"values": [int(v) for v in flat], "source": f.source}
    return {}
