"""Counting a classifier's right and wrong answers."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from digitcnn._constants import NUM_CLASSES
from digitcnn._validation import preprocess_labels

__all__ = ["confusion_matrix", "precision_recall"]


def confusion_matrix(y_true: ArrayLike, y_pred: ArrayLike) -> NDArray[np.int64]:
    """Count the images of each true digit (rows) by predicted digit (columns).

    Parameters
    ----------
    y_true, y_pred : array_like of int
        True and predicted labels, 0 to 9, of the same length.

    Returns
    -------
    numpy.ndarray of int64, shape (10, 10)
        ``matrix[t, p]`` is the number of images of digit ``t`` predicted as ``p``.

    Raises
    ------
    ValueError, TypeError
        If the labels are not digits or their lengths differ.

    Examples
    --------
    >>> from digitcnn import confusion_matrix
    >>> matrix = confusion_matrix([7, 2, 1, 1], [7, 2, 7, 1])
    >>> int(matrix[1, 7]), int(matrix.trace())
    (1, 3)
    """
    truth = preprocess_labels(y_true)
    predicted = preprocess_labels(y_pred, len(truth))
    matrix = np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=np.int64)
    np.add.at(matrix, (truth, predicted), 1)
    return matrix


def precision_recall(matrix: NDArray[np.int64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return each digit's precision and recall from a :func:`confusion_matrix`.

    Precision is the fraction of the images predicted as a digit that are
    that digit; recall, the fraction of the images of a digit predicted as
    it. A digit never predicted (or never present) gets 0.

    Parameters
    ----------
    matrix : numpy.ndarray of int64, shape (10, 10)
        True digits in rows, predicted digits in columns.

    Returns
    -------
    precision, recall : numpy.ndarray of float64, shape (10,)
        Indexed by digit.

    Examples
    --------
    >>> from digitcnn._metrics import confusion_matrix, precision_recall
    >>> precision, recall = precision_recall(confusion_matrix([7, 7, 1], [7, 1, 1]))
    >>> float(precision[1]), float(recall[7])
    (0.5, 0.5)
    """
    correct = np.diag(matrix).astype(np.float64)
    precision = correct / np.maximum(matrix.sum(axis=0), 1)
    recall = correct / np.maximum(matrix.sum(axis=1), 1)
    return precision, recall
