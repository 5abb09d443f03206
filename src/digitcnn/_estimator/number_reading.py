"""Reading a written number: the paper's lines removed, form boxes, blobs and the number reader."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray
from PIL import Image
from scipy import ndimage

from digitcnn._constants import NUM_CLASSES
from digitcnn._estimator.decoding import ReadDigit, best_path
from digitcnn._estimator.readings import UNREAD, DigitString, ProbabilityFunction
from digitcnn._exceptions import EmptyImageError
from digitcnn._types import ImageInput
from digitcnn._vision.greyscale import read_pixels
from digitcnn._vision.mnist_style import frame_digit, ink_and_traces
from digitcnn._vision.number_frame import STEP_WIDTH, NumberFrame, frame_number
from digitcnn._vision.paper_lines import Box, clean_paper
from digitcnn._vision.segmentation import DigitPiece, split_digits

__all__ = ["StepFunction", "read_ink", "read_number"]

_WORKING_SIDE = 160  # larger pictures are read with their shorter side shrunk to this
_WALL_BAND = 0.1  # ink within this fraction of a box's width from its walls is near them
_REMNANT = 0.2  # a blob with less than this share of its ink away from its box's walls is theirs
_SHARED = 0.25  # a blob with this share of its ink in each of two boxes is a digit in each
_DOUBLE = 1.6  # a box this many times the median box's width is boxes whose walls were not found
_LONE_PITCH = 1.1  # with one box found, its neighbours are this many of its widths away
_APART = 0.75  # a number is written apart if the reader read one digit in this share of its blobs
_SURE = 0.95  # a blob, or a box's blobs, is one digit only if the classifier is this sure of it
_SURER = 10  # a blob read as digits is one if the classifier doubts that this many times less
_WIDE = 1.5  # in a number written apart, a digit is up to this many times the median's width
_TALL = 0.6  # blobs at least this fraction of the number's tallest can be digits of their own

StepFunction = Callable[[NumberFrame], NDArray[np.float32]]
"""A number reader's ``step_probabilities``: a strip to its ``(steps, 11)`` probabilities."""


def read_number(
    predict_proba: ProbabilityFunction,
    step_probabilities: StepFunction,
    image: ImageInput,
    threshold: float,
) -> DigitString:
    """Return the number written in ``image``.

    The paper's lines are removed first (``paper_lines.clean_paper``). Digits
    written one per box of a form's comb field are read one per box by the
    classifier (:func:`_read_boxes`); other numbers by the number reader and
    the classifier together (:func:`read_ink`).

    Parameters
    ----------
    predict_proba : callable
        The classifier's probabilities of 28x28 images.
    step_probabilities : callable
        The number reader's step probabilities of a number's strip.
    image : picture
        As :meth:`DigitClassifier.read_digits` takes it.
    threshold : float
        Digits below this probability are ``"?"``.
    """
    pixels = read_pixels(image)
    scale = min(1.0, _WORKING_SIDE / min(pixels.shape[:2]))
    strokes, boxes = clean_paper(_resized(pixels, scale))
    try:
        ink, traces = ink_and_traces(strokes)
    except EmptyImageError:
        return _digit_string([], [], threshold)
    if boxes:
        found = _read_boxes(predict_proba, step_probabilities, ink, traces, boxes, threshold)
    else:
        found = read_ink(predict_proba, step_probabilities, ink, threshold, traces)
    if scale == 1.0:
        return found
    return dataclasses.replace(
        found,
        boxes=tuple(
            (int(t / scale), int(lf / scale), int(np.ceil(b / scale)), int(np.ceil(r / scale)))
            for t, lf, b, r in found.boxes
        ),
    )


def _resized(pixels: NDArray[np.float64], scale: float) -> NDArray[np.float64]:
    """Return ``pixels`` (grey or RGB) resized by ``scale``, anti-aliased."""
    if scale == 1.0:
        return pixels
    size = (max(2, round(pixels.shape[1] * scale)), max(2, round(pixels.shape[0] * scale)))
    planes = pixels[..., None] if pixels.ndim == 2 else pixels
    resized = [
        np.asarray(
            Image.fromarray(planes[..., k].astype(np.float32), mode="F").resize(
                size, Image.Resampling.BOX
            ),
            dtype=np.float64,
        )
        for k in range(planes.shape[-1])
    ]
    return resized[0] if pixels.ndim == 2 else np.stack(resized, axis=-1)


