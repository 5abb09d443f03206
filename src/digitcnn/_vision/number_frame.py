"""The ink of a written number scaled to the number reader's input: a strip 32 pixels tall."""

from __future__ import annotations

import dataclasses

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from digitcnn._exceptions import EmptyImageError

__all__ = [
    "FRAME_HEIGHT",
    "MAX_FRAME_WIDTH",
    "STEP_WIDTH",
    "NumberFrame",
    "frame_number",
]

FRAME_HEIGHT = 32
"""Rows of the reader's input: the number's ink fills the middle ``FRAME_HEIGHT - 2 * _MARGIN``."""

STEP_WIDTH = 4
"""Columns of the reader's input per step of its output sequence."""

MAX_FRAME_WIDTH = 2048
"""Widest input the reader takes, in columns: about 60 digits written apart."""

_MARGIN = 2  # blank rows above and below the ink
_SIDE = 8  # blank columns left and right of the ink
_STRETCH = 1.25  # columns are scaled this much more than rows: narrow digits get more steps


@dataclasses.dataclass(frozen=True)
class NumberFrame:
    """A number's ink as the reader takes it, and where it came from in the picture.

    Attributes
    ----------
    pixels : numpy.ndarray of float32
        Shape ``(FRAME_HEIGHT, width)``, ``width`` a multiple of
        :data:`STEP_WIDTH`; light ink on zero, its brightest pixel 1.
    top, bottom : int
        The ink's first and last-plus-one row in the picture.
    left : float
        The picture column that the frame's column 0 stands for.
    columns_per_pixel : float
        Frame columns per picture column.
    """

    pixels: NDArray[np.float32]
    top: int
    bottom: int
    left: float
    columns_per_pixel: float

    def picture_columns(self, first: int, last: int) -> tuple[int, int]:
        """Return the picture columns under frame columns ``first`` to ``last`` (exclusive)."""
        return (
            max(0, int(np.floor(self.left + first / self.columns_per_pixel))),
            int(np.ceil(self.left + last / self.columns_per_pixel)),
        )


def frame_number(ink: NDArray[np.floating]) -> NumberFrame:
    """Scale the ink of a number to the reader's input height, keeping it in proportion.

    The ink is cropped to its bounding box, resized (anti-aliased) so that it
    is ``FRAME_HEIGHT - 4`` rows tall and its columns are stretched 1.25
    times as much, and given a blank margin; the width is rounded up to a
    multiple of :data:`STEP_WIDTH`.

    Parameters
    ----------
    ink : numpy.ndarray of float
        Light strokes on a zero background, values in [0, 1].

    Returns
    -------
    NumberFrame
        The reader's input, and how its columns map to the picture's.

    Raises
    ------
    EmptyImageError
        If ``ink`` is all zero.
    ValueError
        If the number is too long for its height: wider than
        :data:`MAX_FRAME_WIDTH` columns once scaled.
    """
    rows = np.flatnonzero(ink.any(axis=1))
    cols = np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        raise EmptyImageError("the image has no ink: nothing stands out from the background")
    top, bottom, first, last = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    scale = (FRAME_HEIGHT - 2 * _MARGIN) / (bottom - top)
    per_pixel = scale * _STRETCH
    width = max(1, round((last - first) * per_pixel))
    total = -(-(width + 2 * _SIDE) // STEP_WIDTH) * STEP_WIDTH
    if total > MAX_FRAME_WIDTH:
        raise ValueError(
            f"the ink is {last - first} pixels wide and {bottom - top} tall: too long to be read "
            f"as one number (at most {MAX_FRAME_WIDTH // (FRAME_HEIGHT * _STRETCH):.0f} times "
            "wider than tall)"
        )
    crop = np.asarray(ink[top:bottom, first:last], dtype=np.float32)
    small = Image.fromarray(crop, mode="F").resize(
        (width, FRAME_HEIGHT - 2 * _MARGIN), Image.Resampling.BILINEAR, reducing_gap=2.0
    )
    pixels = np.zeros((FRAME_HEIGHT, total), dtype=np.float32)
    pixels[_MARGIN : FRAME_HEIGHT - _MARGIN, _SIDE : _SIDE + width] = np.clip(
        np.asarray(small), 0.0, 1.0
    )
    peak = pixels.max()
    if peak > 0:
        pixels /= peak
    return NumberFrame(pixels, int(top), int(bottom), float(first - _SIDE / per_pixel), per_pixel)
