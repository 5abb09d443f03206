"""Picture files, Pillow images and arrays to pixels in [0, 1]: greyscale, or colour kept."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from digitcnn._types import ImageInput
from digitcnn._validation import PICTURE_PIXELS, numeric_array, pixel_divisor

__all__ = ["LUMA", "MAX_IMAGE_PIXELS", "MIN_IMAGE_SIDE", "read_grey", "read_pixels"]

MAX_IMAGE_PIXELS = 50_000_000
"""Largest image accepted, in pixels (a 7,000 x 7,000 photo); larger ones are refused."""

MIN_IMAGE_SIDE = 2
"""Smallest height and width accepted, in pixels."""

_CHANNELS = (1, 2, 3, 4)  # grey, grey + alpha, RGB, RGBA
LUMA = np.array([0.299, 0.587, 0.114])
"""The weights of red, green and blue in a pixel's luminance (ITU-R 601, as Pillow's "L")."""


def _open(path: Path) -> NDArray[np.float64]:
    if not path.exists():
        raise FileNotFoundError(f"image file {path} does not exist")
    if path.is_dir():
        raise ValueError(f"{path} is a folder, not an image file")
    if path.stat().st_size == 0:
        raise ValueError(f"image file {path} is empty (0 bytes)")
    return _decode(path, str(path))


def _decode(source: Path | io.BytesIO, name: str) -> NDArray[np.float64]:
    """Decode an image file, checking its size from its header before decoding its pixels."""
    try:
        with Image.open(source) as image:
            _check_size(image.width, image.height, name)
            return _from_pillow(image, name)
    except UnidentifiedImageError:
        raise ValueError(f"{name} is not an image file Pillow can read") from None
    except Image.DecompressionBombError:
        raise ValueError(
            f"{name} is larger than the {MAX_IMAGE_PIXELS:,} pixels accepted"
        ) from None
    except (OSError, SyntaxError) as error:  # Pillow's truncated- and broken-file errors
        raise ValueError(f"image file {name} is truncated or corrupted: {error}") from None


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
    if image.getexif().get(ExifTags.Base.Orientation, 1) != 1:
        # a phone's photo, turned upright as it was taken (exif_transpose would copy any other)
        image = ImageOps.exif_transpose(image)
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        return _from_array(np.asarray(image).astype(np.uint16), name)
    if image.mode in ("I", "F"):
        return _from_array(np.asarray(image), name)
    if image.mode not in ("L", "LA", "RGB", "RGBA"):
        has_alpha = "A" in image.mode or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
    return _from_array(np.asarray(image), name)


def _from_array(array: NDArray[np.generic], name: str) -> NDArray[np.float64]:
    if array.ndim == 3 and array.shape[-1] not in _CHANNELS:
        raise ValueError(
            f"{name} has shape {array.shape}; a colour image must have 1, 2, 3 or 4 channels last"
        )
    if array.ndim not in (2, 3):
        raise ValueError(f"{name} has shape {array.shape}; expected (height, width[, channels])")
    _check_size(array.shape[1], array.shape[0], name)
    what = f"pixels of {name}"
    checked = numeric_array(array, what, rule=PICTURE_PIXELS)  # may be 16-bit, or boolean
    values = checked.astype(np.float64) / pixel_divisor(checked, what, rule=PICTURE_PIXELS)
    if values.ndim == 2:
        return values
    channels = values.shape[-1]
    colour = values[..., :3] if channels >= 3 else values[..., 0]
    if channels in (2, 4):
        colour = _flatten_alpha(colour, values[..., -1])
    return colour


def _flatten_alpha(colour: NDArray[np.float64], alpha: NDArray[np.float64]) -> NDArray[np.float64]:
    """Composite ``colour`` over the background that contrasts with its opaque pixels.

    A digit drawn on a transparent canvas is visible whatever its colour: dark
    ink goes onto white, light ink onto black.
    """
    opaque = alpha > 0.5
    if opaque.all() or not opaque.any():
        return colour if opaque.all() else alpha
    grey = colour @ LUMA if colour.ndim == 3 else colour
    background = 0.0 if grey[opaque].mean() > 0.5 else 1.0
    weight = alpha[..., None] if colour.ndim == 3 else alpha
    flat: NDArray[np.float64] = weight * colour + (1 - weight) * background
    return flat


def read_grey(image: ImageInput) -> NDArray[np.float64]:
    """Return ``image`` as a 2-D greyscale array of floats in [0, 1].

    Parameters
    ----------
    image : str, os.PathLike, bytes, PIL.Image.Image or numpy.ndarray
        A picture, as :func:`~digitcnn.to_mnist` accepts it.

    Returns
    -------
    numpy.ndarray of float64
        Shape ``(height, width)``, values in [0, 1].

    Raises
    ------
    FileNotFoundError, ValueError, TypeError
        If the picture cannot be read, as :func:`~digitcnn.to_mnist` says.
    """
    pixels = read_pixels(image)
    grey: NDArray[np.float64] = pixels @ LUMA if pixels.ndim == 3 else pixels
    return grey


def read_pixels(image: ImageInput) -> NDArray[np.float64]:
    """Return ``image`` as floats in [0, 1]: greyscale, or RGB if it has colour.

    Transparency is flattened as for :func:`read_grey`.

    Parameters
    ----------
    image : str, os.PathLike, bytes, PIL.Image.Image or numpy.ndarray
        A picture, as :func:`~digitcnn.to_mnist` accepts it.

    Returns
    -------
    numpy.ndarray of float64
        Shape ``(height, width)`` or ``(height, width, 3)``, values in [0, 1].

    Raises
    ------
    FileNotFoundError, ValueError, TypeError
        If the picture cannot be read, as :func:`~digitcnn.to_mnist` says.
    """
    if isinstance(image, (str, os.PathLike)):
        return _open(Path(image))
    if isinstance(image, (bytes, bytearray, memoryview)):
        data = bytes(image)
        if not data:
            raise ValueError("the image data is empty (0 bytes)")
        return _decode(io.BytesIO(data), f"the image data ({len(data):,} bytes)")
    if isinstance(image, Image.Image):
        _check_size(image.width, image.height, "image")
        return _from_pillow(image, "image")
    if isinstance(image, np.ndarray):
        return _from_array(image, "image array")
    raise TypeError(
        "image must be a file path, the bytes of an image file, a PIL.Image.Image or a numpy "
        f"array; got {type(image).__name__}"
    )