def _digit_string(
    probabilities: Sequence[NDArray[np.float32]], boxes: Sequence[Box], threshold: float
) -> DigitString:
    confidences = tuple(float(p.max()) for p in probabilities)
    digits = tuple(
        int(p.argmax()) if confidence >= threshold else UNREAD
        for p, confidence in zip(probabilities, confidences, strict=True)
    )
    return DigitString(
        text="".join("?" if d == UNREAD else str(d) for d in digits),
        digits=digits,
        confidences=confidences,
        boxes=tuple((int(t), int(lf), int(b), int(r)) for t, lf, b, r in boxes),
    )


def _ink_box(ink: NDArray[np.float64], rows: slice, cols: slice) -> Box | None:
    """Return the bounding box of the ink within ``rows`` and ``cols``, or None if there is none."""
    window = ink[rows, cols] > 0
    found_rows, found_cols = np.flatnonzero(window.any(axis=1)), np.flatnonzero(window.any(axis=0))
    if found_rows.size == 0:
        return None
    top, left = (rows.start or 0), (cols.start or 0)
    return (
        top + int(found_rows[0]),
        left + int(found_cols[0]),
        top + int(found_rows[-1]) + 1,
        left + int(found_cols[-1]) + 1,
    )


def _read_boxes(
    predict_proba: ProbabilityFunction,
    step_probabilities: StepFunction,
    ink: NDArray[np.float64],
    traces: NDArray[np.int32],
    boxes: list[Box],
    threshold: float,
) -> DigitString:
    """Read one digit per box of a comb field, in the boxes found and those whose walls were not.

    The field is made whole first (:func:`_comb`). Each blob of ink belongs
    to the box that holds most of it, strokes beyond the box's walls
    included; a blob with at least a quarter of its ink in each of two boxes
    is digits that touch across a wall, read together by the number reader
    (:func:`_read_freely`), or cut at the wall if it reads another count of
    digits than there are boxes with ink. Blobs with less than a fifth of
    their ink away from their box's walls (beyond a tenth of its width from
    them: :func:`_inside`) are what is left of the walls, or lie outside
    every box, and are dropped; boxes with no other ink are skipped. The
    other digits are read by the classifier and the number reader together
    (:func:`_read_alone`). If no box holds ink, or a box holds two digits
    side by side (:func:`_boxes_missed`: walls of the field were not found,
    and the boxes found are not its boxes), the ink is read as a number
    written freely (:func:`read_ink`).
    """
    cells = _comb(boxes, ink.shape[1])
    labels, count = ndimage.label(ink > 0, structure=np.ones((3, 3)))
    blobs = np.arange(1, count + 1)
    shares = np.stack([ndimage.sum(ink[:, lf:r], labels[:, lf:r], blobs) for _, lf, _, r in cells])
    shares /= np.maximum(shares.sum(axis=0), np.finfo(np.float64).tiny)
    spans = ndimage.find_objects(labels)
    homes = shares.argmax(axis=0)
    inner = np.stack([ndimage.sum(ink[at], labels[at], blobs) for at in map(_inside, cells)])
    remnants = inner[homes, blobs - 1] < _REMNANT * ndimage.sum(ink, labels, blobs)
    if _boxes_missed(predict_proba, ink, labels, spans, homes, remnants):
        return read_ink(predict_proba, step_probabilities, ink, threshold, traces)
    digits = [np.zeros_like(ink) for _ in cells]
    tied = np.zeros(len(cells), dtype=bool)  # a blob runs from this box into the next
    for n in range(len(spans)):
        home = int(homes[n])
        if remnants[n]:
            continue
        own = labels == n + 1
        split = np.flatnonzero(shares[:, n] >= _SHARED)
        if split.size < 2:
            digits[home] = np.where(own, ink, digits[home])
            continue
        tied[split[0] : split[-1]] = True
        for cell in split:
            _, left, _, right = cells[cell]
            digits[cell][:, left:right] = np.where(own[:, left:right], ink[:, left:right], 0.0)
    runs: list[list[int]] = []
    for c in range(len(cells)):
        if c > 0 and tied[c - 1]:
            runs[-1].append(c)
        else:
            runs.append([c])
    found: list[tuple[Box, NDArray[np.float32] | None, NDArray[np.float64] | None]] = []
    for run in runs:
        inked = [(c, box) for c in run if (box := _ink_box(digits[c], slice(None), slice(None)))]
        if len(inked) > 1:  # digits that touch across a wall: read together if the count agrees
            together = np.maximum.reduce([digits[c] for c, _ in inked])
            read, where = _read_freely(predict_proba, step_probabilities, together)
            if len(read) == len(inked):
                found += [(box, p, None) for p, box in zip(read, where, strict=True)]
                continue
        found += [(box, None, digits[c]) for c, box in inked]
    if not found:
        return read_ink(predict_proba, step_probabilities, ink, threshold, traces)
    alone = [(box, digit) for box, _, digit in found if digit is not None]
    checked = iter(_read_alone(predict_proba, step_probabilities, alone) if alone else ())
    probabilities = [next(checked) if p is None else p for _, p, _ in found]
    return _digit_string(probabilities, [box for box, _, _ in found], threshold)


