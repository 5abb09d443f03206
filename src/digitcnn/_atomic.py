"""Atomic output: nothing incomplete ever appears at the path of a file or folder.

A file is replaced in one rename: its path holds the old content or the
complete new one, whatever happens. A folder cannot be renamed over an
existing one, so replacing a folder takes two renames (the old one aside,
the new one in): between them, for a moment, there is no folder at the path,
and a crash there leaves the old folder beside it as ``.<name>.old``. At no
moment is a half-written file or folder at the path.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_output"]


def _fsync(path: Path) -> None:
    """Flush a file, or a directory entry, to disk where the platform allows it (POSIX)."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _replace(source: Path, target: Path) -> None:
    """Move the finished ``source`` to ``target``: one rename for a file or a new folder.

    Replacing an existing folder takes two renames; see the module's description.
    """
    if source.is_file() or not target.exists():
        os.replace(source, target)
        return
    # A folder cannot be renamed over a non-empty one: move the old aside first.
    backup = target.with_name(f".{target.name}.old")
    shutil.rmtree(backup, ignore_errors=True)
    os.replace(target, backup)
    os.replace(source, target)
    shutil.rmtree(backup, ignore_errors=True)


@contextlib.contextmanager
def atomic_output(path: os.PathLike[str] | str, *, what: str) -> Iterator[Path]:
    """Yield a staging path with ``path``'s name; when the block succeeds, move it to ``path``.

    The staging path lies in a new hidden folder beside ``path``, so the final
    rename stays on one file system and is atomic for a file. The staged file
    is flushed to disk before the rename. If the block raises, ``path`` is
    untouched and the staging folder removed.

    Parameters
    ----------
    path : path-like
        Where the output belongs.
    what : str
        What is written, for error messages ("the model", "the plot").

    Raises
    ------
    FileNotFoundError
        If ``path``'s folder does not exist.
    """
    target = Path(path)
    if not target.parent.is_dir():
        raise FileNotFoundError(
            f"cannot write {what} to {target}: folder {target.parent} does not exist"
        )
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        staged = work / target.name
        yield staged
        if staged.is_file():
            _fsync(staged)
        _replace(staged, target)
        _fsync(target.parent)
    finally:
        shutil.rmtree(work, ignore_errors=True)
