"""Photographed handwritten numbers made from MNIST digits, on plain, ruled or form paper.

:func:`write_number` writes a number with the digits of ``realworld.py``'s
photos (each MNIST digit enlarged to 60-160 pixels, turned up to 10 degrees,
its edges crisp as ink's) set side by side on a wavering baseline, apart or
touching, by the library's ``line_up`` (which also sets the number reader's
training numbers). :func:`on_paper` puts such a number on plain, lined,
squared or dotted paper and photographs it; :func:`compose_in_boxes` writes
one digit per box of a form's comb field. :func:`paper_page` and
:func:`boxes_page` do the same and also return the ground truth (the ink and
the paper's lines in the picture), for measuring line removal.

The photograph step (paper texture, uneven lighting, blur, JPEG) is the one
of ``photos.py`` beside this file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray
from photos import INKS, _finish, _paper, _shape
from scipy import ndimage

from digitcnn._training.number_sets import MNIST_INK, crop_to_ink, line_up
from digitcnn._vision.paper_lines import Box

__all__ = [
    "KINDS",
    "Page",
    "boxes_page",
    "compose_in_boxes",
    "on_paper",
    "paper_page",
    "write_number",
]

Rng = np.random.Generator
Layer = tuple[NDArray[np.float64], tuple[float, float, float]]
"""Paper lines to draw: their coverage in [0, 1] and their colour on the 0-255 scale."""

KINDS = ("plain", "lined", "squared", "dotted", "boxes")
PENS = {name: INKS[name] for name in ("black", "blue")}
_MAX_TILT = 3.0  # degrees of rotation of the photographed page
_HEIGHTS = (60, 160)  # the side MNIST's 28x28 frame is enlarged to, as photos.number_photo does


class Page(NamedTuple):
    """A photographed page and its ground truth.

    Attributes
    ----------
    picture : numpy.ndarray of uint8
        The photo, shape (height, width, 3).
    ink : numpy.ndarray of float32
        The pen's coverage of each pixel of the photo, in [0, 1].
    rules : numpy.ndarray of float32
        The paper lines' coverage (rules, grid, dots, box walls), in [0, 1].
    cells : list of Box
        The inside of each box of a comb field (``"boxes"`` only), left to right.
    """

    picture: NDArray[np.uint8]
    ink: NDArray[np.float32]
    rules: NDArray[np.float32]
    cells: list[Box]


def _digit_ink(digit: NDArray[np.uint8], rng: Rng, height: int) -> NDArray[np.float64]:
    """Return one digit as ``photos.py`` shapes it for a photo, cropped to its ink."""
    return crop_to_ink(_shape(digit, height, rng, pen=None))


def write_number(
    digits: Sequence[NDArray[np.uint8]], rng: Rng, *, spacing: str = "apart"
) -> NDArray[np.float32]:
    """Write a number with the given MNIST digits as ``realworld.py``'s photos write digits.

    Parameters
    ----------
    digits : sequence of numpy.ndarray of uint8
        MNIST images, 28x28, white digit on black.
    rng : numpy.random.Generator
        The source of randomness.
    spacing : {"apart", "touching"}, default "apart"
        The gaps between neighbours, as ``line_up`` draws them.

    Returns
    -------
    numpy.ndarray of float32
        Light ink on zero in [0, 1], the number plus a small margin.
    """
    height = int(rng.integers(*_HEIGHTS, endpoint=True))
    pieces = [_digit_ink(d, rng, height) for d in digits]
    return line_up(pieces, rng, spacing=spacing, height=height)[0]


def _stripes(
    coords: NDArray[np.float64], period: float, offset: float, width: float
) -> NDArray[np.float64]:
    """Return the anti-aliased coverage of lines ``width`` thick at ``offset + k * period``."""
    distance = np.abs((coords - offset + period / 2) % period - period / 2)
    return np.clip(width / 2 + 0.5 - distance, 0.0, 1.0)


def _line(coords: NDArray[np.float64], at: float, width: float) -> NDArray[np.float64]:
    return np.clip(width / 2 + 0.5 - np.abs(coords - at), 0.0, 1.0)


def _pale(rng: Rng) -> tuple[float, float, float]:
    """Return a ruling colour: light to mid blue, or sometimes grey."""
    if rng.random() < 0.3:
        grey = rng.uniform(110, 200)
        return (grey, grey, grey)
    light = rng.uniform(0, 1)  # from mid blue to pale blue
    return (90 + 100 * light, 130 + 80 * light, 195 + 50 * light)


def _rulings(kind: str, ink: NDArray[np.float64], rng: Rng, height: float) -> list[Layer]:
    """Return the paper lines of ``kind`` for a page with ``ink`` on it, digits ``height`` tall."""
    rows = np.arange(ink.shape[0], dtype=np.float64)
    cols = np.arange(ink.shape[1], dtype=np.float64)
    width = max(1.0, height * rng.uniform(0.015, 0.035))
    shape = ink.shape
    if kind == "plain":
        return []
    if kind == "lined":
        baseline = float(np.flatnonzero((ink > 0.5).any(axis=1))[-1])
        rules = _stripes(rows, height * rng.uniform(0.8, 1.0), baseline, width)
        layers = [(np.broadcast_to(rules[:, None], shape).copy(), _pale(rng))]
        if rng.random() < 0.8:
            first = float(np.flatnonzero((ink > 0.5).any(axis=0))[0])
            at = first + height * (
                rng.uniform(0.05, 0.35) if rng.random() < 0.4 else -rng.uniform(0.1, 0.6)
            )
            red = (rng.uniform(200, 240), rng.uniform(60, 120), rng.uniform(70, 130))
            margin = _line(cols, at, width * rng.uniform(1.0, 1.5))
            layers.append((np.broadcast_to(margin[None, :], shape).copy(), red))
        return layers
    if kind == "squared":
        cell = height * rng.uniform(0.5, 0.7)
        across = _stripes(rows, cell, rng.uniform(0, cell), width)
        down = _stripes(cols, cell, rng.uniform(0, cell), width)
        return [(np.maximum(across[:, None], down[None, :]), _pale(rng))]
    if kind == "dotted":
        step = height * rng.uniform(0.4, 0.7)
        dy = (rows - rng.uniform(0, step) + step / 2) % step - step / 2
        dx = (cols - rng.uniform(0, step) + step / 2) % step - step / 2
        radius = width * rng.uniform(0.6, 1.2)
        dots = np.clip(radius + 0.5 - np.hypot(dy[:, None], dx[None, :]), 0.0, 1.0)
        grey = rng.uniform(90, 170)
        colour = (grey, grey, grey) if rng.random() < 0.5 else _pale(rng)
        return [(dots, colour)]
    raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")


def _photograph(
    ink: NDArray[np.float64], layers: list[Layer], rng: Rng, pad: int, cells: Sequence[Box] = ()
) -> Page:
    """Draw the lines and the ink on paper, tilt, light, blur and compress; crop ``pad`` off."""
    rgb = _paper(ink.shape, rng)
    rules = np.zeros(ink.shape)
    for coverage, colour in layers:
        coverage = coverage * rng.uniform(0.7, 1.0)
        rgb = rgb * (1 - coverage[..., None]) + np.array(colour) / 255 * coverage[..., None]
        rules = np.maximum(rules, coverage)
    pen = np.array(PENS[rng.choice(list(PENS))]) / 255 * rng.uniform(0.8, 1.2)
    strength = ink[..., None] * rng.uniform(0.75, 1.0)
    rgb = rgb * (1 - strength) + pen * strength
    labels = np.zeros(ink.shape, dtype=np.int32)
    for number, (top, left, bottom, right) in enumerate(cells, start=1):
        labels[top:bottom, left:right] = number
    angle = rng.uniform(-_MAX_TILT, _MAX_TILT)

    def turn(image: NDArray[Any], order: int = 1) -> NDArray[Any]:
        turned: NDArray[Any] = ndimage.rotate(
            image, angle, reshape=False, order=order, mode="nearest"
        )
        return turned[pad : image.shape[0] - pad, pad : image.shape[1] - pad]

    rgb = np.stack([turn(rgb[..., k]) for k in range(3)], axis=-1)
    rgb += rng.normal(0.0, rng.uniform(0.0, 0.03), rgb.shape)
    picture = np.asarray(_finish(rgb, rng), dtype=np.uint8)
    found = ndimage.find_objects(turn(labels, order=0))
    boxes = [(s[0].start, s[1].start, s[0].stop, s[1].stop) for s in found if s is not None]
    return Page(picture, turn(ink).astype(np.float32), turn(rules).astype(np.float32), boxes)


def paper_page(
    ink: NDArray[np.floating], rng: Rng, kind: str, *, digit_height: float | None = None
) -> Page:
    """Put a number written by :func:`write_number` on paper of ``kind`` and photograph it.

    Parameters
    ----------
    ink : numpy.ndarray of float
        Light ink on zero in [0, 1], as :func:`write_number` returns it.
    rng : numpy.random.Generator
        The source of randomness.
    kind : {"plain", "lined", "squared", "dotted"}
        "lined": pale rules 0.8-1.0 digit height apart, the writing sitting
        on one, and usually a red margin line near the left, sometimes
        through the first digit; "squared": a pale grid of 0.5-0.7 digit
        height; "dotted": a grid of dots. For "boxes" use :func:`boxes_page`.
    digit_height : float, optional
        The height of the digits in pixels; by default, from the ink.

    Returns
    -------
    Page
        The photo and its ground truth.
    """
    if kind == "boxes":
        raise ValueError(
            "digits in boxes are written one per box: use compose_in_boxes or boxes_page"
        )
    ink = np.asarray(ink, dtype=np.float64)
    rows = np.flatnonzero((ink > 0.5).any(axis=1))
    height = digit_height or max(8.0, (rows[-1] - rows[0] + 1) / 1.15)
    margins = [
        round(height * rng.uniform(lo, hi))
        for lo, hi in ((0.3, 0.9), (0.4, 1.2), (0.3, 0.9), (0.3, 0.9))
    ]
    pad = int(np.ceil(np.sin(np.radians(_MAX_TILT)) * (sum(ink.shape) + 4 * height))) + 2
    top, left, bottom, right = (m + pad for m in margins)
    canvas = np.pad(ink, ((top, bottom), (left, right)))
    return _photograph(canvas, _rulings(kind, canvas, rng, height), rng, pad)


def on_paper(ink: NDArray[np.floating], rng: Rng, kind: str) -> NDArray[np.uint8]:
    """Return a photo of ``ink`` written in black or blue pen on paper of ``kind``.

    Parameters
    ----------
    ink : numpy.ndarray of float
        Light ink on zero in [0, 1], as :func:`write_number` returns it.
    rng : numpy.random.Generator
        The source of randomness.
    kind : {"plain", "lined", "squared", "dotted"}
        The paper; see :func:`paper_page`.

    Returns
    -------
    numpy.ndarray of uint8
        An RGB picture, shape (height, width, 3).
    """
    return paper_page(ink, rng, kind).picture


def boxes_page(digits: Sequence[NDArray[np.uint8]], rng: Rng) -> Page:
    """Write one digit per box of a form's comb field and photograph it.

    The boxes are dark (black or grey) rectangles with thin walls, sharing
    their walls or a little apart; each digit is written inside its box,
    now and then touching a wall.

    Parameters
    ----------
    digits : sequence of numpy.ndarray of uint8
        MNIST images, 28x28, white digit on black, each enlarged as
        :func:`write_number` does.
    rng : numpy.random.Generator
        The source of randomness.

    Returns
    -------
    Page
        The photo, its ground truth, and the inside of each box.
    """
    height = int(rng.integers(*_HEIGHTS, endpoint=True))
    tall = height * MNIST_INK  # the digits' height
    box_w, box_h = round(tall * rng.uniform(0.9, 1.3)), round(tall * rng.uniform(1.35, 1.7))
    apart = 0 if rng.random() < 0.5 else round(tall * rng.uniform(0.2, 0.5))
    wall = max(1.0, tall * rng.uniform(0.015, 0.035))
    margin = round(tall * rng.uniform(0.3, 0.8))
    pad = (
        int(np.ceil(np.sin(np.radians(_MAX_TILT)) * (len(digits) + 2) * (box_w + apart + box_h)))
        + 2
    )
    shape = (box_h + 2 * (margin + pad), len(digits) * (box_w + apart) - apart + 2 * (margin + pad))
    ink = np.zeros(shape)
    walls = np.zeros(shape)
    rows, cols = np.arange(shape[0], dtype=np.float64), np.arange(shape[1], dtype=np.float64)
    cells: list[Box] = []
    top = margin + pad
    for number, digit in enumerate(digits):
        left = margin + pad + number * (box_w + apart)
        across = np.maximum(_line(rows, top, wall), _line(rows, top + box_h, wall))[:, None]
        down = np.maximum(_line(cols, left, wall), _line(cols, left + box_w, wall))[None, :]
        inside_rows = (rows >= top - wall / 2) & (rows <= top + box_h + wall / 2)
        inside_cols = (cols >= left - wall / 2) & (cols <= left + box_w + wall / 2)
        walls = np.maximum(
            walls, np.maximum(across * inside_cols[None, :], down * inside_rows[:, None])
        )
        piece = _digit_ink(digit, rng, height)
        # centre the digit in its box, give or take; big digits may touch a wall
        r = top + (box_h - piece.shape[0]) // 2 + round(rng.normal(0, 0.08) * box_h)
        c = left + (box_w - piece.shape[1]) // 2 + round(rng.normal(0, 0.08) * box_w)
        window = ink[r : r + piece.shape[0], c : c + piece.shape[1]]
        np.maximum(window, piece, out=window)
        cells.append((top + 1, left + 1, top + box_h, left + box_w))
    grey = rng.uniform(20, 120)
    return _photograph(ink, [(walls, (grey, grey, grey))], rng, pad, cells)


def compose_in_boxes(
    digits: Sequence[NDArray[np.uint8]], rng: Rng
) -> tuple[NDArray[np.uint8], list[Box]]:
    """Return a photo of one digit written per box of a comb field, and the boxes.

    Parameters
    ----------
    digits : sequence of numpy.ndarray of uint8
        MNIST images, 28x28, white digit on black.
    rng : numpy.random.Generator
        The source of randomness.

    Returns
    -------
    picture : numpy.ndarray of uint8
        An RGB picture, shape (height, width, 3).
    boxes : list of Box
        The inside of each box in ``picture``, left to right.
    """
    page = boxes_page(digits, rng)
    return page.picture, page.cells
