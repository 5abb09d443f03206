"""Atomic writing and safe reading of ``.keras`` files that carry digitcnn's metadata.

A digitcnn model file is an ordinary Keras ``.keras`` archive with one extra
member, ``digitcnn.json``, holding the library's metadata. Keras ignores the
extra member, so the file also opens with :func:`keras.saving.load_model`.
"""

from __future__ import annotations

import json
import os
import stat
import zipfile
import zlib
from pathlib import Path
from typing import Any

import keras

from digitcnn._atomic import atomic_output
from digitcnn._constants import NUM_CLASSES
from digitcnn._model import INPUT_SHAPE

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "METADATA_MEMBER", "read_model", "write_model"]

METADATA_MEMBER = "digitcnn.json"
"""Name of the archive member that holds digitcnn's metadata."""

FORMAT_NAME = "digitcnn.DigitClassifier"
"""Value of the metadata's ``format`` key, which marks a file as digitcnn's."""

FORMAT_VERSION = 1
"""Version of the metadata layout; files of another version are refused."""

_SUFFIX = ".keras"


def _check_suffix(path: Path) -> None:
    if path.suffix != _SUFFIX:
        raise ValueError(f"model files must end in {_SUFFIX!r}; got {str(path)!r}")


def write_model(model: keras.Model, path: os.PathLike[str] | str, metadata: dict[str, Any]) -> None:
    """Write ``model`` and ``metadata`` to ``path`` atomically.

    The archive is written to a temporary file in the same folder, flushed to
    disk and then renamed over ``path`` in one step, so ``path`` always holds
    either its old content or the complete new file, whatever happens. Only
    the network is saved, not the optimizer's state: a third of the size,
    and all that prediction needs.
    """
    target = Path(path)
    _check_suffix(target)
    if target.is_dir():
        raise IsADirectoryError(f"cannot save the model to {target}: it is a directory")
    mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o644
    with atomic_output(target, what="the model") as staged:
        network = type(model).from_config(model.get_config())  # uncompiled: no optimizer state
        network.set_weights(model.get_weights())
        network.save(staged)
        with zipfile.ZipFile(staged, "a", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(METADATA_MEMBER, json.dumps(metadata, indent=2, sort_keys=True))
        os.chmod(staged, mode)


def _read_metadata(path: Path) -> dict[str, Any]:
    """Return the checked digitcnn metadata of the archive at ``path``."""
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is not a digitcnn model: not a .keras (zip) archive")
    try:
        with zipfile.ZipFile(path) as archive:
            if METADATA_MEMBER not in archive.namelist():
                raise ValueError(
                    f"{path} is not a digitcnn model: it has no {METADATA_MEMBER}. Open "
                    "plain Keras models with keras.saving.load_model"
                )
            damaged = archive.testzip()
            if damaged is not None:
                raise ValueError(f"{path} is corrupted: member {damaged} fails its checksum")
            metadata = json.loads(archive.read(METADATA_MEMBER))
    except (zipfile.BadZipFile, zlib.error, EOFError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is corrupted: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is corrupted: unreadable {METADATA_MEMBER} ({exc})") from exc
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT_NAME:
        raise ValueError(f"{path} is not a digitcnn model: unknown metadata format")
    version = metadata.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(
            f"{path} has metadata format version {version!r}, written by digitcnn "
            f"{metadata.get('digitcnn_version', 'unknown')}; this digitcnn reads version "
            f"{FORMAT_VERSION}"
        )
    return metadata


def read_model(path: os.PathLike[str] | str) -> tuple[keras.Model, dict[str, Any]]:
    """Read a model written by :func:`write_model`, with Keras's safe mode on.

    Returns
    -------
    tuple
        The (uncompiled) Keras model and digitcnn's metadata.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If ``path`` is not a digitcnn model file, or is corrupted.
    """
    source = Path(path)
    if not source.exists():
        raise FileNotFoundError(f"model file not found: {source}")
    if not source.is_file():
        raise ValueError(f"{source} is not a digitcnn model: not a file")
    _check_suffix(source)
    metadata = _read_metadata(source)
    try:
        model = keras.saving.load_model(source, compile=False, safe_mode=True)
    except Exception as exc:  # Keras raises many types for a damaged archive
        raise ValueError(
            f"{source} is corrupted or not loadable by this Keras: {type(exc).__name__}: {exc}"
        ) from exc
    shapes = tuple(model.input_shape), tuple(model.output_shape)
    if shapes != ((None, *INPUT_SHAPE), (None, NUM_CLASSES)):
        raise ValueError(
            f"{source} is not a digitcnn model: its network maps {shapes[0]} to {shapes[1]}; "
            f"expected {(None, *INPUT_SHAPE)} to {(None, NUM_CLASSES)}"
        )
    return model, metadata
