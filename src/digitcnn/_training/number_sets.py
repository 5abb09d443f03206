"""Written numbers composed from MNIST digits: what the number reader learns from.

:func:`compose_number` writes a number the way a hand does: each digit is
rescaled, slanted, its stroke thickened or thinned, and set beside the
previous one by :func:`line_up` on a wavering baseline, apart, touching or
overlapping. :func:`number_examples` makes a training set of such numbers,
scaled to the reader's input by
:func:`~digitcnn._vision.number_frame.frame_number`. The number benchmark
sets its test numbers (MNIST's test digits, shaped as its photos are) in a
row with the same :func:`line_up`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from PIL import Image
from scipy import ndimage
from skimage.morphology import disk

from digitcnn._vision.number_frame import FRAME_HEIGHT, frame_number
from digitcnn._vision.paper_lines import Box

__all__ = [
    "MAX_TRAINING_DIGITS",
    "MAX_TRAINING_WIDTH",
    "SPACINGS",
    "compose_number",
    "crop_to_ink",
    "line_up",
    "number_examples",
]

Rng = np.random.Generator

SPACINGS = {"apart": (0.15, 0.60), "touching": (-0.25, 0.05), "any": (-0.3, 0.8)}
"""Gap between neighbouring digits, as a fraction of the number's mean digit width."""

MAX_TRAINING_DIGITS = 10
"""The longest numbers the reader is trained on."""

MAX_TRAINING_WIDTH = 448
"""The widest training strip, in columns (ten digits well apart)."""

MNIST_INK = 20 / 28
"""The fraction of its 28-row frame that an MNIST digit's ink fills."""


def _vary(digit: NDArray[np.uint8], rng: Rng, height: int) -> NDArray[np.float64]:
    """Return one digit rescaled, slanted and re-stroked, cropped to its ink."""
    side = max(8, round(height * rng.uniform(0.85, 1.15)))
    image = Image.fromarray(digit.astype(np.float32) / 255, mode="F")
    ink = np.asarray(image.resize((side, side), Image.Resampling.BICUBIC), dtype=np.float64)
    shear = rng.uniform(-0.3, 0.3)
    pad = int(np.ceil(abs(shear) * side / 2)) + 1
    ink = np.pad(ink, ((0, 0), (pad, pad)))
    # output (row, col) reads input (row, col + shear * (row - centre))
    matrix = np.array([[1.0, 0.0], [shear, 1.0]])
    ink = ndimage.affine_transform(ink, matrix, offset=(0.0, -shear * side / 2), order=1)
    change = rng.choice(["thicker", "thinner", "same"], p=[0.3, 0.2, 0.5])
    radius = max(1, round(side / 56))
    if change == "thicker":
        ink = ndimage.grey_dilation(ink, footprint=disk(radius))
    elif change == "thinner" and side >= 40:
        thinner = ndimage.grey_erosion(ink, footprint=disk(radius))
        ink = thinner if thinner.max() > 0.6 else ink
    return crop_to_ink(np.clip(ink, 0.0, 1.0))


