"""What was read from pictures, and the loops that read it with a classifier's probabilities."""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from PIL import Image

from digitcnn._constants import NUM_CLASSES, PREDICT_BATCH_SIZE
from digitcnn._estimator.decoding import best_path
from digitcnn._exceptions import EmptyImageError
from digitcnn._types import ImageInput
from digitcnn._vision.greyscale import read_pixels
from digitcnn._vision.mnist_style import frame_digit, ink_map, to_mnist
from digitcnn._vision.number_frame import STEP_WIDTH, NumberFrame, frame_number
from digitcnn._vision.paper_lines import Box, clean_paper
from digitcnn._vision.segmentation import DigitPiece, split_digits

__all__ = [
    "UNREAD",
    "DigitString",
    "ImageReading",
    "Status",
    "read_ink",
    "read_number",
    "read_pictures",
]

_TOUCHING = 0.15  # a blob whose ink lies at least this much on both sides of a cut spans two digits
_WORKING_SIDE = 160  # larger pictures are read with their shorter side shrunk to this
_NARROW = 1.0  # a blob wider than tall may be digits that touch
_TALL = 0.6  # blobs at least this fraction of the number's tallest can be digits of their own

UNREAD = -1
"""The label given to an image that has no answer: unreadable, empty or unsure."""

Status = Literal["ok", "unsure", "empty", "error"]
"""The outcome of reading one picture."""

ProbabilityFunction = Callable[[ArrayLike], NDArray[np.float32]]
"""A classifier's ``predict_proba``: 28x28 images to their ``(n, 10)`` probabilities."""

StepFunction = Callable[[NumberFrame], NDArray[np.float32]]
"""A number reader's ``step_probabilities``: a strip to its ``(steps, 11)`` probabilities."""


@dataclasses.dataclass(frozen=True)
class ImageReading:
    """What was read from one image.

    Attributes
    ----------
    source : str
        The file path, or ``"item <i>"`` for an image passed in memory.
    status : {"ok", "unsure", "empty", "error"}
        ``"ok"``: a confident answer; ``"unsure"``: the best guess is below
        the confidence threshold; ``"empty"``: the image has no ink;
        ``"error"``: the image could not be read (see :attr:`error`).
    label : int
        The digit, or :data:`UNREAD` (-1) unless the status is ``"ok"``.
    confidence : float
        The probability of the most likely digit; NaN when nothing was classified.
    probabilities : numpy.ndarray of float32 or None
        The ten digit probabilities; ``None`` when nothing was classified.
    error : str or None
        Why the image could not be read, for the status ``"error"``.
    """

    source: str
    status: Status
    label: int
    confidence: float
    probabilities: NDArray[np.float32] | None = None
    error: str | None = None


@dataclasses.dataclass(frozen=True)
class DigitString:
    """A number read from one image by :meth:`~digitcnn.DigitClassifier.read_digits`.

    Attributes
    ----------
    text : str
        The digits left to right; ``"?"`` stands for a digit below the
        confidence threshold. Empty when the image has no ink.
    digits : tuple of int
        Each digit's label, :data:`UNREAD` (-1) for the unsure ones.
    confidences : tuple of float
        The probability of each digit's most likely label.
    boxes : tuple of tuple of int
        Each digit's bounding box in the image, ``(top, left, bottom, right)``
        with the bottom and right edges exclusive.
    """

    text: str
    digits: tuple[int, ...]
    confidences: tuple[float, ...]
    boxes: tuple[tuple[int, int, int, int], ...]


def _source(item: object, index: int) -> str:
    return os.fspath(item) if isinstance(item, (str, os.PathLike)) else f"item {index}"


