"""Every rule on what digitcnn accepts, with its message, in one place.

Images (the input contract)
    A single ``(28, 28)`` image, a batch ``(n, 28, 28)``, ``(n, 28, 28, 1)``, or
    flattened ``(n, 784)``. Integer images (any integer dtype) must hold values
    0-255 and are divided by 255; floating-point images must already be scaled
    to [0, 1] and are used as they are. This rule has no ambiguous case: an
    integer array is always on the 0-255 scale, a float array always on the
    0-1 scale. Booleans, strings, objects and complex numbers are refused, as
    are empty batches, NaN and infinity.
Pictures
    The same pixel rule, with one difference, :data:`PICTURE_PIXELS` beside
    :data:`ARRAY_PIXELS`: a picture file may be 16-bit, or boolean (a
    bilevel scan).
Labels
    The digits 0-9 as integers (or floats holding whole numbers), shape ``(n,)``.
Hyperparameters
    :func:`check_scalar` and :func:`check_choice`, in the spirit of
    scikit-learn's ``check_scalar``: the type first (a ``TypeError``), then
    the range (a ``ValueError``), each message naming the parameter.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Iterator, Sequence
from typing import Any, Literal, TypeVar, cast, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from digitcnn._constants import (
    IMAGE_SIZE,
    INPUT_SHAPE,
    MAX_PIXEL,
    MAX_PIXEL_16BIT,
    N_PIXELS,
    NUM_CLASSES,
)

__all__ = [
    "ARRAY_PIXELS",
    "DATASET_ELEMENT_RULE",
    "PICTURE_PIXELS",
    "SINGLE_IMAGE_SHAPES",
    "PixelRule",
    "check_choice",
    "check_labels",
    "check_network_shapes",
    "check_scalar",
    "numeric_array",
    "pixel_divisor",
    "preprocess_batches",
    "preprocess_images",
    "preprocess_labels",
]


@dataclasses.dataclass(frozen=True)
class PixelRule:
    """Which pixel values a kind of input may hold, beyond floats in [0, 1]."""

    integer_scales: tuple[int, ...]
    """The largest value of each scale integers may be on, ascending."""
    booleans: bool
    """Whether booleans are pixels (False and True: 0 and 1)."""


ARRAY_PIXELS = PixelRule(integer_scales=(MAX_PIXEL,), booleans=False)
"""An array for the model: integers on the 0-255 scale only, no booleans."""

PICTURE_PIXELS = PixelRule(integer_scales=(MAX_PIXEL, MAX_PIXEL_16BIT), booleans=True)
"""A picture: integers on 0-255, or 0-65535 for a 16-bit file; booleans for a bilevel scan."""

SINGLE_IMAGE_SHAPES = ((IMAGE_SIZE, IMAGE_SIZE), (IMAGE_SIZE, IMAGE_SIZE, 1), (N_PIXELS,))
"""The shapes of one image, as one element of a dataset."""

DATASET_ELEMENT_RULE = (
    f"images must be integers 0-{MAX_PIXEL} or floats in [0, 1] (finite), "
    f"labels whole numbers 0-{NUM_CLASSES - 1}"
)
"""The pixel and label rule, as said of a dataset element that breaks it while streaming."""

_ACCEPTED_SHAPES = (
    f"(n, {IMAGE_SIZE}, {IMAGE_SIZE}), (n, {IMAGE_SIZE}, {IMAGE_SIZE}, 1), "
    f"(n, {N_PIXELS}) or ({IMAGE_SIZE}, {IMAGE_SIZE})"
)
_CHECK_CHUNK = 4096  # rows checked for NaN at a time: bounds the mask, whatever the input size

Scalar = TypeVar("Scalar", int, float, bool)


# -- arrays and pixels -----------------------------------------------------------


def numeric_array(values: ArrayLike, what: str, *, rule: PixelRule = ARRAY_PIXELS) -> NDArray[Any]:
    """Return ``values`` as a real-valued NumPy array, or raise a clear error.

    Parameters
    ----------
    values : array_like
        What was given.
    what : str
        How the message names it ("images", "labels").
    rule : PixelRule, default ARRAY_PIXELS
        Whether booleans count as numbers (they do for a picture).

    Raises
    ------
    TypeError
        If ``values`` is a string, ``None``, or of a non-numeric dtype.
    ValueError
        If ``values`` cannot be made into an array of uniform shape.
    """
    if isinstance(values, (str, bytes)) or values is None:
        raise TypeError(f"{what} must be a numeric array; got {type(values).__name__}")
    try:
        array = np.asarray(values)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{what} must be a numeric array of uniform shape; could not convert "
            f"{type(values).__name__}: {exc}"
        ) from exc
    # By kind: NumPy counts timedelta64 among the integers.
    if array.dtype.kind not in ("biuf" if rule.booleans else "iuf"):
        kinds = (
            "integers, floating-point numbers or booleans"
            if rule.booleans
            else "integers or floating-point numbers"
        )
        raise TypeError(f"{what} must hold {kinds}; got dtype {array.dtype}")
    return array


def pixel_divisor(array: NDArray[Any], what: str, *, rule: PixelRule = ARRAY_PIXELS) -> float:
    """Check pixel values and return the number that divides them onto [0, 1].

    Floats must be finite and in [0, 1] (divisor 1); integers must be on one of
    the rule's scales, and are divided by the smallest that holds them;
    booleans (when :func:`numeric_array` let them through) are divided by 1.

    Parameters
    ----------
    array : numpy.ndarray
        Pixels of a real-valued dtype, as :func:`numeric_array` returns; not modified.
    what : str
        How the message names them ("images", "pixels of photo.png").
    rule : PixelRule, default ARRAY_PIXELS
        The integer scales allowed.

    Raises
    ------
    ValueError
        If a value is NaN, infinite or out of range.
    """
    kind = array.dtype.kind
    if kind == "b" or array.size == 0:
        return 1.0
    if kind == "f":
        # Counted a slice at a time: np.isfinite of everything at once would
        # allocate a mask as large as the input.
        bad = sum(
            int(array[i : i + _CHECK_CHUNK].size - np.isfinite(array[i : i + _CHECK_CHUNK]).sum())
            for i in range(0, len(array), _CHECK_CHUNK)
        )
        if bad:
            raise ValueError(f"{what} must be finite; got {bad} NaN or infinite values")
        low, high = float(array.min()), float(array.max())
        if low < 0.0 or high > 1.0:
            raise ValueError(
                f"floating-point {what} must be scaled to [0, 1]; got values in "
                f"[{low:g}, {high:g}]. Divide 0-255 images by 255, or pass them as uint8"
            )
        return 1.0
    low_int, high_int = int(array.min()), int(array.max())
    fitting = [scale for scale in rule.integer_scales if high_int <= scale]
    if low_int < 0 or not fitting:
        scales = " or ".join(f"0..{scale}" for scale in rule.integer_scales)
        raise ValueError(
            f"integer {what} must hold values in {scales}; got values in [{low_int}, {high_int}]"
        )
    return float(fitting[0])


# -- images for the model ----------------------------------------------------------


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


def _checked_batch(images: ArrayLike) -> tuple[NDArray[Any], float]:
    """Return ``images`` as ``(n, 28, 28)``, unscaled (a view where possible), and its divisor."""
    array = _to_batch(numeric_array(images, "images"))
    if array.shape[0] == 0:
        raise ValueError(f"images must hold at least one image; got shape {array.shape}")
    return array, pixel_divisor(array, "images")


def _scaled(array: NDArray[Any], divisor: float) -> NDArray[np.float32]:
    """Convert checked ``(n, 28, 28)`` images to float32 ``(n, 28, 28, 1)`` in [0, 1]."""
    scaled = array.astype(np.float32)
    if divisor != 1.0:
        scaled /= np.float32(divisor)
    return np.ascontiguousarray(scaled[..., np.newaxis])


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
    return _scaled(*_checked_batch(images))


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
    array, divisor = _checked_batch(images)
    n = len(array)
    return n, (_scaled(array[i : i + batch_size], divisor) for i in range(0, n, batch_size))


def check_network_shapes(
    source: object, input_shape: Sequence[Any], output_shape: Sequence[Any]
) -> None:
    """Check that a network maps model inputs to ten probabilities, whatever its batch size.

    Raises
    ------
    ValueError
        If it maps other shapes; the message names ``source``.
    """
    shapes = [tuple(None if d is None else int(d) for d in s) for s in (input_shape, output_shape)]
    if shapes[0][1:] != INPUT_SHAPE or shapes[1][1:] != (NUM_CLASSES,):
        raise ValueError(
            f"{source} is not a digitcnn model: its network maps {shapes[0]} to {shapes[1]}; "
            f"expected (n, {', '.join(map(str, INPUT_SHAPE))}) to (n, {NUM_CLASSES})"
        )


# -- labels --------------------------------------------------------------------------


def check_labels(labels: ArrayLike, *, n_images: int | None = None) -> NDArray[Any]:
    """Check digit labels and return them as a 1-D array of their own dtype.

    Raises
    ------
    TypeError, ValueError
        As :func:`preprocess_labels` says.
    """
    what = "labels"
    array = numeric_array(labels, what)
    if array.ndim != 1:
        hint = ""
        if array.ndim == 2 and array.shape[1] == NUM_CLASSES:
            hint = " (one-hot labels? pass labels.argmax(axis=1))"
        elif array.ndim == 2 and array.shape[1] == 1:
            hint = " (pass labels.ravel())"
        raise ValueError(f"{what} must have shape (n,); got {array.shape}{hint}")
    if array.size == 0:
        raise ValueError(f"{what} must hold at least one label; got an empty array")
    if n_images is not None and array.shape[0] != n_images:
        raise ValueError(f"got {array.shape[0]} {what} for {n_images} images; they must match")
    valid = np.isfinite(array) & (array >= 0) & (array < NUM_CLASSES) & (array == np.round(array))
    if not valid.all():
        bad = np.unique(array[~valid])[:5]
        shown = ", ".join(f"{value:g}" if array.dtype.kind == "f" else str(value) for value in bad)
        raise ValueError(f"{what} must be whole numbers from 0 to {NUM_CLASSES - 1}; got {shown}")
    return array


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
    return check_labels(labels, n_images=n_images).astype(np.int64)


# -- hyperparameters -------------------------------------------------------------------

_KIND_NAMES = {int: "an int", float: "a float", bool: "True, False"}


@overload
def check_scalar(
    value: object,
    name: str,
    target_type: type[Scalar],
    *,
    min_val: float | None = ...,
    max_val: float | None = ...,
    include_boundaries: Literal["both", "left", "right", "neither"] = ...,
    allow_none: Literal[False] = ...,
) -> Scalar: ...


@overload
def check_scalar(
    value: object,
    name: str,
    target_type: type[Scalar],
    *,
    min_val: float | None = ...,
    max_val: float | None = ...,
    include_boundaries: Literal["both", "left", "right", "neither"] = ...,
    allow_none: Literal[True],
) -> Scalar | None: ...


def check_scalar(
    value: object,
    name: str,
    target_type: type[Scalar],
    *,
    min_val: float | None = None,
    max_val: float | None = None,
    include_boundaries: Literal["both", "left", "right", "neither"] = "both",
    allow_none: bool = False,
) -> Scalar | None:
    """Check a scalar hyperparameter's type and range, as scikit-learn's ``check_scalar`` does.

    Parameters
    ----------
    value : object
        What was given.
    name : str
        The parameter's name, for the message.
    target_type : {int, float, bool}
        ``int`` accepts Python and NumPy integers but not booleans; ``float``
        accepts any finite real number but not booleans; ``bool`` accepts
        Python and NumPy booleans.
    min_val, max_val : float, optional
        The bounds of the range, if any.
    include_boundaries : {"both", "left", "right", "neither"}, default "both"
        Which bounds belong to the range.
    allow_none : bool, default False
        Whether ``None`` (meaning "the default") is accepted.

    Returns
    -------
    int, float, bool or None
        ``value`` converted to ``target_type`` (a Python scalar).

    Raises
    ------
    TypeError
        If ``value`` is not of ``target_type``.
    ValueError
        If ``value`` is outside the range, or a float is not finite.
    """
    if value is None and allow_none:
        return None
    if target_type is bool:
        accepted = isinstance(value, (bool, np.bool_))
    else:
        wanted = numbers.Integral if target_type is int else numbers.Real
        accepted = isinstance(value, wanted) and not isinstance(value, (bool, np.bool_))
    if not accepted:
        kinds = _KIND_NAMES[target_type] + (" or None" if allow_none else "")
        raise TypeError(f"{name} must be {kinds}; got {type(value).__name__} {value!r}")
    converted: Scalar = target_type(cast(Any, value))  # a number, checked just above
    if target_type is float and not math.isfinite(converted):
        raise ValueError(f"{name} must be a finite number; got {value}")
    left_closed = include_boundaries in ("both", "left")
    right_closed = include_boundaries in ("both", "right")
    too_low = min_val is not None and (converted < min_val if left_closed else converted <= min_val)
    too_high = max_val is not None and (
        converted > max_val if right_closed else converted >= max_val
    )
    if too_low or too_high:
        if max_val is None:
            bound = f"at least {min_val}" if left_closed else f"greater than {min_val}"
        elif min_val is None:
            bound = f"at most {max_val}" if right_closed else f"less than {max_val}"
        else:
            left, right = "[" if left_closed else "(", "]" if right_closed else ")"
            bound = f"in {left}{min_val}, {max_val}{right}"
        raise ValueError(f"{name} must be {bound}; got {value}")
    return converted


def check_choice(value: object, name: str, choices: Sequence[object]) -> Any:
    """Return ``value`` if it is one of ``choices``, or raise a ``ValueError`` that lists them.

    A boolean is not taken for the integer 0 or 1.

    Parameters
    ----------
    value : object
        What was given.
    name : str
        The parameter's name, for the message.
    choices : sequence
        The accepted values.

    Raises
    ------
    ValueError
        If ``value`` is not one of ``choices``.
    """
    found = any(_same_choice(value, choice) for choice in choices)
    if not found:
        raise ValueError(f"{name} must be one of {list(choices)}; got {value!r}")
    return value


def _same_choice(value: object, choice: object) -> bool:
    """Say whether ``value`` is ``choice``: equal, and not a boolean standing for 0 or 1."""
    equal = value == choice  # an array gives an array, which is no choice
    if not isinstance(equal, (bool, np.bool_)) or not equal:
        return False
    return isinstance(value, (bool, np.bool_)) == isinstance(choice, (bool, np.bool_))