def _read_alone(
    predict_proba: ProbabilityFunction,
    step_probabilities: StepFunction,
    digits: list[tuple[Box, NDArray[np.float64]]],
) -> list[NDArray[np.float32]]:
    """Return the probabilities of digits written one per box: each digit's box and ink.

    The classifier reads each digit alone, and the number reader reads them
    all together; if it reads as many digits as there are, each digit's
    probabilities are the normalised product of the two readings, as for a
    number written apart (:func:`_read_freely`), else the classifier's.
    """
    own = predict_proba(np.stack([frame_digit(ink[t:b, lf:r]) for (t, lf, b, r), ink in digits]))
    together = np.maximum.reduce([ink for _, ink in digits])
    _, _, path = _read_whole(step_probabilities, together)
    if len(path) != len(digits):
        return list(own)
    return [_combined(read.probabilities, p) for read, p in zip(path, own, strict=True)]


def _combined(read: NDArray[np.float32], own: NDArray[np.float32]) -> NDArray[np.float32]:
    """Return the normalised product of two readings of a digit, or ``own`` if it is 0."""
    product = read * own
    return product / product.sum() if product.sum() > 0 else own


def _comb(boxes: list[Box], width: int) -> list[Box]:
    """Return the whole comb field that ``boxes`` were found in, across a picture ``width`` wide.

    A box about twice as wide as the median box (1.6 times or more) is two
    boxes whose shared wall was not found, and is cut into as many equal
    boxes as it is wide; boxes of the median width and pitch are added before
    the first and after the last, as long as half of each is in the picture:
    the boxes whose walls were not found.
    """
    typical = float(np.median([r - lf for _, lf, _, r in boxes]))
    cells: list[Box] = []
    for top, left, bottom, right in boxes:
        parts = max(1, round((right - left) / typical)) if right - left >= _DOUBLE * typical else 1
        edges = np.linspace(left, right, parts + 1).round().astype(int)
        cells += [(top, int(a), bottom, int(b)) for a, b in itertools.pairwise(edges)]
    lefts = [lf for _, lf, _, _ in cells]
    pitch = float(np.median(np.diff(lefts))) if len(cells) >= 2 else _LONE_PITCH * typical
    top, bottom = cells[0][0], cells[0][2]
    while cells[0][1] - pitch + typical / 2 >= 0:
        left = round(cells[0][1] - pitch)
        cells.insert(0, (top, max(0, left), bottom, left + round(typical)))
    while cells[-1][1] + pitch + typical / 2 <= width:
        left = round(cells[-1][1] + pitch)
        cells.append((top, left, bottom, min(width, left + round(typical))))
    return cells


