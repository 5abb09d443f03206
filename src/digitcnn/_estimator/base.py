"""The base of digitcnn's classifiers: every method that follows from one batch forward pass.

A classifier says whether it has a model (``__sklearn_is_fitted__``, the
scikit-learn protocol) and how to predict one batch (``_batch_forward``).
:class:`BaseDigitClassifier` derives the rest from these two: prediction in
batches of ``PREDICT_BATCH_SIZE`` (1,024) images, so that
memory does not grow with the input beyond the ``(n, 10)`` result, and the
reading of real pictures.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Literal, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from digitcnn._constants import NUM_CLASSES, PREDICT_BATCH_SIZE
from digitcnn._estimator.number_reading import read_number
from digitcnn._estimator.readings import DigitString, ImageReading, read_pictures
from digitcnn._exceptions import NotFittedError
from digitcnn._types import ImageInput
from digitcnn._validation import check_scalar, preprocess_batches, preprocess_labels

if TYPE_CHECKING:
    from digitcnn._estimator.number_reader import NumberReader

__all__ = ["BaseDigitClassifier", "BatchForward"]

BatchForward = Callable[[NDArray[np.float32]], ArrayLike]
"""Maps a float32 batch ``(b, 28, 28, 1)`` to its probabilities ``(b, 10)``."""

_LOG_EPSILON = 1e-7  # Keras's clipping of probabilities in cross-entropy


def _confidence_threshold(min_confidence: object) -> float:
    threshold = check_scalar(
        min_confidence, "min_confidence", float, min_val=0.0, max_val=1.0, allow_none=True
    )
    return 0.0 if threshold is None else threshold


class BaseDigitClassifier(abc.ABC):
    """Derive prediction, evaluation and picture reading from one batch forward pass.

    Subclasses implement ``__sklearn_is_fitted__`` and ``_batch_forward``, and
    set ``classes_``.
    """

    classes_: NDArray[np.int64]

    @abc.abstractmethod
    def __sklearn_is_fitted__(self) -> bool:
        """Return whether there is a model to predict with (scikit-learn's protocol)."""

    @abc.abstractmethod
    def _batch_forward(self) -> BatchForward:
        """Return the function that predicts one batch; called only when fitted."""

    def _check_fitted(self) -> None:
        """Raise :class:`~digitcnn.NotFittedError` unless there is a model."""
        if not self.__sklearn_is_fitted__():
            name = type(self).__name__
            raise NotFittedError(
                f"this {name} is not fitted yet: call fit(x, y) first, or {name}.load(path)"
            )

    def _probabilities(self, n: int, batches: Iterator[NDArray[np.float32]]) -> NDArray[np.float32]:
        """Return the ``(n, 10)`` probabilities of checked batches, one forward pass each."""
        forward = self._batch_forward()
        proba = np.empty((n, NUM_CLASSES), dtype=np.float32)
        for start, batch in zip(range(0, n, PREDICT_BATCH_SIZE), batches, strict=True):
            proba[start : start + len(batch)] = np.asarray(forward(batch))
        return proba

    def _readings(
        self, images: Iterable[ImageInput], min_confidence: float | None, *, strict: bool
    ) -> Iterator[ImageReading]:
        self._check_fitted()  # no model: fail before reading any file
        threshold = _confidence_threshold(min_confidence)
        return read_pictures(self.predict_proba, images, threshold, strict=strict)

    def predict_proba(self, x: ArrayLike) -> NDArray[np.float32]:
        """Return the probability of each digit for each image.

        Parameters
        ----------
        x : array_like
            Images, in any layout that :func:`~digitcnn.preprocess_images`
            accepts; a :class:`numpy.memmap` is read a batch at a time.

        Returns
        -------
        numpy.ndarray of float32
            Shape ``(n, 10)``; row ``i`` holds the probabilities of the digits
            0-9 for image ``i`` and sums to 1.

        Raises
        ------
        NotFittedError
            If there is no trained model yet.
        TypeError, ValueError
            If the images are invalid.
        """
        self._check_fitted()
        return self._probabilities(*preprocess_batches(x, PREDICT_BATCH_SIZE))

    def predict(self, x: ArrayLike) -> NDArray[np.int64]:
        """Return the most probable digit for each image.

        Parameters
        ----------
        x : array_like
            Images, in any layout that :func:`~digitcnn.preprocess_images` accepts.

        Returns
        -------
        numpy.ndarray of int64
            Shape ``(n,)``, values 0-9.
        """
        labels: NDArray[np.int64] = self.predict_proba(x).argmax(axis=1).astype(np.int64)
        return labels

    def evaluate(self, x: ArrayLike, y: ArrayLike) -> dict[str, float]:
        """Return the cross-entropy loss and the accuracy on labelled images.

        Parameters
        ----------
        x : array_like
            Images, in any layout that :func:`~digitcnn.preprocess_images` accepts.
        y : array_like
            Their digit labels 0-9, shape ``(n,)``.

        Returns
        -------
        dict of str to float
            ``{"loss": ..., "accuracy": ...}``.

        Raises
        ------
        NotFittedError
            If there is no trained model yet.
        TypeError, ValueError
            If the images or labels are invalid; checked before any prediction.
        """
        self._check_fitted()
        n, batches = preprocess_batches(x, PREDICT_BATCH_SIZE)
        labels = preprocess_labels(y, n_images=n)  # before the work of predicting
        proba = self._probabilities(n, batches)
        chosen = np.clip(proba[np.arange(len(labels)), labels], _LOG_EPSILON, 1.0)
        return {
            "loss": float(-np.log(chosen).mean()),
            "accuracy": float((proba.argmax(axis=1) == labels).mean()),
        }

    def score(self, x: ArrayLike, y: ArrayLike) -> float:
        """Return the accuracy on labelled images, as scikit-learn classifiers do.

        Parameters
        ----------
        x : array_like
            Images, in any layout that :func:`~digitcnn.preprocess_images` accepts.
        y : array_like
            Their digit labels 0-9, shape ``(n,)``.

        Returns
        -------
        float
            The fraction of images whose digit is predicted correctly.
        """
        return self.evaluate(x, y)["accuracy"]

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
        images : iterable of str, os.PathLike, bytes, PIL.Image.Image or numpy.ndarray
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
        return list(self._readings(images, min_confidence, strict=strict))

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
        images : iterable of str, os.PathLike, bytes, PIL.Image.Image or numpy.ndarray
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
        for reading in self._readings(images, min_confidence, strict=strict):
            labels.append(reading.label)
            if return_proba:
                found = reading.probabilities
                rows.append(nothing if found is None else found)
        label_array = np.array(labels, dtype=np.int64)
        if not return_proba:
            return label_array
        return label_array, np.array(rows, dtype=np.float32).reshape(-1, NUM_CLASSES)

    def read_digits(
        self,
        image: ImageInput,
        *,
        min_confidence: float | None = None,
        reader: NumberReader | None = None,
    ) -> DigitString:
        """Read a written number, such as a house number or "2048", from one picture.

        The lines of the paper (notebook rules, a margin line, squared
        paper, the walls of a form's boxes) are removed, keeping the strokes
        that cross them. Digits written one per box of a form (a comb
        field) are read one per box by this classifier. Any other number is
        read whole by a :class:`~digitcnn.NumberReader`, which needs no
        gaps between the digits: touching and overlapping digits are read
        too. In a number written apart, a blob of ink that the number
        reader reads as several digits but this classifier reads confidently
        as one, and that has a digit's shape, is one digit. Each digit that
        stands apart in a blob of its own is also read by this classifier,
        and the two readings are combined. A picture whose shorter side is
        over 160 pixels is read shrunk to that (the boxes are given in the
        picture's own pixels).

        Parameters
        ----------
        image : str, os.PathLike, bytes, PIL.Image.Image or numpy.ndarray
            A picture of the number.
        min_confidence : float, optional
            Digits below this probability are reported as ``"?"`` and
            :data:`UNREAD`.
        reader : NumberReader, optional
            The number reader; by default the pretrained one
            (:meth:`NumberReader.pretrained`), loaded once per process.

        Returns
        -------
        DigitString
            The text, and each digit's label, confidence and bounding box.
            A picture without ink gives an empty text; ink in which no digit
            can be found gives one ``"?"``.

        Raises
        ------
        FileNotFoundError, TypeError, ValueError
            If the image cannot be read, ``min_confidence`` is invalid or the
            ink is too long for its height to be one number.
        NotFittedError
            If this classifier or ``reader`` is not fitted.
        """
        self._check_fitted()
        threshold = _confidence_threshold(min_confidence)
        if reader is None:
            from digitcnn._estimator.number_reader import pretrained_reader  # loads Keras

            reader = pretrained_reader()
        reader._check_fitted()
        return read_number(self.predict_proba, reader.step_probabilities, image, threshold)
