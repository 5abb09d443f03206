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
    a 5). A piece much shorter than the tallest belongs to the digit it
    shares most columns with, over or under it (a bar that sticks out to
    the right); if there is none it is a speck and is dropped.
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
    rows_of = [_span(boxes, group, 0) for group in groups]
    tallest = max((stop - start for start, stop in rows_of), default=0)
    kept: list[int] = []
    for k, (start, stop) in enumerate(rows_of):
        if stop - start >= _MIN_HEIGHT * tallest:
            kept.append(k)
        elif (owner := _owner(k, spans, rows_of, _MIN_HEIGHT * tallest)) is not None:
            groups[owner] += groups[k]  # over or under a digit: its bar, a broken stroke
    found = []
    for k in kept:
        mask = np.isin(labels, groups[k])
        rows = np.flatnonzero(mask.any(axis=1))
        cols = np.flatnonzero(mask.any(axis=0))
        box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
        found.append((box[0], box[1], mask[box]))
    return found


def _span(boxes: list[tuple[slice, ...]], group: list[int], axis: int) -> tuple[int, int]:
    """Return the ``[start, stop)`` that the blobs of ``group`` cover along ``axis``."""
    return (
        min(int(boxes[n - 1][axis].start) for n in group),
        max(int(boxes[n - 1][axis].stop) for n in group),
    )


def _owner(
    short: int, spans: list[list[int]], rows_of: list[tuple[int, int]], least: float
) -> int | None:
    """Return the digit that the short group ``short`` belongs to, or None if it is a speck.

    That is the group at least ``least`` rows tall that shares the most
    columns with it, if it shares any and is no more than ``least`` rows
    above or below it.
    """
    best, owner = 0, None
    for k, (span, (start, stop)) in enumerate(zip(spans, rows_of, strict=True)):
        shared = min(span[1], spans[short][1]) - max(span[0], spans[short][0])
        gap = max(start - rows_of[short][1], rows_of[short][0] - stop)
        if stop - start >= least and gap <= least and shared > best:
            best, owner = shared, k
    return owner
