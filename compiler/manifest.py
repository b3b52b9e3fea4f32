"""The manifest ``<name>.json``: what was compiled, how, the files, the cost and the error.

Stable keys (schema ``actc-manifest/1``; docs/reference/manifest.md documents them): ``schema``,
``actc_version``, ``kind`` (the unit kind), ``name``, ``targets``, ``target_options``,
``files``, ``memory_bits``, ``error``, ``design`` (the resolved IR, enough to re-run the
evaluator without the compiler's front end), and each unit kind's own keys (an activation's:
``expression``, ``canonical``, ``method``, ``parameters``, ``input``, ``output``, ``domain``,
``registered``, ``symmetry``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .errors import ActcError, ManifestError
from .unit import Unit, unit_from_json

__all__ = ["SCHEMA", "dumps", "listed_file", "load", "seal", "sha256_of", "target_options"]

SCHEMA = "actc-manifest/1"


def dumps(manifest: dict) -> str:
    return json.dumps(manifest, indent=1, sort_keys=False) + "\n"


def sha256_of(data: str | bytes) -> str:
    """The hex sha256 of a file's content as written (text in UTF-8)."""
    import hashlib

    return hashlib.sha256(data if isinstance(data, bytes) else data.encode("utf-8")).hexdigest()


def seal(manifest: dict, files: dict[str, str]) -> None:
    """Record the sha256 of every file but the manifest in ``manifest["sha256"]`` (placed
    after ``files``) and render the manifest into ``files`` again."""
    own = f"{manifest['name']}.json"
    hashes = {name: sha256_of(text) for name, text in files.items() if name != own}
    items = [(k, v) for k, v in manifest.items() if k != "sha256"]
    manifest.clear()
    for k, v in items:
        manifest[k] = v
        if k == "files":
            manifest["sha256"] = hashes
    if "sha256" not in manifest:
        manifest["sha256"] = hashes
    files[own] = dumps(manifest)


def load(path: str | Path) -> tuple[dict, Unit]:
    """Read a manifest, check it against the schema (``actc.schema``) and build its unit;
    ManifestError, naming the first problem, when it is missing, damaged or invalid."""
    from .schema import MAX_MANIFEST_BYTES, check, read_json

    p = Path(path)
    where = repr(str(p))
    try:
        if p.is_file() and p.stat().st_size > MAX_MANIFEST_BYTES:
            raise ManifestError(f"manifest {where} is {p.stat().st_size} bytes: manifests "
                                f"take at most {MAX_MANIFEST_BYTES}")
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ManifestError(f"manifest {where} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        raise ManifestError(f"cannot read manifest {where}: {why}") from None
    obj = read_json(text, where)
    if not isinstance(obj, dict) or obj.get("schema") != SCHEMA:
        raise ManifestError(f"{where} is not an actc manifest (no schema {SCHEMA!r})")
    check(obj, where)
    try:
        unit = unit_from_json(obj["design"])
    except (KeyError, TypeError, ValueError, OverflowError, ActcError) as exc:
        text = exc.message if isinstance(exc, ActcError) else str(exc)
        raise ManifestError(f"manifest {where} is invalid: design: "
                            f"{text.splitlines()[0] if text else type(exc).__name__}") from None
    if unit.name != obj["name"]:
        raise ManifestError(f"manifest {where} is invalid: name {obj['name']!r} is not the "
                            f"design's ({unit.name!r})")
    return obj, unit


def listed_file(manifest_path: str | Path, manifest: dict, name: str) -> Path:
    """The path of a file the manifest lists: a regular file in the manifest's own directory,
    not a symbolic link (so nothing outside the directory is read or run); ManifestError
    otherwise."""
    if name not in manifest["files"]:
        raise ManifestError(f"manifest {str(manifest_path)!r} does not list {name!r}")
    path = Path(manifest_path).parent / name
    if path.is_symlink():
        raise ManifestError(f"{str(path)!r} is a symbolic link: verify reads only the files "
                            "in the manifest's directory")
    if not path.is_file():
        raise ManifestError(f"files listed in the manifest are missing: {name}")
    return path


def target_options(manifest: dict) -> dict[str, Any]:
    """{target: its options} as compiled (manifests from before target options carried the
    Verilog settings in ``registered`` and in the core's ``architecture``)."""
    from actc.targets import TARGETS

    saved = dict(manifest.get("target_options") or {})
    if "target_options" not in manifest and "verilog" in manifest.get("targets", []):
        core = manifest.get("design", {}).get("core", {})
        saved["verilog"] = {"registered": bool(manifest.get("registered", False)),
                            "architecture": core.get("architecture", "parallel")}
    out = {}
    for t in manifest.get("targets", []):
        if t in TARGETS:
            out[t] = TARGETS[t].options(**saved.get(t, {}))
    return out
