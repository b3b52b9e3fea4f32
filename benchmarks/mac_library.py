"""Issue 8, benchmark 1: the multiplier library at 8 bits, unsigned and signed.

    python benchmarks/mac_library.py        # the same as actc mac report --library, twice

Every library configuration (``actc.mac.library.LIBRARY``: 16, the exact one included):
EvoApproxLib's metrics over every operand pair (exhaustive: 65536 pairs) and Yosys 0.23
(synth_xilinx UltraScale+, -nodsp: the multiplier in LUTs) LUTs and depth, with the Pareto
set (no other configuration has both lower MRE and fewer LUTs). The published anchors are
checked: 8x8 unsigned MRE of Mitchell about 3.8 %, DRUM-4 about 5.9 %, DRUM-6 about 1.3 %.

Results: benchmarks/results/mac_library_8u.{json,png}, mac_library_8s.{json,png} and
mac_library.txt. Yosys figures are deterministic: one run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import RESULTS  # noqa: E402

from actc.mac.library import library_report  # noqa: E402

ANCHORS = {"mitchell": 3.8, "drum:4": 5.9, "drum:6": 1.3}  # DOMAIN.md, unsigned 8x8 MRE %


def main() -> int:
    parts = []
    for signed in (False, True):
        kind = "signed" if signed else "unsigned"
        _, text = library_report(8, signed, RESULTS, progress=sys.stderr)
        rows = json.loads((RESULTS / f"mac_library_8{'s' if signed else 'u'}.json")
                          .read_text())
        parts += [f"8x8-bit {kind} (Pareto: {', '.join(rows['pareto'])})", text, ""]
        if not signed:
            mre = {r["spec"]: r["metrics"]["mre_percent"] for r in rows["rows"]}
            parts.append("anchors (unsigned MRE %): " + ", ".join(
                f"{k} {mre[k]:.2f} (published ~{v})" for k, v in ANCHORS.items()))
            parts.append("")
    text = "\n".join(parts)
    print(text)
    (RESULTS / "mac_library.txt").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