def _boxes_missed(
    predict_proba: ProbabilityFunction,
    ink: NDArray[np.float64],
    labels: NDArray[np.int_],
    spans: Sequence[tuple[slice, slice]],
    homes: NDArray[np.int_],
    remnants: NDArray[np.bool_],
) -> bool:
    """Return whether a box holds two digits, so that walls of the field were missed.

    People write one digit per box. A box holds two if two of its blobs
    (not remnants of its walls) are as tall as digits (at least ``_TALL`` of
    the tallest blob), stand side by side (their columns overlap by less than
    half the narrower one's width), and the classifier is not sure (below
    ``_SURE``) that the box's ink is one digit, as it is of a digit written
    in two strokes.
    """
    written = [n for n, remnant in enumerate(remnants) if not remnant]
    if not written:
        return False
    heights = {n: spans[n][0].stop - spans[n][0].start for n in written}
    tall = [n for n in written if heights[n] >= _TALL * max(heights.values())]
    doubtful = set()
    for a, b in itertools.combinations(tall, 2):
        first, second = spans[a][1], spans[b][1]
        overlap = min(first.stop, second.stop) - max(first.start, second.start)
        narrower = min(first.stop - first.start, second.stop - second.start)
        if homes[a] == homes[b] and overlap < 0.5 * narrower:
            doubtful.add(int(homes[a]))
    if not doubtful:
        return False
    views = []
    for cell in doubtful:
        own = np.where(np.isin(labels, [n + 1 for n in written if homes[n] == cell]), ink, 0.0)
        box = _ink_box(own, slice(None), slice(None))
        assert box is not None  # the cell's blobs are ink
        top, left, bottom, right = box
        views.append(frame_digit(own[top:bottom, left:right]))
    return bool((predict_proba(np.stack(views)).max(axis=1) < _SURE).any())


def _inside(box: Box) -> tuple[slice, slice]:
    """Return the rows and columns of ``box`` away from its walls (``_WALL_BAND`` of its width)."""
    top, left, bottom, right = box
    band = max(2, round(_WALL_BAND * (right - left)))
    return slice(top + band, bottom - band), slice(left + band, right - band)


def read_ink(
    predict_proba: ProbabilityFunction,
    step_probabilities: StepFunction,
    ink: NDArray[np.float64],
    threshold: float,
    traces: NDArray[np.int32] | None = None,
) -> DigitString:
    """Return the number in ``ink`` (light strokes on zero), read blob by blob and whole.

    Each digit's probabilities and box come from :func:`_read_freely`;
    ``traces`` are the faint traces that join the pieces of the ink's faded
    strokes (``mnist_style.ink_and_traces``).
    """
    return _digit_string(*_read_freely(predict_proba, step_probabilities, ink, traces), threshold)


