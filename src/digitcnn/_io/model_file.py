"""The model files: ``.keras`` archives with digitcnn's metadata, their schemas written and read.

A digitcnn model file is an ordinary Keras ``.keras`` archive with one extra
member, ``digitcnn.json``, holding the library's metadata. Keras ignores the
extra member, so the file also opens with :func:`keras.saving.load_model`.
Its ``format`` says what it holds: a :class:`~digitcnn.DigitClassifier`
(``FORMAT_NAME``) or a :class:`~digitcnn.NumberReader`
(``READER_FORMAT_NAME``).

The metadata (format version 1) holds ``format`` and ``format_version``; the
versions of digitcnn, Keras and TensorFlow that wrote it and when
(``saved_at``); the classifier's hyperparameters (``params``) and the
resolved recipe it trained with (``recipe``); the input contract
(``preprocessing``); the ``classes``; the per-epoch ``history`` and the
``final_metrics``. A number reader's holds the same versions, its
``params``, ``history`` and ``final_metrics``, and its input contract.
Writing is atomic; reading keeps Keras's safe mode on.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import stat
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from numpy.typing import NDArray

from digitcnn._atomic import atomic_output
from digitcnn._constants import IMAGE_SIZE, INPUT_SHAPE, MAX_PIXEL, NUM_CLASSES
from digitcnn._training.recipes import Recipe, recipe_from_dict
from digitcnn._validation import check_network_shapes
from digitcnn._version import __version__
from digitcnn._vision.number_frame import FRAME_HEIGHT, STEP_WIDTH

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "METADATA_MEMBER",
    "READER_FORMAT_NAME",
    "SavedClassifier",
    "SavedReader",
    "read_model",
    "read_number_reader",
    "write_model",
    "write_number_reader",
]

METADATA_MEMBER = "digitcnn.json"
"""Name of the archive member that holds digitcnn's metadata."""

FORMAT_NAME = "digitcnn.DigitClassifier"
"""Value of the metadata's ``format`` key, which marks a file as digitcnn's."""

READER_FORMAT_NAME = "digitcnn.NumberReader"
"""Value of the metadata's ``format`` key in a number reader's file."""

FORMAT_VERSION = 1
"""Version of the metadata layout; files of another version are refused."""

_SUFFIX = ".keras"
_KINDS = {FORMAT_NAME: "DigitClassifier", READER_FORMAT_NAME: "NumberReader"}


def _check_suffix(path: Path) -> None:
    if path.suffix != _SUFFIX:
        raise ValueError(f"model files must end in {_SUFFIX!r}; got {str(path)!r}")


@dataclasses.dataclass(frozen=True)
class SavedClassifier:
    """What a model file holds, read and checked."""

    model: keras.Model
    """The network, uncompiled."""
    params: dict[str, Any]
    """The classifier's hyperparameters, as passed to its constructor."""
    recipe: Recipe
    """The recipe the network was trained with, as it was then."""
    history: dict[str, list[float]]
    """Loss and metrics per epoch."""
    classes: NDArray[np.int64]
    """The class labels."""
    metadata: dict[str, Any]
    """The whole of ``digitcnn.json``."""


@dataclasses.dataclass(frozen=True)
class SavedReader:
    """What a number reader's file holds, read and checked."""

    model: keras.Model
    """The network, uncompiled."""
    params: dict[str, Any]
    """The reader's hyperparameters, as passed to its constructor."""
    history: dict[str, list[float]]
    """Loss per epoch."""


def _common(
    format_name: str, params: Mapping[str, Any], history: Mapping[str, list[float]]
) -> dict[str, Any]:
    """Return the metadata that every digitcnn model file has."""
    return {
        "format": format_name,
        "format_version": FORMAT_VERSION,
        "digitcnn_version": __version__,
        "keras_version": keras.__version__,
        "tensorflow_version": tf.__version__,
        "saved_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "params": dict(params),
        "history": dict(history),
        "final_metrics": {key: values[-1] for key, values in history.items() if values},
    }


def _metadata(
    params: Mapping[str, Any],
    recipe: Recipe,
    history: Mapping[str, list[float]],
    classes: NDArray[np.int64],
) -> dict[str, Any]:
    return {
        **_common(FORMAT_NAME, params, history),
        "recipe": dataclasses.asdict(recipe),
        "preprocessing": {
            "input_shape": list(INPUT_SHAPE),
            "input_dtype": "float32",
            "input_range": [0.0, 1.0],
            "integer_images_divided_by": MAX_PIXEL,
            "image_size": IMAGE_SIZE,
        },
        "classes": classes.tolist(),
    }


def write_model(
    path: os.PathLike[str] | str,
    model: keras.Model,
    *,
    params: Mapping[str, Any],
    recipe: Recipe,
    history: Mapping[str, list[float]],
    classes: NDArray[np.int64],
) -> None:
    """Write ``model`` and the classifier's metadata to ``path`` atomically (see ``_write``)."""
    _write(path, model, _metadata(params, recipe, history, classes))