def read_pictures(
    predict_proba: ProbabilityFunction,
    images: Iterable[ImageInput],
    threshold: float,
    *,
    strict: bool,
) -> Iterator[ImageReading]:
    """Yield the reading of each picture, normalising and predicting a batch at a time.

    Parameters
    ----------
    predict_proba : callable
        The classifier's probabilities of 28x28 images.
    images : iterable of pictures
        As :meth:`DigitClassifier.read_images` takes them.
    threshold : float
        Answers below this probability are ``"unsure"``.
    strict : bool
        Raise the first picture's error instead of reporting it.
    """
    numbered = enumerate(images)
    while batch := list(itertools.islice(numbered, PREDICT_BATCH_SIZE)):
        frames: list[NDArray[np.float32]] = []
        readings: list[ImageReading | None] = []
        for index, item in batch:
            try:
                frames.append(to_mnist(item))
                readings.append(None)
            except EmptyImageError:
                readings.append(ImageReading(_source(item, index), "empty", UNREAD, float("nan")))
            except (OSError, ValueError, TypeError) as error:
                if strict:
                    raise
                readings.append(
                    ImageReading(
                        _source(item, index), "error", UNREAD, float("nan"), error=str(error)
                    )
                )
        probabilities: Iterator[NDArray[np.float32]] = iter(
            predict_proba(np.stack(frames)) if frames else ()
        )
        for (index, item), reading in zip(batch, readings, strict=True):
            if reading is not None:
                yield reading
                continue
            proba = next(probabilities)
            label, confidence = int(proba.argmax()), float(proba.max())
            status: Status = "ok" if confidence >= threshold else "unsure"
            yield ImageReading(
                _source(item, index),
                status,
                label if status == "ok" else UNREAD,
                confidence,
                proba,
            )


