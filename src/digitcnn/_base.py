"""Base classes in scikit-learn's style: the hyperparameter API and the classifier methods."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from typing_extensions import Self

from digitcnn._constants import NUM_CLASSES
from digitcnn._preprocess import preprocess_batches, preprocess_labels

__all__ = ["PREDICT_BATCH_SIZE", "BatchPredictor", "ClassifierMixin", "ParamsMixin"]

_LOG_EPSILON = 1e-7  # Keras's clipping of probabilities in cross-entropy


class ParamsMixin:
    """Provide scikit-learn's hyperparameter API to an estimator class.

    The class's constructor must store each keyword argument unchanged in an
    attribute of the same name; the hyperparameters are the constructor's
    parameters. This is what :func:`sklearn.base.clone` and grid searches rely on.
    """

    @classmethod
    def _param_defaults(cls) -> dict[str, Any]:
        parameters = inspect.signature(cls.__init__).parameters
        return {name: p.default for name, p in parameters.items() if name != "self"}

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Return the hyperparameters, as passed to the constructor.

        Parameters
        ----------
        deep : bool, default True
            Accepted for scikit-learn compatibility; there are no nested
            estimators.

        Returns
        -------
        dict
            Hyperparameter names mapped to their values.
        """
        return {name: getattr(self, name) for name in self._param_defaults()}

    def set_params(self, **params: Any) -> Self:
        """Set hyperparameters; they take effect at the next ``fit``.

        Parameters
        ----------
        **params
            Hyperparameter names and new values.

        Returns
        -------
        object
            ``self``.

        Raises
        ------
        ValueError
            If a name is not a hyperparameter of this class.
        """
        valid = list(self._param_defaults())
        for name, value in params.items():
            if name not in valid:
                raise ValueError(
                    f"invalid parameter {name!r} for {type(self).__name__}; valid ones are {valid}"
                )
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = self._param_defaults()
        changed = [
            f"{name}={value!r}"
            for name, value in self.get_params().items()
            if value != defaults[name]
        ]
        return f"{type(self).__name__}({', '.join(changed)})"


PREDICT_BATCH_SIZE = 1024
"""Images per forward pass in prediction: bounds memory, keeps the CPU busy."""

BatchPredictor = Callable[[NDArray[np.float32]], ArrayLike]
"""Maps a float32 batch ``(b, 28, 28, 1)`` to its probabilities ``(b, 10)``."""


class ClassifierMixin:
    """Derive ``predict_proba``, ``predict``, ``evaluate`` and ``score`` from a batch predictor.

    A class provides :meth:`_batch_predictor`; prediction then runs in batches
    of :data:`PREDICT_BATCH_SIZE` images, so its memory does not grow with the
    input beyond the ``(n, 10)`` result.
    """

    def _batch_predictor(self) -> BatchPredictor:
        """Return the function that predicts one batch, or raise if there is no model."""
        raise NotImplementedError

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
        forward = self._batch_predictor()
        n, batches = preprocess_batches(x, PREDICT_BATCH_SIZE)
        proba = np.empty((n, NUM_CLASSES), dtype=np.float32)
        for start, batch in zip(range(0, n, PREDICT_BATCH_SIZE), batches, strict=True):
            proba[start : start + len(batch)] = np.asarray(forward(batch))
        return proba

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
        """
        proba = self.predict_proba(x)
        labels = preprocess_labels(y, n_images=len(proba))
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
