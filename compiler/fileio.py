"""Atomic output: every file is rendered first, written to a temporary name in the target
directory, then renamed into place; on any failure nothing of this run is left behind."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from .errors import OutputError

__all__ = ["write_bytes", "write_files"]


def write_files(directory: str | os.PathLike, files: Mapping[str, str | bytes]) -> list[Path]:
    """Write {file name: text or bytes} into directory atomically; return the paths, in
    order."""
    out = Path(directory)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create output directory {str(out)!r}: {exc.strerror}") from None
    if not out.is_dir():
        raise OutputError(f"output path {str(out)!r} is not a directory")
    umask = os.umask(0)
    os.umask(umask)
    temps: list[tuple[str, Path]] = []
    try:
        for name, text in files.items():
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=out)
            temps.append((tmp, out / name))
            if isinstance(text, bytes):
                with os.fdopen(fd, "wb") as fb:
                    fb.write(text)
            else:
                with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
                    fh.write(text)
            os.chmod(tmp, 0o666 & ~umask)
        for tmp, final in temps:
            os.replace(tmp, final)
    except OSError as exc:
        for tmp, _ in temps:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        raise OutputError(f"cannot write to {str(out)!r}: {exc.strerror or exc}") from None
    return [final for _, final in temps]


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write one binary file atomically (temporary name in its directory, then rename)."""
    p = Path(path)
    directory = p.parent if str(p.parent) else Path(".")
    if not directory.is_dir():
        raise OutputError(f"output directory {str(directory)!r} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=directory)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, p)
    except OSError as exc:
        raise OutputError(f"cannot write {str(p)!r}: {exc.strerror or exc}") from None
    return p