def read_number(
    predict_proba: ProbabilityFunction,
    step_probabilities: StepFunction,
    image: ImageInput,
    threshold: float,
) -> DigitString:
    """Return the number written in ``image``.

    The paper's lines are removed first (``paper_lines.clean_paper``). Digits
    written one per box of a form's comb field are read one per box by the
    classifier. Other numbers are read whole by the number reader; each
    digit it reads that stands apart as a blob of its own is read by the
    classifier too, and the two readings are combined.

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
        ink = ink_map(strokes)
    except EmptyImageError:
        return _digit_string([], [], threshold)
    if boxes:
        found = _read_boxes(predict_proba, ink, boxes, threshold)
    else:
        found = read_ink(predict_proba, step_probabilities, ink, threshold)
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
    predict_proba: ProbabilityFunction, ink: NDArray[np.float64], boxes: list[Box], threshold: float
) -> DigitString:
    """Read one digit per box of a comb field; the boxes without ink are skipped."""
    found = []
    for _, left, _, right in boxes:
        box = _ink_box(ink, slice(0, ink.shape[0]), slice(left, right))
        if box is not None:
            found.append(box)
    if not found:
        return _digit_string([], [], threshold)
    frames = np.stack([frame_digit(ink[t:b, lf:r]) for t, lf, b, r in found])
    return _digit_string(list(predict_proba(frames)), found, threshold)


def read_ink(
    predict_proba: ProbabilityFunction,
    step_probabilities: StepFunction,
    ink: NDArray[np.float64],
    threshold: float,
) -> DigitString:
    """Return the number in ``ink`` (light strokes on zero), read whole and checked digit by digit.

    The number reader reads the whole number (its blobs levelled to one
    baseline first), and each digit it reads has
    its share of the columns (up to halfway to its neighbours' centres).
    The blobs of ink (``segmentation.split_digits``) go to the digit whose
    share holds their centre of mass; a digit whose blobs all lie within
    its share (a digit apart, or one broken into pieces) is also read by the
    classifier, and its probabilities become the normalised product of the
    two readings'. Digits that touch keep the number reader's
    probabilities. Ink in which the reader finds no digit is one unread
    ``"?"``; no ink at all is an empty number.
    """
    if not ink.any():
        return _digit_string([], [], threshold)
    pieces = split_digits(ink)
    frame = frame_number(_levelled(ink, pieces))
    path = best_path(step_probabilities(frame))
    whole = slice(0, ink.shape[0])
    if not path:
        box = _ink_box(ink, whole, slice(0, ink.shape[1]))
        assert box is not None  # frame_number found ink
        return _digit_string([np.zeros(NUM_CLASSES, dtype=np.float32)], [box], threshold)
    columns = [frame.picture_columns(d.first * STEP_WIDTH, d.stop * STEP_WIDTH) for d in path]
    centres = [(first + last) / 2 for first, last in columns]
    cuts = [(a + b) / 2 for a, b in itertools.pairwise(centres)]
    shares: list[list[DigitPiece]] = [[] for _ in path]
    shared = [False] * len(path)  # the digit touches a neighbour: one blob spans both
    for piece in pieces:
        rows, cols, mask = piece
        mass = np.where(mask, ink[rows, cols], 0.0).sum(axis=0)
        before = np.cumsum(mass) / mass.sum()  # the blob's ink left of each of its columns
        owner = bisect.bisect(cuts, cols.start + float(np.argmax(before >= 0.5)))
        crossed = [
            i
            for i, cut in enumerate(cuts)
            if cols.start < cut < cols.stop
            and _TOUCHING <= before[int(cut) - cols.start] <= 1 - _TOUCHING
        ]
        for i in crossed:
            shared[i] = shared[i + 1] = True
        shares[owner].append(piece)
    tallest = max((rows.stop - rows.start for rows, _, _ in pieces), default=0)
    found: list[tuple[NDArray[np.float32] | None, Box, list[DigitPiece]]] = []
    if _one_digit_each(pieces, tallest):  # every blob is one whole digit: the blobs say how many
        for piece in pieces:
            cols = piece[1]
            inside = [
                d
                for d, centre in zip(path, centres, strict=True)
                if cols.start <= centre < cols.stop
            ]
            read = inside[0].probabilities if len(inside) == 1 else None
            found.append((read, _box([piece]), [piece]))
        path, columns, shares, shared, centres = [], [], [], [], []
    for digit, (first, last), share, touches, centre in zip(
        path, columns, shares, shared, centres, strict=True
    ):
        if touches or not share:
            box = _ink_box(ink, whole, slice(first, last))
            found.append((digit.probabilities, box or (0, first, ink.shape[0], last), []))
            continue
        groups = _digits_in(share, tallest)
        nearest = min(range(len(groups)), key=lambda g: abs(_centre(groups[g]) - centre))
        for g, group in enumerate(groups):
            found.append((digit.probabilities if g == nearest else None, _box(group), group))
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
            product = read * own
            probabilities.append(product / product.sum() if product.sum() > 0 else own)
    return _digit_string(probabilities, [box for _, box, _ in found], threshold)


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


def _one_digit_each(pieces: list[DigitPiece], tallest: int) -> bool:
    """Return whether each blob looks like one whole digit: nearly the tallest, not wide."""
    return len(pieces) >= 2 and all(
        rows.stop - rows.start >= _TALL * tallest
        and cols.stop - cols.start <= _NARROW * (rows.stop - rows.start)
        for rows, cols, _ in pieces
    )


def _digits_in(pieces: list[DigitPiece], tallest: int) -> list[list[DigitPiece]]:
    """Return the blobs in one digit's share grouped into digits: one, or one per tall blob.

    Two or more blobs nearly as tall as the tallest of the number, side by
    side, are two digits the number reader ran together (often a faint or
    narrow one it missed); shorter blobs join the nearest tall one.
    """
    tall = [p for p in pieces if p[0].stop - p[0].start >= _TALL * tallest]
    if len(tall) < 2:
        return [pieces]
    groups: list[list[DigitPiece]] = [[p] for p in tall]
    for piece in pieces:
        if all(piece is not p for p in tall):
            nearest = min(groups, key=lambda g: abs(_centre(g) - _centre([piece])))
            nearest.append(piece)
    return sorted(groups, key=_centre)


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
