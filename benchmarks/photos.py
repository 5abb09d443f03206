"""Realistic pictures of handwritten digits, made from MNIST test digits.

Each picture imitates a digit written on paper and photographed or scanned,
or drawn in a paint program: dark ink (black, blue or red) on light paper
with texture and uneven lighting, in colour, 80-400 pixels, off-centre,
slightly rotated, blurred and JPEG-compressed; or a drawing made with a thin
or a thick pen, light or dark, on a plain canvas. The digit's shape comes
from an MNIST *test* image, so a model trained on MNIST's training images has
never seen it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageFilter
from scipy import ndimage
from skimage.morphology import disk, skeletonize

Rng = np.random.Generator

INKS = {"black": (25, 25, 30), "blue": (20, 40, 140), "red": (150, 20, 25)}


def _shape(digit: NDArray[np.uint8], height: int, rng: Rng, pen: str | None) -> NDArray[np.float64]:
    """Return the digit as an ink mask of the given height, redrawn with ``pen`` if given."""
    big = Image.fromarray(digit).resize((height, height), Image.Resampling.BICUBIC)
    mask = np.asarray(big, dtype=np.float64) / 255
    mask = np.clip((mask - 0.3) / 0.4, 0, 1)  # crisp edges, as ink has
    angle = rng.uniform(-10, 10)
    mask = ndimage.rotate(mask, angle, reshape=True, order=1)
    if pen is not None:
        skeleton = skeletonize(mask > 0.5)
        radius = max(1, round(height * (0.015 if pen == "thin" else 0.07)))
        mask = ndimage.binary_dilation(skeleton, structure=disk(radius)).astype(np.float64)
        mask = ndimage.gaussian_filter(mask, 0.7)
    return mask


def _place(mask: NDArray[np.float64], size: tuple[int, int], rng: Rng) -> NDArray[np.float64]:
    """Put ``mask`` at a random position inside a canvas of ``size`` (height, width)."""
    canvas = np.zeros(size)
    h, w = mask.shape
    top = rng.integers(0, max(1, size[0] - h + 1))
    left = rng.integers(0, max(1, size[1] - w + 1))
    canvas[top : top + h, left : left + w] = mask[: size[0], : size[1]]
    return canvas


def _paper(size: tuple[int, int], rng: Rng) -> NDArray[np.float64]:
    """Return light paper in colour: a tint, texture and uneven lighting, shape (h, w, 3)."""
    h, w = size
    tint = rng.uniform(0.82, 1.0, size=3)
    texture = ndimage.gaussian_filter(rng.normal(0, 1, size), rng.uniform(0.5, 2.0))
    texture *= rng.uniform(0.01, 0.04) / max(texture.std(), 1e-9)
    rows, cols = np.mgrid[0:h, 0:w]
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * cols / w + np.sin(angle) * rows / h) * rng.uniform(0.0, 0.35)
    lighting = 1.0 - ramp + ramp.mean() - rng.uniform(0, 0.1)
    return np.clip(tint * (1 + texture)[..., None] * lighting[..., None], 0, 1)


def _finish(rgb: NDArray[np.float64], rng: Rng) -> Image.Image:
    """Blur and JPEG-compress an RGB float image; return it as a Pillow image."""
    image = Image.fromarray((np.clip(rgb, 0, 1) * 255).astype(np.uint8), mode="RGB")
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0, 1.5)))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=int(rng.integers(30, 91)))
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def _ink_on_paper(mask: NDArray[np.float64], rng: Rng) -> NDArray[np.float64]:
    paper = _paper(mask.shape, rng)
    ink = np.array(INKS[rng.choice(list(INKS))]) / 255 * rng.uniform(0.8, 1.2)
    strength = mask[..., None] * rng.uniform(0.75, 1.0)
    return paper * (1 - strength) + ink * strength


def photo(digit: NDArray[np.uint8], rng: Rng) -> Image.Image:
    """Return a photo-like picture of one MNIST digit written in ink on paper."""
    side = int(rng.integers(80, 401))
    size = (side, int(side * rng.uniform(0.75, 1.33)))
    mask = _shape(digit, int(min(size) * rng.uniform(0.35, 0.8)), rng, pen=None)
    return _finish(_ink_on_paper(_place(mask, size, rng), rng), rng)


def drawing(digit: NDArray[np.uint8], rng: Rng, pen: str) -> Image.Image:
    """Return a drawing of one MNIST digit with a ``"thin"`` or ``"thick"`` pen on a canvas."""
    side = int(rng.integers(80, 401))
    mask = _place(_shape(digit, int(side * rng.uniform(0.4, 0.85)), rng, pen), (side, side), rng)
    light_on_dark = rng.random() < 0.3
    grey = mask if light_on_dark else 1 - mask
    rgb = np.repeat(grey[..., None], 3, axis=2)
    image = Image.fromarray((rgb * 255).astype(np.uint8), mode="RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def number_photo(digits: Sequence[NDArray[np.uint8]], rng: Rng) -> Image.Image:
    """Return a photo-like picture of a number written with the given MNIST digits."""
    height = int(rng.integers(60, 160))
    masks = [_shape(digit, height, rng, pen=None) for digit in digits]
    gaps = [int(rng.uniform(0.05, 0.3) * height) for _ in masks]
    width = sum(m.shape[1] for m in masks) + sum(gaps) + height
    canvas = np.zeros((int(height * 1.6), width))
    left = height // 2
    for mask, gap in zip(masks, gaps, strict=True):
        top = int(rng.integers(0, canvas.shape[0] - mask.shape[0] + 1))
        h, w = mask.shape
        canvas[top : top + h, left : left + w] = np.maximum(
            canvas[top : top + h, left : left + w], mask
        )
        left += w + gap
    return _finish(_ink_on_paper(canvas, rng), rng)


def low_resolution(digit: NDArray[np.uint8], size: int, shown: int = 64) -> Image.Image:
    """Return a 28x28 MNIST digit as a scan at ``size`` x ``size`` pixels would show it.

    The digit is reduced by averaging (a box filter, as a sensor's pixels
    do) and enlarged to ``shown`` pixels a side, as an image viewer or a
    crop of a larger picture gives it. MNIST's digits fill 20 of the 28
    pixels, so the strokes are then about ``size * 20 / 28`` pixels tall.
    """
    small = Image.fromarray(255 - digit).resize((size, size), Image.Resampling.BOX)
    return small.resize((shown, shown), Image.Resampling.BILINEAR).convert("RGB")
