"""All-or-nothing output: every file of a command is rendered first, then ``write_files``
stages them all under temporary names in the destination directory, checks every
destination, and renames them into place; if anything fails, every file already moved is
put back as it was (the previous file restored, or the new one removed) and a directory the
call created is removed, so the output directory is left exactly as it was.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp()) / "out"
>>> [p.name for p in write_files(d, {"a.txt": "one\\n", "b.bin": b"2"})]
['a.txt', 'b.bin']
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from .errors import OutputError
from .limits import committing

__all__ = ["check_file_name", "output_file", "write_bytes", "write_files", "write_paths"]


def check_file_name(name: str) -> str:
    """A file name that stays in its directory: no separators, not '.', '..' or hidden
    staging names, printable."""
    if (not name or "/" in name or "\\" in name or name in (".", "..") or "\0" in name
            or not name.isprintable()):
        raise OutputError(f"{name!r} is not a plain file name")
    return name


def _created(out: Path) -> list[Path]:
    """The directories ``mkdir(parents=True)`` would create for ``out``, outermost first."""
    missing = []
    p = out
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    return missing[::-1]


def _remove_dirs(dirs: list[Path]) -> None:
    for d in reversed(dirs):
        try:
            d.rmdir()
        except OSError:
            pass


def write_files(directory: str | os.PathLike, files: Mapping[str, str | bytes]) -> list[Path]:
    """Write {file name: text or bytes} into directory, all or nothing (module docstring);
    return the paths, in order."""
    out = Path(directory)
    return write_paths({out / check_file_name(n): data for n, data in files.items()})


def write_paths(files: Mapping[Path, str | bytes]) -> list[Path]:
    """Write {path: text or bytes}, in any directories, all or nothing (module docstring);
    return the paths, in order."""
    created: list[Path] = []
    staged: list[tuple[Path, Path]] = []  # (temporary, final)
    try:
        for final in files:
            out = final.parent
            if out.exists() and not out.is_dir():
                raise OutputError(f"output path {str(out)!r} is not a directory")
            if final.is_dir() and not final.is_symlink():
                raise OutputError(f"cannot write {str(final)!r}: a directory is in the way")
            missing = _created(out)
            try:
                out.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise OutputError(f"cannot create output directory {str(out)!r}: "
                                  f"{exc.strerror or exc}") from None
            created += missing
        umask = os.umask(0)
        os.umask(umask)
        for final, data in files.items():
            fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp",
                                       dir=final.parent)
            staged.append((Path(tmp), final))
            with os.fdopen(fd, "wb") as fh:
                fh.write(data if isinstance(data, bytes) else data.encode("utf-8"))
            os.chmod(tmp, 0o666 & ~umask)
        with committing():
            _commit(staged)
    except OSError as exc:
        _discard(staged)
        _remove_dirs(created)
        if exc.errno == errno.ENAMETOOLONG:  # the file's own name: say which
            name = next((f for f in files if len(f.name.encode()) > 255), next(iter(files)))
            raise OutputError(f"cannot write {str(name)!r}: {exc.strerror}") from None
        where = staged[-1][1].parent if staged else next(iter(files)).parent
        raise OutputError(f"cannot write to {str(where)!r}: {exc.strerror or exc}") from None
    except BaseException:
        _discard(staged)
        _remove_dirs(created)
        raise
    return [final for _, final in staged]


def _discard(staged: list[tuple[Path, Path]]) -> None:
    for tmp, _ in staged:
        try:
            tmp.unlink()
        except OSError:
            pass


def _commit(staged: list[tuple[Path, Path]]) -> None:
    """Move every staged file into place; on failure, put back what was there."""
    moved: list[tuple[Path, Path | None]] = []  # (final, backup of the previous file)
    try:
        for tmp, final in staged:
            backup = None
            if final.exists() or final.is_symlink():
                fd, name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".old",
                                            dir=final.parent)
                os.close(fd)
                backup = Path(name)
                os.replace(final, backup)
            moved.append((final, backup))
            os.replace(tmp, final)
    except BaseException:
        for final, backup in reversed(moved):
            try:
                if backup is not None:
                    os.replace(backup, final)
                elif final.exists() or final.is_symlink():
                    final.unlink()
            except OSError:
                pass
        raise
    for _, backup in moved:
        if backup is not None:
            try:
                backup.unlink()
            except OSError:
                pass


def output_file(output: str | os.PathLike, default_name: str) -> tuple[Path, str]:
    """(directory, file name) for an ``-o`` that names a file or a directory: a directory
    when it ends with a separator or is one already (then ``default_name`` in it)."""
    text = os.fspath(output)
    p = Path(text)
    try:
        is_dir = p.is_dir()
    except OSError:  # e.g. a name too long for the file system: not a directory; the
        is_dir = False  # write then says why, with the path, as for any file
    if text.endswith(("/", os.sep)) or is_dir:
        return p, default_name
    return (p.parent if str(p.parent) else Path(".")), check_file_name(p.name)


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write one binary file atomically (staged in its directory, then renamed); its
    directory must exist."""
    p = Path(path)
    directory = p.parent if str(p.parent) else Path(".")
    if not directory.is_dir():
        raise OutputError(f"output directory {str(directory)!r} does not exist")
    return write_files(directory, {p.name: data})[0]