def _read_freely(
    predict_proba: ProbabilityFunction,
    step_probabilities: StepFunction,
    ink: NDArray[np.float64],
    traces: NDArray[np.int32] | None = None,
) -> tuple[list[NDArray[np.float32]], list[Box]]:
    """Return the probabilities and box of each digit of the number in ``ink``.

    The ink is split into blobs (``segmentation.split_digits``, with the
    faint ``traces`` that join the pieces of a faded stroke) and the
    number reader reads the whole number (its blobs levelled to one
    baseline first). Each blob holds as many digits as the reader read
    there, except that a blob the classifier reads confidently as one digit
    of a digit's shape holds one (``_single_digits``), and a short blob the
    reader read nothing in is part of the digit nearest it. A digit that is a blob
    of its own is read by the classifier too, and its probabilities become
    the normalised product of the two readings'; digits that touch keep the
    reader's probabilities. Ink in which the reader reads no digit is one
    unread ``"?"``; no ink at all is an empty number.
    """
    if not ink.any():
        return [], []
    pieces, frame, path = _read_whole(step_probabilities, ink, traces)
    whole = slice(0, ink.shape[0])
    if not path:  # ink, but not a number: say so rather than guess
        box = _ink_box(ink, whole, slice(0, ink.shape[1]))
        assert box is not None  # frame_number found ink
        return [np.zeros(NUM_CLASSES, dtype=np.float32)], [box]
    columns = [frame.picture_columns(d.first * STEP_WIDTH, d.stop * STEP_WIDTH) for d in path]
    centres = [(first + last) / 2 for first, last in columns]
    heights = [rows.stop - rows.start for rows, _, _ in pieces]
    tallest = max(heights)
    found: list[tuple[NDArray[np.float32] | None, Box, list[DigitPiece]]] = []
    strays: list[DigitPiece] = []  # short blobs with nothing read in them
    inside = _digits_in(ink, pieces, columns, centres)
    single = _single_digits(predict_proba, ink, pieces, inside, [d.probabilities for d in path])
    for k, piece in enumerate(pieces):
        cols = piece[1]
        tall = heights[k] >= _TALL * tallest
        if len(inside[k]) >= 2 and k not in single:
            for i in inside[k]:  # digits that touch: where the reader read them
                first, last = max(columns[i][0], cols.start), min(columns[i][1], cols.stop)
                box = _ink_box(ink, whole, slice(first, last))
                found.append((path[i].probabilities, box or (0, first, ink.shape[0], last), []))
        elif inside[k] or tall:
            read = path[inside[k][0]].probabilities if len(inside[k]) == 1 else None
            found.append((read, _box([piece]), [piece]))
        else:
            strays.append(piece)
    for piece in strays:
        alone = [i for i, (_, _, group) in enumerate(found) if group]
        if alone:
            nearest = min(alone, key=lambda i: abs(_centre(found[i][2]) - _centre([piece])))
            read, _, group = found[nearest]
            found[nearest] = (read, _box([*group, piece]), [*group, piece])
    found.sort(key=lambda f: (f[1][1] + f[1][3]) / 2)
    alone = [i for i, (_, _, group) in enumerate(found) if group]
    checked = iter(
        predict_proba(np.stack([frame_digit(_ink_of(ink, found[i][2])) for i in alone]))
        if alone
        else ()
    )
    probabilities = []
    for read, _, group in found:
        own = next(checked) if group else None
        if own is None:
            assert read is not None
            probabilities.append(read)
        elif read is None:
            probabilities.append(own)
        else:
            probabilities.append(_combined(read, own))
    return probabilities, [box for _, box, _ in found]


def _read_whole(
    step_probabilities: StepFunction,
    ink: NDArray[np.float64],
    traces: NDArray[np.int32] | None = None,
) -> tuple[list[DigitPiece], NumberFrame, list[ReadDigit]]:
    """Return the blobs of ``ink``, its strip, and the digits the number reader reads in it.

    The blobs are levelled to one baseline first (:func:`_levelled`).
    """
    pieces = split_digits(ink, traces)
    frame = frame_number(_levelled(ink, pieces))
    return pieces, frame, best_path(step_probabilities(frame))


def _digits_in(
    ink: NDArray[np.float64],
    pieces: list[DigitPiece],
    columns: list[tuple[int, int]],
    centres: list[float],
) -> list[list[int]]:
    """Return, for each blob of ``pieces``, the reader's digits that lie in it.

    A digit lies in the blob whose columns hold its centre, or if none does
    (a blob's last strokes, read a little beyond them), in a blob its
    ``columns`` reach into; where there are two, in the one with more ink
    in the digit's columns, so that no digit is read twice.
    """
    inside: list[list[int]] = [[] for _ in pieces]
    for i, centre in enumerate(centres):
        first, last = columns[i]
        holding = [k for k, (_, cols, _) in enumerate(pieces) if cols.start <= centre < cols.stop]
        if not holding:
            holding = [
                k
                for k, (_, cols, _) in enumerate(pieces)
                if cols.start < last and first < cols.stop
            ]
        if holding:
            there = [
                np.where(mask, ink[rows, cols], 0.0)[
                    :, max(0, first - cols.start) : max(0, last - cols.start)
                ].sum()
                for rows, cols, mask in (pieces[k] for k in holding)
            ]
            inside[holding[int(np.argmax(there))]].append(i)
    return inside


