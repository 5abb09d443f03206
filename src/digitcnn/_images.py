"""Reading images from files, Pillow images and arrays into greyscale floats."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Union

import numpy as np
from numpy.typing import NDArray
from PIL import Image, UnidentifiedImageError

__all__ = ["MAX_IMAGE_PIXELS", "MIN_IMAGE_SIDE", "ImageInput", "read_grey"]

ImageInput = Union[str, "os.PathLike[str]", Image.Image, NDArray[np.generic]]
"""What the image functions accept: a file path, a Pillow image or a NumPy array."""

MAX_IMAGE_PIXELS = 50_000_000
"""Largest image accepted, in pixels (a 7,000 x 7,000 photo); larger ones are refused."""

MIN_IMAGE_SIDE = 2
"""Smallest height and width accepted, in pixels."""

_CHANNELS = (1, 2, 3, 4)  # grey, grey + alpha, RGB, RGBA
_LUMA = np.array([0.299, 0.587, 0.114])  # ITU-R 601, as Pillow's convert("L")


def _describe(item: object) -> str:
    return str(item) if isinstance(item, (str, os.PathLike)) else type(item).__name__


def _open(path: Path) -> NDArray[np.float64]:
    if not path.exists():
        raise FileNotFoundError(f"image file {path} does not exist")
    if path.is_dir():
        raise ValueError(f"{path} is a folder, not an image file")
    if path.stat().st_size == 0:
        raise ValueError(f"image file {path} is empty (0 bytes)")
    try:
        with Image.open(path) as image:
            _check_size(image.width, image.height, str(path))
            return _from_pillow(image, str(path))
    except UnidentifiedImageError:
        raise ValueError(f"{path} is not an image file Pillow can read") from None
    except Image.DecompressionBombError:
        raise ValueError(
            f"{path} is larger than the {MAX_IMAGE_PIXELS:,} pixels accepted"
        ) from None
    except (OSError, SyntaxError) as error:  # Pillow's truncated- and broken-file errors
        raise ValueError(f"image file {path} is truncated or corrupted: {error}") from None


def _check_size(width: int, height: int, name: str) -> None:
    if min(width, height) < MIN_IMAGE_SIDE:
        raise ValueError(
            f"{name} is {width}x{height} pixels; images must be at least "
            f"{MIN_IMAGE_SIDE}x{MIN_IMAGE_SIDE}"
        )
    if width * height > MAX_IMAGE_PIXELS:
        raise ValueError(
            f"{name} is {width}x{height} pixels, more than the {MAX_IMAGE_PIXELS:,} accepted"
        )


def _from_pillow(image: Image.Image, name: str) -> NDArray[np.float64]:
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        return _from_array(np.asarray(image).astype(np.uint16), name)
    if image.mode in ("I", "F"):
        return _from_array(np.asarray(image), name)
    if image.mode not in ("L", "LA", "RGB", "RGBA"):
        has_alpha = "A" in image.mode or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
    return _from_array(np.asarray(image), name)


def _scale(array: NDArray[np.generic], name: str) -> NDArray[np.float64]:
    """Return ``array``'s values on [0, 1]: integers by their dtype's range, floats as they are."""
    kind = array.dtype.kind  # by kind: NumPy counts timedelta64 among the integers
    if kind == "b":
        return array.astype(np.float64)
    if kind in "iu":
        if array.min() < 0:
            raise ValueError(f"{name} has negative pixel values; integer images must be >= 0")
        maximum = array.max()
        if maximum > 65535:
            raise ValueError(
                f"{name} has integer values up to {maximum}; integer images must be on the "
                "0-255 (8-bit) or 0-65535 (16-bit) scale"
            )
        return array.astype(np.float64) / (255.0 if maximum <= 255 else 65535.0)
    if kind == "f":
        values = array.astype(np.float64)
        if not np.isfinite(values).all():
            raise ValueError(f"{name} contains NaN or infinite values")
        low, high = values.min(), values.max()
        if low < 0 or high > 1:
            raise ValueError(
                f"{name} has float values in [{low:g}, {high:g}]; float images must be in "
                "[0, 1] (pass integers for the 0-255 or 0-65535 scales)"
            )
        return values
    raise TypeError(f"{name} has dtype {array.dtype}; expected integer, float or bool pixels")


def _from_array(array: NDArray[np.generic], name: str) -> NDArray[np.float64]:
    if array.ndim == 3 and array.shape[-1] not in _CHANNELS:
        raise ValueError(
            f"{name} has shape {array.shape}; a colour image must have 1, 2, 3 or 4 channels last"
        )
    if array.ndim not in (2, 3):
        raise ValueError(f"{name} has shape {array.shape}; expected (height, width[, channels])")
    _check_size(array.shape[1], array.shape[0], name)
    values = _scale(array, name)
    if values.ndim == 2:
        return values
    channels = values.shape[-1]
    colour = values[..., :3] @ _LUMA if channels >= 3 else values[..., 0]
    if channels in (2, 4):
        colour = _flatten_alpha(colour, values[..., -1])
    return colour


def _flatten_alpha(grey: NDArray[np.float64], alpha: NDArray[np.float64]) -> NDArray[np.float64]:
    """Composite ``grey`` over the background that contrasts with its opaque pixels.

    A digit drawn on a transparent canvas is visible whatever its colour: dark
    ink goes onto white, light ink onto black.
    """
    opaque = alpha > 0.5
    if opaque.all() or not opaque.any():
        return grey if opaque.all() else alpha
    background = 0.0 if grey[opaque].mean() > 0.5 else 1.0
    return alpha * grey + (1 - alpha) * background


def read_grey(image: ImageInput) -> NDArray[np.float64]:
    """Return ``image`` as a 2-D greyscale array of floats in [0, 1].

    Parameters
    ----------
    image : str, os.PathLike, PIL.Image.Image or numpy.ndarray
        A path to an image file in any format Pillow reads; a Pillow image in
        any mode (greyscale, RGB, RGBA, palette, 16-bit); or an array of shape
        ``(height, width)`` or ``(height, width, channels)`` with 1-4 channels
        last. Integer arrays are on the 0-255 scale, or 0-65535 when a value
        exceeds 255; float arrays must be in [0, 1]. Colour becomes luminance;
        transparent pixels become the background that contrasts with the ink.

    Returns
    -------
    numpy.ndarray of float64
        Shape ``(height, width)``, values in [0, 1].

    Raises
    ------
    FileNotFoundError
        If a path does not exist.
    ValueError
        If the file is empty, not an image, truncated or corrupted; if the
        image is smaller than 2x2 or larger than 50 million pixels; if an array
        has the wrong shape or out-of-range values.
    TypeError
        If ``image`` is none of the accepted types, or an array of strings or
        objects.
    """
    if isinstance(image, (str, os.PathLike)):
        return _open(Path(image))
    if isinstance(image, Image.Image):
        _check_size(image.width, image.height, "image")
        return _from_pillow(image, "image")
    if isinstance(image, np.ndarray):
        return _from_array(image, "image array")
    raise TypeError(
        f"image must be a file path, a PIL.Image.Image or a numpy array; got {_describe(image)}"
    )
