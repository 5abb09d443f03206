"""Splitting the ink of a written number into one piece per digit."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

__all__ = ["DigitPiece", "split_digits"]

DigitPiece = tuple[slice, slice, NDArray[np.bool_]]
"""One digit of a number: its rows and columns in the picture, and its ink mask within them."""

_OVERLAP = 0.5  # blobs whose columns overlap this much (of the narrower) are one digit
_MIN_HEIGHT = 0.25  # groups shorter than this fraction of the tallest are specks


def split_digits(ink: NDArray[np.float64]) -> list[DigitPiece]:
    """Split ``ink`` into digits: connected blobs, merged where their columns overlap.

    Blobs that share their columns are one digit (a broken stroke, the bar of
    a 5); pieces much shorter than the tallest are specks and are dropped.
    Digits that touch each other come out as one piece.

    Parameters
    ----------
    ink : numpy.ndarray of float
        Light strokes on a zero background, as ``mnist_style.ink_map``
        returns.

    Returns
    -------
    list of DigitPiece
        Each digit's bounding slices and its mask within them, left to right.
    """
    labels, count = ndimage.label(ink > 0, structure=np.ones((3, 3)))
    boxes = ndimage.find_objects(labels)
    groups: list[list[int]] = []  # blob numbers (1-based), grouped
    spans: list[list[int]] = []  # each group's [left, right) columns
    for number in sorted(range(1, count + 1), key=lambda n: boxes[n - 1][1].start):
        cols = boxes[number - 1][1]
        for group, span in zip(groups, spans, strict=True):
            overlap = min(span[1], cols.stop) - max(span[0], cols.start)
            narrower = min(span[1] - span[0], cols.stop - cols.start)
            if overlap >= _OVERLAP * narrower:
                group.append(number)
                span[:] = [min(span[0], cols.start), max(span[1], cols.stop)]
                break
        else:
            groups.append([number])
            spans.append([cols.start, cols.stop])
    found = []
    for group in groups:
        mask = np.isin(labels, group)
        rows = np.flatnonzero(mask.any(axis=1))
        cols = np.flatnonzero(mask.any(axis=0))
        box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
        found.append((box[0], box[1], mask[box]))
    tallest = max((rows.stop - rows.start for rows, _, _ in found), default=0)
    return [g for g in found if g[0].stop - g[0].start >= _MIN_HEIGHT * tallest]
