"""Issue 16: why the manifest schema uses pydantic rather than jsonschema.

    pip install -e '.[bench]'            # jsonschema is in the bench extra
    python benchmarks/schema_speed.py [--entries 1048576] [--runs 3]

The largest tables a manifest holds have 2^20 (up to 2^21) entries. The same document, a
design core with that many integers, is checked for "a list of 64-bit integers" by
jsonschema (Draft 2020-12, pure Python) and by a strict pydantic model (Rust), in the same
run, median of several runs each; ``json.loads`` of the text alongside for scale.
Results: benchmarks/results/schema_speed.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Annotated

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import save  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=1 << 20)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    import jsonschema
    from pydantic import BaseModel, ConfigDict, Field

    n = args.entries
    obj = {"design": {"core": {"values": list(range(-n // 2, n // 2))}}}
    text = json.dumps(obj)
    int64 = {"type": "integer", "minimum": -(1 << 63), "maximum": (1 << 63) - 1}
    schema = {"type": "object", "properties": {"design": {"type": "object", "properties": {
        "core": {"type": "object", "properties": {"values": {"type": "array",
                                                             "items": int64}}}}}}}
    validator = jsonschema.Draft202012Validator(schema)

    class Core(BaseModel):
        model_config = ConfigDict(strict=True, extra="forbid")
        values: list[Annotated[int, Field(ge=-(1 << 63), lt=1 << 63)]]

    class Design(BaseModel):
        model_config = ConfigDict(strict=True)
        core: Core

    class Doc(BaseModel):
        model_config = ConfigDict(strict=True)
        design: Design

    def timed(fn):
        times = []
        for _ in range(args.runs):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return statistics.median(times), times

    out = {"entries": n, "runs": args.runs,
           "machine": "shared 2-core machine (other jobs running)"}
    out["json_loads_s"], _ = timed(lambda: json.loads(text))
    out["pydantic_s"], out["pydantic_times"] = timed(lambda: Doc.model_validate(obj))
    out["jsonschema_s"], out["jsonschema_times"] = timed(lambda: validator.validate(obj))
    out["ratio"] = out["jsonschema_s"] / out["pydantic_s"]
    print(json.dumps(out, indent=1))
    save("schema_speed", out)


if __name__ == "__main__":
    main()
