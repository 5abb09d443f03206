"""Reading digits from real pictures: one digit per image, or a written number."""

from __future__ import annotations

import dataclasses
import itertools
import os
from collections.abc import Iterable, Iterator
from typing import Literal, overload

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from digitcnn._base import PREDICT_BATCH_SIZE, ClassifierMixin
from digitcnn._constants import NUM_CLASSES
from digitcnn._exceptions import EmptyImageError
from digitcnn._images import ImageInput, read_grey
from digitcnn._normalize import frame_digit, ink_map, to_mnist

__all__ = ["UNREAD", "DigitString", "ImageReading", "ImageReadingMixin"]

UNREAD = -1
"""The label given to an image that has no answer: unreadable, empty or unsure."""

Status = Literal["ok", "unsure", "empty", "error"]

_OVERLAP = 0.5  # blobs whose columns overlap this much (of the narrower) are one digit
_MIN_HEIGHT = 0.25  # groups shorter than this fraction of the tallest are specks


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
    """A number read from one image by :meth:`ImageReadingMixin.read_digits`.

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


def _check_confidence(min_confidence: float | None) -> float:
    if min_confidence is None:
        return 0.0
    if isinstance(min_confidence, bool) or not isinstance(min_confidence, (int, float)):
        raise TypeError(f"min_confidence must be a float in [0, 1]; got {min_confidence!r}")
    if not 0.0 <= min_confidence <= 1.0:
        raise ValueError(f"min_confidence must be in [0, 1]; got {min_confidence}")
    return float(min_confidence)


def _digit_groups(ink: NDArray[np.float64]) -> list[tuple[slice, slice, NDArray[np.bool_]]]:
    """Split ``ink`` into digits: connected blobs, merged where their columns overlap.

    Returns each digit's bounding slices and its mask within them, left to right.
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


