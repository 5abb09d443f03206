"""Counting a classifier's right and wrong answers."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from digitcnn._constants import NUM_CLASSES
from digitcnn._preprocess import preprocess_labels

__all__ = ["confusion_matrix"]


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