def write_number_reader(
    path: os.PathLike[str] | str,
    model: keras.Model,
    *,
    params: Mapping[str, Any],
    history: Mapping[str, list[float]],
) -> None:
    """Write a number reader's network and metadata to ``path`` atomically (see ``_write``)."""
    metadata = _common(READER_FORMAT_NAME, params, history)
    metadata["preprocessing"] = {
        "input_shape": [FRAME_HEIGHT, None, 1],
        "input_dtype": "float32",
        "input_range": [0.0, 1.0],
        "step_width": STEP_WIDTH,
        "classes": "the digits 0-9, then the CTC blank",
    }
    _write(path, model, metadata)


def _write(path: os.PathLike[str] | str, model: keras.Model, metadata: dict[str, Any]) -> None:
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


def _read_metadata(path: Path, format_name: str) -> dict[str, Any]:
    """Return the checked metadata of the archive at ``path``, which must be of ``format_name``."""
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
    if not isinstance(metadata, dict) or metadata.get("format") not in _KINDS:
        raise ValueError(f"{path} is not a digitcnn model: unknown metadata format")
    if metadata["format"] != format_name:
        raise ValueError(
            f"{path} holds a {_KINDS[metadata['format']]}, not a {_KINDS[format_name]}"
        )
    version = metadata.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(
            f"{path} has metadata format version {version!r}, written by digitcnn "
            f"{metadata.get('digitcnn_version', 'unknown')}; this digitcnn reads version "
            f"{FORMAT_VERSION}"
        )
    return metadata


def _history(value: object) -> dict[str, list[float]]:
    if not isinstance(value, dict) or not all(
        isinstance(values, list) and all(isinstance(v, (int, float)) for v in values)
        for values in value.values()
    ):
        raise ValueError("its history must map metric names to lists of numbers")
    return {str(key): [float(v) for v in values] for key, values in value.items()}


def _classes(value: object) -> NDArray[np.int64]:
    if value != list(range(NUM_CLASSES)):
        raise ValueError(f"its classes must be the digits 0 to {NUM_CLASSES - 1}; got {value!r}")
    return np.arange(NUM_CLASSES, dtype=np.int64)


def _read(
    path: os.PathLike[str] | str, format_name: str
) -> tuple[keras.Model, dict[str, Any], Path]:
    """Return the network and checked metadata of a file of ``format_name``, and its path."""
    source = Path(path)
    if not source.exists():
        raise FileNotFoundError(f"model file not found: {source}")
    if not source.is_file():
        raise ValueError(f"{source} is not a digitcnn model: not a file")
    _check_suffix(source)
    metadata = _read_metadata(source, format_name)
    try:
        model = keras.saving.load_model(source, compile=False, safe_mode=True)
    except Exception as exc:  # Keras raises many types for a damaged archive
        raise ValueError(
            f"{source} is corrupted or not loadable by this Keras: {type(exc).__name__}: {exc}"
        ) from exc
    return model, metadata, source


def _params(value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"its params must be a dict; got {value!r}")
    return value


def read_model(path: os.PathLike[str] | str) -> SavedClassifier:
    """Read a model written by :func:`write_model`, with Keras's safe mode on.

    Returns
    -------
    SavedClassifier
        The (uncompiled) Keras model and what the classifier saved with it.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If ``path`` is not a digitcnn model file, is corrupted, or its
        metadata breaks the schema.
    """
    model, metadata, source = _read(path, FORMAT_NAME)
    check_network_shapes(source, model.input_shape, model.output_shape)
    try:
        return SavedClassifier(
            model=model,
            params=_params(metadata.get("params")),
            recipe=recipe_from_dict(metadata.get("recipe")),
            history=_history(metadata.get("history", {})),
            classes=_classes(metadata.get("classes")),
            metadata=metadata,
        )
    except (TypeError, ValueError) as error:
        raise ValueError(f"{source} has invalid metadata: {error}") from None


def read_number_reader(path: os.PathLike[str] | str) -> SavedReader:
    """Read a number reader written by :func:`write_number_reader`, with Keras's safe mode on.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If ``path`` is not a number reader's file, is corrupted, or its
        network maps other shapes than a strip to step probabilities.
    """
    model, metadata, source = _read(path, READER_FORMAT_NAME)
    shapes = [
        tuple(None if d is None else int(d) for d in s)
        for s in (model.input_shape, model.output_shape)
    ]
    if shapes[0][1:] != (FRAME_HEIGHT, None, 1) or shapes[1][2:] != (NUM_CLASSES + 1,):
        raise ValueError(
            f"{source} is not a digitcnn number reader: its network maps {shapes[0]} to "
            f"{shapes[1]}; expected (n, {FRAME_HEIGHT}, width, 1) to (n, steps, {NUM_CLASSES + 1})"
        )
    try:
        return SavedReader(
            model=model,
            params=_params(metadata.get("params")),
            history=_history(metadata.get("history", {})),
        )
    except (TypeError, ValueError) as error:
        raise ValueError(f"{source} has invalid metadata: {error}") from None