class ImageReadingMixin(ClassifierMixin):
    """Read digits from real pictures with a classifier's ``predict_proba``.

    Pictures of any size, colour and polarity are first normalised the way
    MNIST was made (:func:`~digitcnn.to_mnist`).
    """

    def read_images(
        self,
        images: Iterable[ImageInput],
        *,
        min_confidence: float | None = None,
        strict: bool = False,
    ) -> list[ImageReading]:
        """Read one digit from each picture, reporting each picture's outcome.

        Parameters
        ----------
        images : iterable of str, os.PathLike, PIL.Image.Image or numpy.ndarray
            Image files, Pillow images or arrays of any size and mode (see
            :func:`~digitcnn.to_mnist`).
        min_confidence : float, optional
            Answers whose probability is below this threshold get the status
            ``"unsure"`` and the label :data:`UNREAD` instead of a guess.
        strict : bool, default False
            If True, the first image that cannot be read raises its error;
            by default it is reported with the status ``"error"`` and the
            other images are still read.

        Returns
        -------
        list of ImageReading
            One per image, in order.

        Raises
        ------
        TypeError, ValueError
            If ``min_confidence`` is invalid; with ``strict=True``, if an
            image cannot be read.
        FileNotFoundError
            With ``strict=True``, if a file does not exist.
        """
        return list(self._iter_readings(images, min_confidence, strict=strict))

    def _iter_readings(
        self, images: Iterable[ImageInput], min_confidence: float | None, *, strict: bool
    ) -> Iterator[ImageReading]:
        """Yield the reading of each picture, normalising and predicting a batch at a time."""
        self._batch_predictor()  # no model: fail before reading any file
        threshold = _check_confidence(min_confidence)
        numbered = enumerate(images)
        while batch := list(itertools.islice(numbered, PREDICT_BATCH_SIZE)):
            frames: list[NDArray[np.float32]] = []
            readings: list[ImageReading | None] = []
            for index, item in batch:
                try:
                    frames.append(to_mnist(item))
                    readings.append(None)
                except EmptyImageError:
                    readings.append(
                        ImageReading(_source(item, index), "empty", UNREAD, float("nan"))
                    )
                except (OSError, ValueError, TypeError) as error:
                    if strict:
                        raise
                    readings.append(
                        ImageReading(
                            _source(item, index), "error", UNREAD, float("nan"), error=str(error)
                        )
                    )
            probabilities: Iterator[NDArray[np.float32]] = iter(
                self.predict_proba(np.stack(frames)) if frames else ()
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

    @overload
    def predict_images(
        self,
        images: Iterable[ImageInput],
        *,
        return_proba: Literal[False] = ...,
        min_confidence: float | None = ...,
        strict: bool = ...,
    ) -> NDArray[np.int64]: ...

    @overload
    def predict_images(
        self,
        images: Iterable[ImageInput],
        *,
        return_proba: Literal[True],
        min_confidence: float | None = ...,
        strict: bool = ...,
    ) -> tuple[NDArray[np.int64], NDArray[np.float32]]: ...

    def predict_images(
        self,
        images: Iterable[ImageInput],
        *,
        return_proba: bool = False,
        min_confidence: float | None = None,
        strict: bool = False,
    ) -> NDArray[np.int64] | tuple[NDArray[np.int64], NDArray[np.float32]]:
        """Return the digit in each picture: photos, scans, drawings of any size.

        Parameters
        ----------
        images : iterable of str, os.PathLike, PIL.Image.Image or numpy.ndarray
            Image files, Pillow images or arrays of any size and mode (see
            :func:`~digitcnn.to_mnist`).
        return_proba : bool, default False
            Also return the probabilities.
        min_confidence : float, optional
            Images whose most likely digit has a lower probability get the
            label :data:`UNREAD` (-1) instead of a guess.
        strict : bool, default False
            If True, the first image that cannot be read raises its error;
            by default it gets the label :data:`UNREAD` and the others are
            still read. :meth:`read_images` tells which images were empty,
            unsure or unreadable, and why.

        Returns
        -------
        labels : numpy.ndarray of int64
            Shape ``(n,)``: the digits, :data:`UNREAD` (-1) where there is no answer.
        probabilities : numpy.ndarray of float32
            Shape ``(n, 10)``, only with ``return_proba=True``; rows of NaN
            for images that are empty or could not be read.

        Raises
        ------
        TypeError, ValueError
            If ``min_confidence`` is invalid; with ``strict=True``, if an
            image cannot be read.
        FileNotFoundError
            With ``strict=True``, if a file does not exist.
        """
        labels: list[int] = []
        rows: list[NDArray[np.float32]] = []
        nothing = np.full(NUM_CLASSES, np.nan, dtype=np.float32)
        for reading in self._iter_readings(images, min_confidence, strict=strict):
            labels.append(reading.label)
            if return_proba:
                found = reading.probabilities
                rows.append(nothing if found is None else found)
        label_array = np.array(labels, dtype=np.int64)
        if not return_proba:
            return label_array
        return label_array, np.array(rows, dtype=np.float32).reshape(-1, NUM_CLASSES)

    def read_digits(self, image: ImageInput, *, min_confidence: float | None = None) -> DigitString:
        """Read a written number, such as a house number or "2048", from one picture.

        The ink is found as for a single digit (:func:`~digitcnn.to_mnist`),
        split into connected blobs, blobs that share their columns are merged
        into one digit (a broken stroke, the bar of a 5), specks are dropped,
        and the digits are read left to right. Digits that touch each other
        are read as one.

        Parameters
        ----------
        image : str, os.PathLike, PIL.Image.Image or numpy.ndarray
            A picture of the number.
        min_confidence : float, optional
            Digits below this probability are reported as ``"?"`` and
            :data:`UNREAD`.

        Returns
        -------
        DigitString
            The text, and each digit's label, confidence and bounding box.

        Raises
        ------
        FileNotFoundError, TypeError, ValueError
            If the image cannot be read or ``min_confidence`` is invalid.
        """
        self._batch_predictor()
        threshold = _check_confidence(min_confidence)
        try:
            ink = ink_map(read_grey(image))
        except EmptyImageError:
            return DigitString("", (), (), ())
        groups = _digit_groups(ink)
        frames = np.stack(
            [frame_digit(np.where(mask, ink[rows, cols], 0.0)) for rows, cols, mask in groups]
        )
        proba = self.predict_proba(frames)
        confidences = tuple(float(p) for p in proba.max(axis=1))
        digits = tuple(
            int(label) if confidence >= threshold else UNREAD
            for label, confidence in zip(proba.argmax(axis=1), confidences, strict=True)
        )
        return DigitString(
            text="".join("?" if d == UNREAD else str(d) for d in digits),
            digits=digits,
            confidences=confidences,
            boxes=tuple(
                (int(r.start), int(c.start), int(r.stop), int(c.stop)) for r, c, _ in groups
            ),
        )
