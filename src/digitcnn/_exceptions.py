"""Exceptions that digitcnn raises beyond Python's built-in ones."""

from __future__ import annotations

__all__ = ["DataUnavailableError", "EmptyImageError", "NotFittedError"]


class NotFittedError(ValueError, AttributeError):
    """Raised when a :class:`~digitcnn.DigitClassifier` is used before it was fitted.

    It subclasses both :class:`ValueError` and :class:`AttributeError`, like
    scikit-learn's exception of the same name, so that code written for either
    convention catches it.
    """


class DataUnavailableError(OSError):
    """Raised when MNIST cannot be found locally and cannot be downloaded."""


class EmptyImageError(ValueError):
    """Raised when an image has no ink to read: a blank page or a uniform array."""
