"""Reading MNIST: the IDX format, Keras-style ``.npz`` files and Keras's download."""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from digitcnn._constants import IMAGE_SIZE
from digitcnn._exceptions import DataUnavailableError
from digitcnn._types import MNISTSplits
from digitcnn._validation import check_labels

__all__ = ["DATA_ENV_VAR", "data_path", "load_mnist", "read_idx"]

DATA_ENV_VAR = "DIGITCNN_DATA"
"""Environment variable naming the MNIST folder or ``.npz`` file used when no path is given."""

_IDX_UBYTE = 0x08
_GZIP_MAGIC = b"\x1f\x8b"
_IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
_SPLIT_KEYS = ("x_train", "y_train", "x_test", "y_test")


def _read_bytes(path: Path) -> bytes:
    """Return the content of ``path``, decompressed if it is gzipped."""
    raw = path.read_bytes()
    if not raw.startswith(_GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as exc:
        raise ValueError(f"{path}: corrupted or truncated gzip data ({exc})") from exc


def read_idx(path: os.PathLike[str] | str) -> NDArray[np.uint8]:
    """Read one IDX file of unsigned bytes, gzipped or not.

    IDX is the format in which MNIST is distributed: a big-endian header (two
    zero bytes, a type code, the number of dimensions, then one 32-bit size per
    dimension) followed by the values. Only the unsigned-byte type (code
    ``0x08``) used by MNIST is supported.

    Parameters
    ----------
    path : os.PathLike or str
        The file to read. Gzip compression is detected from the content, not
        from the file name.

    Returns
    -------
    numpy.ndarray of uint8
        The values, with the shape given in the header.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not IDX, is truncated, has trailing bytes, or its gzip
        stream is corrupted. The message names the file.

    Examples
    --------
    >>> from digitcnn import read_idx
    >>> read_idx("data/mnist/t10k-labels-idx1-ubyte.gz")[:5]
    array([7, 2, 1, 0, 4], dtype=uint8)
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"IDX file not found: {path}")
    data = _read_bytes(path)
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(
            f"{path}: not an IDX file (expected a header starting with two zero bytes, "
            f"got {data[:4]!r})"
        )
    type_code, ndim = data[2], data[3]
    if type_code != _IDX_UBYTE:
        raise ValueError(
            f"{path}: unsupported IDX value type 0x{type_code:02x}; "
            f"only unsigned bytes (0x{_IDX_UBYTE:02x}) are supported"
        )
    if ndim == 0:
        raise ValueError(f"{path}: IDX header declares 0 dimensions")
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise ValueError(f"{path}: truncated IDX header ({len(data)} of {header_size} bytes)")
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    expected = math.prod(shape)
    found = len(data) - header_size
    if found < expected:
        raise ValueError(
            f"{path}: truncated IDX data: header shape {shape} needs {expected} bytes, "
            f"found {found}"
        )
    if found > expected:
        raise ValueError(
            f"{path}: {found - expected} unexpected trailing bytes after the IDX data "
            f"of shape {shape}"
        )
    values: NDArray[np.uint8] = np.frombuffer(data, dtype=np.uint8, offset=header_size)
    shaped: NDArray[np.uint8] = values.reshape(shape).copy()
    return shaped


def _check_split(
    images: NDArray[np.generic], labels: NDArray[np.generic], source: str
) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    """Check that ``images`` and ``labels`` form a valid MNIST split.

    The labels follow the input contract; beyond it, MNIST's own format holds
    bytes, so both arrays must be uint8 (the contract also takes other dtypes).
    """
    expected = (IMAGE_SIZE, IMAGE_SIZE)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != expected:
        raise ValueError(
            f"{source}: images must be uint8 of shape (n, {IMAGE_SIZE}, {IMAGE_SIZE}); "
            f"got {images.dtype} of shape {images.shape}"
        )
    if labels.dtype != np.uint8:
        raise ValueError(f"{source}: labels must be uint8; got {labels.dtype}")
    try:
        check_labels(labels, n_images=len(images))
    except ValueError as error:
        raise ValueError(f"{source}: {error}") from None
    return images.astype(np.uint8, copy=False), labels.astype(np.uint8, copy=False)


def _find_idx_file(folder: Path, stem: str) -> Path:
    """Return the gzipped or plain IDX file named ``stem`` in ``folder``."""
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{folder}: missing MNIST file {stem}.gz (or {stem})")


def _load_idx_folder(folder: Path) -> MNISTSplits:
    """Load the four standard IDX files from ``folder``."""
    files = {key: _find_idx_file(folder, stem) for key, stem in _IDX_FILES.items()}
    arrays = {key: read_idx(path) for key, path in files.items()}
    train = _check_split(arrays["x_train"], arrays["y_train"], f"{folder} (training files)")
    test = _check_split(arrays["x_test"], arrays["y_test"], f"{folder} (test files)")
    return train, test


def _load_npz(path: Path) -> MNISTSplits:
    """Load a Keras-style ``mnist.npz`` with keys x_train, y_train, x_test and y_test."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            found = sorted(npz.files)
            arrays = {key: npz[key] for key in _SPLIT_KEYS if key in found}
    except Exception as exc:  # np.load raises OSError, BadZipFile, ValueError, ...
        raise ValueError(
            f"{path}: not a readable .npz archive ({type(exc).__name__}: {exc}); expected a "
            "folder of IDX files or a Keras-style mnist.npz"
        ) from exc
    if len(arrays) != len(_SPLIT_KEYS):
        raise ValueError(f"{path}: expected the arrays {list(_SPLIT_KEYS)}; found {found}")
    train = _check_split(arrays["x_train"], arrays["y_train"], str(path))
    test = _check_split(arrays["x_test"], arrays["y_test"], str(path))
    return train, test


def _download() -> MNISTSplits:
    """Load MNIST through Keras's download and cache (``~/.keras/datasets``)."""
    try:
        from keras.datasets import mnist

        (x_train, y_train), (x_test, y_test) = mnist.load_data()
    except Exception as exc:  # Keras raises a bare Exception on fetch failures
        raise DataUnavailableError(
            "MNIST could not be downloaded by Keras and is not in its cache "
            f"({type(exc).__name__}: {exc}). Point digitcnn at local files instead: "
            "load_mnist('path/to/folder') with the four IDX files (.gz or not), "
            f"load_mnist('path/to/mnist.npz'), or set the {DATA_ENV_VAR} environment "
            "variable to that folder or file."
        ) from exc
    return (
        _check_split(np.asarray(x_train), np.asarray(y_train), "Keras mnist.load_data()"),
        _check_split(np.asarray(x_test), np.asarray(y_test), "Keras mnist.load_data()"),
    )


def data_path(path: os.PathLike[str] | str | None) -> Path | None:
    """Return where :func:`load_mnist` reads MNIST: ``path``, else ``$DIGITCNN_DATA``.

    None means neither is given, and Keras's download is used.
    """
    if path is None:
        path = os.environ.get(DATA_ENV_VAR, "").strip() or None
    return None if path is None else Path(path).expanduser()


def load_mnist(path: os.PathLike[str] | str | None = None) -> MNISTSplits:
    """Load MNIST as ``((x_train, y_train), (x_test, y_test))``.

    The arrays are exactly those of :func:`keras.datasets.mnist.load_data`:
    uint8 images of shape ``(n, 28, 28)`` with values 0-255 and uint8 labels of
    shape ``(n,)`` with values 0-9 (60,000 training and 10,000 test records for
    the full data set).

    Parameters
    ----------
    path : os.PathLike or str, optional
        A folder holding the four standard IDX files
        (``train-images-idx3-ubyte`` and so on, gzipped or not), or a
        Keras-style ``.npz`` file with the keys ``x_train``, ``y_train``,
        ``x_test`` and ``y_test``. If omitted, the folder or file named by the
        ``DIGITCNN_DATA`` environment variable is used, and if that is unset,
        Keras's download and cache.

    Returns
    -------
    tuple
        ``((x_train, y_train), (x_test, y_test))``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist or a folder lacks one of the four files.
    ValueError
        If a file is corrupted, truncated or does not hold MNIST-shaped data;
        the message names the file.
    DataUnavailableError
        If no path is given, ``DIGITCNN_DATA`` is unset and the download fails.

    Examples
    --------
    >>> from digitcnn import load_mnist
    >>> (x_train, y_train), (x_test, y_test) = load_mnist("data/mnist")
    >>> x_train.shape, x_train.dtype, y_test[:5]
    ((60000, 28, 28), dtype('uint8'), array([7, 2, 1, 0, 4], dtype=uint8))
    """
    source = data_path(path)
    if source is None:
        return _download()
    if source.is_dir():
        return _load_idx_folder(source)
    if source.is_file():
        return _load_npz(source)
    raise FileNotFoundError(
        f"MNIST data not found at {source}: expected a folder with the four IDX files "
        "or a Keras-style .npz file"
    )