def _single_digits(
    predict_proba: ProbabilityFunction,
    ink: NDArray[np.float64],
    pieces: list[DigitPiece],
    inside: list[list[int]],
    read: list[NDArray[np.float32]],
) -> set[int]:
    """Return the blobs that hold one digit although the reader read several in them.

    In a number written apart (the reader read one digit in 75% of its blobs
    or more), such a blob is nearly as tall as the tallest, not wider than
    tall or than 1.5 times the median digit, and the classifier reads it
    whole as one digit with a probability of 0.95 or more, its doubt (1 - the
    probability) a tenth or less of the reader's that its digits there are
    what it read (1 - the product of their probabilities): a wide 0 or an
    open 4 that the reader took for two digits, but not two digits that
    touch and that the reader reads surely.

    Parameters
    ----------
    inside : list of list of int
        For each blob of ``pieces``, the reader's digits that lie in it.
    read : list of numpy.ndarray
        The reader's probabilities of each of its digits.
    """
    heights = [rows.stop - rows.start for rows, _, _ in pieces]
    widths = [cols.stop - cols.start for _, cols, _ in pieces]
    alone = [w for w, i in zip(widths, inside, strict=True) if len(i) == 1]
    if len(alone) < _APART * len(pieces):  # not written apart: blobs of two digits are the rule
        return set()
    limit = _WIDE * float(np.median(alone))
    doubtful = [
        k
        for k in range(len(pieces))
        if len(inside[k]) >= 2
        and heights[k] >= _TALL * max(heights)
        and widths[k] <= max(limit, heights[k])
    ]
    if not doubtful:
        return set()
    sure = predict_proba(np.stack([frame_digit(_ink_of(ink, [pieces[k]])) for k in doubtful]))
    doubts = [1.0 - float(np.prod([read[i].max() for i in inside[k]])) for k in doubtful]
    return {
        k
        for k, p, doubt in zip(doubtful, sure.max(axis=1), doubts, strict=True)
        if p >= _SURE and _SURER * (1.0 - p) <= doubt
    }


def _levelled(ink: NDArray[np.float64], pieces: list[DigitPiece]) -> NDArray[np.float64]:
    """Return ``ink`` with each blob moved up or down to the blobs' median middle row.

    Digits written apart may dance above and below the line; the number
    reader learnt numbers on a steadier baseline. Blobs of touching digits
    move together, and specks that ``split_digits`` dropped are left out.
    """
    if len(pieces) < 2:
        return ink
    middles = [(rows.start + rows.stop) / 2 for rows, _, _ in pieces]
    target = float(np.median(middles))
    shifts = [round(target - middle) for middle in middles]
    margin = max(abs(shift) for shift in shifts)
    level = np.zeros((ink.shape[0] + 2 * margin, ink.shape[1]))
    for (rows, cols, mask), shift in zip(pieces, shifts, strict=True):
        top = rows.start + margin + shift
        window = level[top : top + mask.shape[0], cols]
        np.maximum(window, np.where(mask, ink[rows, cols], 0.0), out=window)
    return level


def _centre(pieces: list[DigitPiece]) -> float:
    return float(sum((cols.start + cols.stop) / 2 for _, cols, _ in pieces) / len(pieces))


def _box(pieces: list[DigitPiece]) -> Box:
    return (
        min(rows.start for rows, _, _ in pieces),
        min(cols.start for _, cols, _ in pieces),
        max(rows.stop for rows, _, _ in pieces),
        max(cols.stop for _, cols, _ in pieces),
    )


def _ink_of(ink: NDArray[np.float64], pieces: list[DigitPiece]) -> NDArray[np.float64]:
    """Return the ink of ``pieces`` alone, cropped to their box."""
    top, left, bottom, right = _box(pieces)
    digit = np.zeros((bottom - top, right - left))
    for rows, cols, mask in pieces:
        window = digit[rows.start - top : rows.stop - top, cols.start - left : cols.stop - left]
        np.maximum(window, np.where(mask, ink[rows, cols], 0.0), out=window)
    return digit
