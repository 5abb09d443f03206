"""Splitting the ink of a written number into one piece per digit."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from digitcnn._vision.mnist_style import blob_traces

__all__ = ["DigitPiece", "split_digits"]

DigitPiece = tuple[slice, slice, NDArray[np.bool_]]
"""One digit of a number: its rows and columns in the picture, and its ink mask within them."""

_OVERLAP = 0.5  # blobs whose columns overlap this much (of the narrower) are one digit
_MIN_HEIGHT = 0.25  # groups shorter than this fraction of the tallest are specks


def split_digits(
    ink: NDArray[np.float64], traces: NDArray[np.integer] | None = None
) -> list[DigitPiece]:
    """Split ``ink`` into digits: blobs, merged where a faint trace joins them or columns overlap.

    Blobs that one faint trace joins are one digit (a stroke that faded into
    pieces), and so are blobs that share their columns (a broken stroke, the
    bar of a 5). A piece much shorter than the tallest belongs to the digit
    it shares most columns with, over or under it (a bar that sticks out to
    the right), or to a digit a few columns beside it (a bar cut off); if
    there is none it is a speck and is dropped.
    Digits that touch each other come out as one piece.

    Parameters
    ----------
    ink : numpy.ndarray of float
        Light strokes on a zero background, as ``mnist_style.ink_map`` or
        ``mnist_style.ink_and_traces`` returns them.
    traces : numpy.ndarray of int, optional
        The faint traces that join pieces of ink, as
        ``mnist_style.ink_and_traces`` returns them with ``ink``; a blob
        outside every trace stands alone.

    Returns
    -------
    list of DigitPiece
        Each digit's bounding slices and its mask within them, left to right.
    """
    labels, count = ndimage.label(ink > 0, structure=np.ones((3, 3)))
    boxes = ndimage.find_objects(labels)
    trace_of = (
        np.zeros(count + 1, np.intp) if traces is None else blob_traces(labels, count, traces)
    )
    joined: dict[int, list[int]] = {}  # blob numbers (1-based) by their trace; in none, alone
    for number in range(1, count + 1):
        joined.setdefault(int(trace_of[number]) or -number, []).append(number)
    groups: list[list[int]] = []  # blob numbers, grouped
    spans: list[list[int]] = []  # each group's [left, right) columns
    for blobs in sorted(joined.values(), key=lambda blobs: _span(boxes, blobs, 1)[0]):
        start, stop = _span(boxes, blobs, 1)
        for group, span in zip(groups, spans, strict=True):
            overlap = min(span[1], stop) - max(span[0], start)
            narrower = min(span[1] - span[0], stop - start)
            if overlap >= _OVERLAP * narrower:
                group += blobs
                span[:] = [min(span[0], start), max(span[1], stop)]
                break
        else:
            groups.append(list(blobs))
            spans.append([start, stop])
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
    columns with it, no more than ``least`` rows above or below it; or if
    none shares any, the nearest such group less than ``least / 2``
    columns beside it (the bar of a 5 that a gap parts from its body).
    """
    best, owner = -least / 2, None  # shared columns; less than none is the gap between
    for k, (span, (start, stop)) in enumerate(zip(spans, rows_of, strict=True)):
        shared = min(span[1], spans[short][1]) - max(span[0], spans[short][0])
        gap = max(start - rows_of[short][1], rows_of[short][0] - stop)
        if stop - start >= least and gap <= least and shared > best:
            best, owner = shared, k
    return owner
