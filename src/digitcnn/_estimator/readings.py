"""What was read from pictures, and the loop that reads single digits with a classifier."""

from __future__ import annotations

import dataclasses
import itertools
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from digitcnn._constants import PREDICT_BATCH_SIZE
from digitcnn._exceptions import EmptyImageError
from digitcnn._types import ImageInput
from digitcnn._vision.mnist_style import to_mnist

__all__ = [
    "UNREAD",
    "DigitString",
    "ImageReading",
    "ProbabilityFunction",
    "Status",
    "classified",
    "read_pictures",
]

UNREAD = -1
"""The label given to an image that has no answer: unreadable, empty or unsure."""

Status = Literal["ok", "unsure", "empty", "error"]
"""The outcome of reading one picture."""

ProbabilityFunction = Callable[[ArrayLike], NDArray[np.float32]]
"""A classifier's ``predict_proba``: 28x28 images to their ``(n, 10)`` probabilities."""


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
            yield classified(_source(item, index), next(probabilities), threshold)


def classified(source: str, probabilities: NDArray[np.float32], threshold: float) -> ImageReading:
    """Return the reading of a picture the classifier gave ``probabilities``.

    The answer is the most likely digit, or "unsure" (label :data:`UNREAD`)
    if its probability is below ``threshold``.
    """
    label, confidence = int(probabilities.argmax()), float(probabilities.max())
    status: Status = "ok" if confidence >= threshold else "unsure"
    return ImageReading(
        source, status, label if status == "ok" else UNREAD, confidence, probabilities
    )