def crop_to_ink(ink: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return ``ink`` (light on zero) cropped to the pixels above 0.05, a digit's faintest edge."""
    rows = np.flatnonzero((ink > 0.05).any(axis=1))
    cols = np.flatnonzero((ink > 0.05).any(axis=0))
    cropped: NDArray[np.float64] = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    return cropped


def compose_number(
    digits: Sequence[NDArray[np.uint8]],
    rng: Rng,
    *,
    spacing: str | float = "apart",
    height: int = 28,
) -> tuple[NDArray[np.float32], list[Box]]:
    """Write a number with the given MNIST digits, left to right.

    Each digit gets a random height (0.85-1.15 of ``height``), slant (shear
    up to 0.3), sometimes a thicker or thinner stroke; the digits are then
    set in a row by :func:`line_up`.

    Parameters
    ----------
    digits : sequence of numpy.ndarray of uint8
        MNIST images, 28x28, white digit on black.
    rng : numpy.random.Generator
        The source of randomness.
    spacing : {"apart", "touching", "any"} or float, default "apart"
        The gap between neighbours; see :func:`line_up`.
    height : int, default 28
        The side each 28x28 MNIST frame is scaled to, in pixels (the ink of
        a digit is about 20/28 of it).

    Returns
    -------
    ink : numpy.ndarray of float32
        Light ink on zero, values in [0, 1], cropped to the ink plus a small
        margin.
    boxes : list of Box
        Each digit's bounding box (top, left, bottom, right) in ``ink``.

    Raises
    ------
    ValueError
        If ``digits`` is empty or ``spacing`` is an unknown name.
    """
    pieces = [_vary(np.asarray(d), rng, height) for d in digits]
    return line_up(pieces, rng, spacing=spacing, height=height)


def line_up(
    pieces: Sequence[NDArray[np.floating]],
    rng: Rng,
    *,
    spacing: str | float = "apart",
    height: int = 28,
) -> tuple[NDArray[np.float32], list[Box]]:
    """Set the ink of digits side by side, as a hand writes a number.

    Each digit (cropped to its ink) is set after the previous one with a gap
    drawn from ``spacing``, on a baseline that drifts by up to 10% of the
    digits' nominal height. Overlapping digits combine by their maximum.

    Parameters
    ----------
    pieces : sequence of numpy.ndarray of float
        Each digit's ink, light on zero in [0, 1], cropped to the ink.
    rng : numpy.random.Generator
        The source of randomness.
    spacing : {"apart", "touching", "any"} or float, default "apart"
        The gap between neighbours as a fraction of the mean digit width,
        drawn for each pair: "apart" from 0.15-0.60, "touching" from -0.25
        (overlapping) to 0.05, "any" from -0.3 to 0.8; a number is used as is.
    height : int, default 28
        The side the digits' 28x28 MNIST frames were scaled to: the baseline
        drift and the margin are in proportion to it.

    Returns
    -------
    ink : numpy.ndarray of float32
        Light ink on zero, values in [0, 1], the digits plus a small margin.
    boxes : list of Box
        Each digit's bounding box (top, left, bottom, right) in ``ink``.

    Raises
    ------
    ValueError
        If ``pieces`` is empty or ``spacing`` is an unknown name.
    """
    if not pieces:
        raise ValueError("a number needs at least one digit")
    if isinstance(spacing, str) and spacing not in SPACINGS:
        raise ValueError(f"spacing must be one of {sorted(SPACINGS)} or a number, not {spacing!r}")
    mean_width = float(np.mean([p.shape[1] for p in pieces]))
    lefts = [0]
    for piece in pieces[:-1]:
        gap = rng.uniform(*SPACINGS[spacing]) if isinstance(spacing, str) else spacing
        lefts.append(lefts[-1] + max(1, piece.shape[1] + round(gap * mean_width)))
    drift = 0.1 * height * MNIST_INK
    bottoms = [round(rng.uniform(-drift, drift)) for _ in pieces]
    tops = [b - p.shape[0] for b, p in zip(bottoms, pieces, strict=True)]
    margin = max(2, round(0.08 * height))
    shift = margin - min(tops)
    size = (
        max(bottoms) - min(tops) + 2 * margin,
        max(left + p.shape[1] for left, p in zip(lefts, pieces, strict=True)) + 2 * margin,
    )
    ink = np.zeros(size, dtype=np.float32)
    boxes: list[Box] = []
    for piece, top, left in zip(pieces, tops, lefts, strict=True):
        box = (
            top + shift,
            left + margin,
            top + shift + piece.shape[0],
            left + margin + piece.shape[1],
        )
        window = ink[box[0] : box[2], box[1] : box[3]]
        np.maximum(window, piece, out=window)
        boxes.append(box)
    return ink, boxes


def _written(ink: NDArray[np.float32], rng: Rng) -> NDArray[np.float32]:
    """Return ``ink`` as a photo's ink map shows it: blurred, cut at a threshold, rescaled.

    Like ``mnist_style.ink_map``: what is below the threshold is paper, and
    the strongest tenth of the ink is full strength.
    """
    if rng.random() < 0.8:
        ink = ndimage.gaussian_filter(ink, rng.uniform(0.3, 1.5))
    ink = ink ** rng.uniform(0.6, 1.5)
    threshold = rng.uniform(0.05, 0.35) * float(ink.max())
    above = ink[ink > threshold]
    strong = float(np.percentile(above, 90)) if above.size else 1.0
    written: NDArray[np.float32] = np.clip(
        (ink - threshold) / max(strong - threshold, 1e-6), 0.0, 1.0
    ).astype(np.float32)
    return written


def number_examples(
    images: NDArray[np.uint8],
    labels: NDArray[np.int64],
    count: int,
    seed: int | np.random.SeedSequence,
) -> tuple[NDArray[np.uint8], NDArray[np.int64], NDArray[np.int64]]:
    """Return ``count`` numbers of 1-10 digits drawn from ``images``, as the reader sees them.

    Each number is composed with a random spacing ("any"), at a random
    height of 16-64 pixels (mostly small, as in photos), each digit's ink
    at its own strength (a pen pressed harder or lighter), blurred, cut and
    rescaled as ``ink_map`` does, and scaled by ``frame_number``. Numbers
    wider than ``MAX_TRAINING_WIDTH`` are drawn again.

    Parameters
    ----------
    images : numpy.ndarray of uint8
        MNIST digits, shape ``(n, 28, 28)``.
    labels : numpy.ndarray of int
        Their labels, shape ``(n,)``.
    count : int
        How many numbers to make.
    seed : int or numpy.random.SeedSequence
        The source of randomness.

    Returns
    -------
    strips : numpy.ndarray of uint8
        Shape ``(count, FRAME_HEIGHT, MAX_TRAINING_WIDTH)``, ink 0-255, each
        number at the left.
    widths : numpy.ndarray of int64
        Shape ``(count,)``: the columns each number takes.
    texts : numpy.ndarray of int64
        Shape ``(count, MAX_TRAINING_DIGITS)``: each number's digits, padded with -1.
    """
    rng = np.random.default_rng(seed)
    strips = np.zeros((count, FRAME_HEIGHT, MAX_TRAINING_WIDTH), dtype=np.uint8)
    widths = np.zeros(count, dtype=np.int64)
    texts = np.full((count, MAX_TRAINING_DIGITS), -1, dtype=np.int64)
    made = 0
    while made < count:
        length = int(rng.integers(1, MAX_TRAINING_DIGITS + 1))
        chosen = rng.integers(0, len(images), size=length)
        strengths = rng.uniform(0.35, 1.0, size=(length, 1, 1)) if rng.random() < 0.5 else 1.0
        digits = np.round(images[chosen] * strengths).astype(np.uint8)
        height = round(float(np.exp(rng.uniform(np.log(16), np.log(64)))))
        ink, _ = compose_number(list(digits), rng, spacing="any", height=height)
        pixels = frame_number(_written(ink, rng)).pixels
        if pixels.shape[1] > MAX_TRAINING_WIDTH:
            continue
        strips[made, :, : pixels.shape[1]] = np.round(pixels * 255)
        widths[made] = pixels.shape[1]
        texts[made, :length] = labels[chosen]
        made += 1
    return strips, widths, texts
