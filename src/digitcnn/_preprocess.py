"""The input contract: validate and convert images and labels for the model.

Images
    A single ``(28, 28)`` image, a batch ``(n, 28, 28)``, ``(n, 28, 28, 1)``, or
    flattened ``(n, 784)``. Integer images (any integer dtype) must hold values
    0-255 and are divided by 255; floating-point images must already be scaled
    to [0, 1] and are used as they are. This rule has no ambiguous case: an
    integer array is always on the 0-255 scale, a float array always on the
    0-1 scale. Booleans, strings, objects and complex numbers are refused, as
    are empty batches, NaN and infinity.
Labels
    The digits 0-9 as integers (or floats holding whole numbers), shape ``(n,)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from digitcnn._constants import IMAGE_SIZE, MAX_PIXEL, N_PIXELS, NUM_CLASSES

__all__ = ["preprocess_batches", "preprocess_images", "preprocess_labels"]

_CHECK_CHUNK = 4096  # images checked for NaN at a time

_ACCEPTED_SHAPES = (
    f"(n, {IMAGE_SIZE}, {IMAGE_SIZE}), (n, {IMAGE_SIZE}, {IMAGE_SIZE}, 1), "
    f"(n, {N_PIXELS}) or ({IMAGE_SIZE}, {IMAGE_SIZE})"
)


def _as_numeric_array(values: ArrayLike, what: str) -> NDArray[Any]:
    """Convert ``values`` to a real-valued NumPy array or raise a clear error."""
    if isinstance(values, (str, bytes)) or values is None:
        raise TypeError(f"{what} must be a numeric array; got {type(values).__name__}")
    try:
        array = np.asarray(values)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{what} must be a numeric array of uniform shape; could not convert "
            f"{type(values).__name__}: {exc}"
        ) from exc
    if array.dtype.kind not in "iuf":
        raise TypeError(
            f"{what} must hold integers or floating-point numbers; got dtype {array.dtype}"
        )
    return array


def _to_batch(array: NDArray[Any]) -> NDArray[Any]:
    """Reshape any accepted image layout to ``(n, 28, 28)``."""
    shape = array.shape
    square = (IMAGE_SIZE, IMAGE_SIZE)
    if shape == square:
        return array[np.newaxis]
    if array.ndim == 2 and shape[1] == N_PIXELS:
        return array.reshape(-1, IMAGE_SIZE, IMAGE_SIZE)
    if array.ndim == 3 and shape[1:] == square:
        return array
    if array.ndim == 4 and shape[1:] == (*square, 1):
        return array[..., 0]
    raise ValueError(f"images must have shape {_ACCEPTED_SHAPES}; got {shape}")


def preprocess_images(images: ArrayLike) -> NDArray[np.float32]:
    """Validate images and convert them to the model's input.

    Parameters
    ----------
    images : array_like
        One image of shape ``(28, 28)`` or a batch of shape ``(n, 28, 28)``,
        ``(n, 28, 28, 1)`` or ``(n, 784)``. Integer dtypes must hold values in
        0-255 (they are divided by 255); floating-point dtypes must hold values
        in [0, 1] (they are used as they are).

    Returns
    -------
    numpy.ndarray of float32
        Shape ``(n, 28, 28, 1)``, values in [0, 1]; a new array, the input is
        never modified.

    Raises
    ------
    TypeError
        If ``images`` is not numeric: strings, objects, booleans, complex
        numbers or ``None``.
    ValueError
        If the shape is not one of those above, the batch is empty, or a value
        is NaN, infinite or out of range.

    Examples
    --------
    >>> import numpy as np
    >>> from digitcnn import preprocess_images
    >>> batch = preprocess_images(np.full((2, 784), 255, dtype=np.uint8))
    >>> batch.shape, batch.dtype, float(batch.max())
    ((2, 28, 28, 1), dtype('float32'), 1.0)
    >>> preprocess_images(np.zeros((2, 27, 27)))
    Traceback (most recent call last):
    ...
    ValueError: images must have shape (n, 28, 28), (n, 28, 28, 1), (n, 784) or (28, 28); got (2, 27, 27)
    """  # noqa: E501
    return _scale(_checked_batch(images))


def preprocess_batches(
    images: ArrayLike, batch_size: int
) -> tuple[int, Iterator[NDArray[np.float32]]]:
    """Validate images as :func:`preprocess_images` does, and convert them batch by batch.

    The whole input is checked before the first batch is made, so a bad value
    anywhere raises before any work is done; but only one converted batch
    exists at a time, so memory does not grow with the number of images
    (a :class:`numpy.memmap` input stays on disk).

    Parameters
    ----------
    images : array_like
        As for :func:`preprocess_images`.
    batch_size : int
        Images per batch; the last batch may be smaller.

    Returns
    -------
    n : int
        The number of images.
    batches : iterator of numpy.ndarray of float32
        The model's input, ``(batch_size, 28, 28, 1)`` at a time.
    """
    array = _checked_batch(images)
    n = len(array)
    return n, (_scale(array[start : start + batch_size]) for start in range(0, n, batch_size))


def _checked_batch(images: ArrayLike) -> NDArray[Any]:
    """Return ``images`` as ``(n, 28, 28)``, unscaled (a view where possible), or raise."""
    array = _to_batch(_as_numeric_array(images, "images"))
    if array.shape[0] == 0:
        raise ValueError(f"images must hold at least one image; got shape {array.shape}")
    if array.dtype.kind == "f":
        # Counted a slice at a time: np.isfinite of everything at once would
        # allocate a mask as large as the input.
        bad = sum(
            int(array[i : i + _CHECK_CHUNK].size - np.isfinite(array[i : i + _CHECK_CHUNK]).sum())
            for i in range(0, len(array), _CHECK_CHUNK)
        )
        if bad:
            raise ValueError(f"images must be finite; got {bad} NaN or infinite values")
        low, high = float(array.min()), float(array.max())
        if low < 0.0 or high > 1.0:
            raise ValueError(
                "floating-point images must be scaled to [0, 1]; got values in "
                f"[{low:g}, {high:g}]. Divide 0-255 images by 255, or pass them as uint8"
            )
    else:
        low_int, high_int = int(array.min()), int(array.max())
        if low_int < 0 or high_int > MAX_PIXEL:
            raise ValueError(
                f"integer images must hold values in 0..{MAX_PIXEL}; got values in "
                f"[{low_int}, {high_int}]"
            )
    return array


def _scale(array: NDArray[Any]) -> NDArray[np.float32]:
    """Convert checked ``(n, 28, 28)`` images to float32 ``(n, 28, 28, 1)`` in [0, 1]."""
    scaled = array.astype(np.float32)
    if array.dtype.kind != "f":
        scaled /= np.float32(MAX_PIXEL)
    return np.ascontiguousarray(scaled[..., np.newaxis])


def preprocess_labels(labels: ArrayLike, n_images: int | None = None) -> NDArray[np.int64]:
    """Validate digit labels and return them as a 1-D integer array.

    Parameters
    ----------
    labels : array_like
        The digits 0-9, shape ``(n,)``: integers, or floats holding whole
        numbers.
    n_images : int, optional
        The number of images the labels belong to; if given, ``n`` must equal it.

    Returns
    -------
    numpy.ndarray of int64
        Shape ``(n,)``, values 0-9.

    Raises
    ------
    TypeError
        If ``labels`` is not numeric: strings, objects, booleans or ``None``.
    ValueError
        If the shape is not ``(n,)``, ``labels`` is empty, its length differs
        from ``n_images``, or a value is not a whole number from 0 to 9.

    Examples
    --------
    >>> from digitcnn import preprocess_labels
    >>> preprocess_labels([7, 2, 1])
    array([7, 2, 1])
    >>> preprocess_labels([3, 10])
    Traceback (most recent call last):
    ...
    ValueError: labels must be whole numbers from 0 to 9; got 10
    """
    array = _as_numeric_array(labels, "labels")
    if array.ndim != 1:
        hint = ""
        if array.ndim == 2 and array.shape[1] == NUM_CLASSES:
            hint = " (one-hot labels? pass labels.argmax(axis=1))"
        elif array.ndim == 2 and array.shape[1] == 1:
            hint = " (pass labels.ravel())"
        raise ValueError(f"labels must have shape (n,); got {array.shape}{hint}")
    if array.size == 0:
        raise ValueError("labels must hold at least one label; got an empty array")
    if n_images is not None and array.shape[0] != n_images:
        raise ValueError(f"got {array.shape[0]} labels for {n_images} images; they must match")
    valid = np.isfinite(array) & (array >= 0) & (array < NUM_CLASSES) & (array == np.round(array))
    if not valid.all():
        bad = np.unique(array[~valid])[:5]
        shown = ", ".join(f"{value:g}" if array.dtype.kind == "f" else str(value) for value in bad)
        raise ValueError(f"labels must be whole numbers from 0 to {NUM_CLASSES - 1}; got {shown}")
    return array.astype(np.int64)
