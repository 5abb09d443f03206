"""Running exported TensorFlow Lite models: LiteRT where installed, else TensorFlow's interpreter.

This module imports TensorFlow only when LiteRT (``ai-edge-litert``) is not
installed, so that a deployment can run a ``.tflite`` file without it.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digitcnn._constants import NUM_CLASSES
from digitcnn._estimator.base import BaseDigitClassifier, BatchForward
from digitcnn._validation import check_network_shapes

__all__ = ["TFLiteClassifier"]


def _interpreter_class() -> Any:
    """Return LiteRT's interpreter where installed, else TensorFlow's own."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        import tensorflow as tf

        return tf.lite.Interpreter
    return Interpreter


class TFLiteClassifier(BaseDigitClassifier):
    """Run an exported TensorFlow Lite digit model, float or int8.

    Parameters
    ----------
    path : os.PathLike or str
        A ``.tflite`` file written by :meth:`DigitClassifier.export`.

    Attributes
    ----------
    path : pathlib.Path
        The model file.
    classes_ : numpy.ndarray of int64
        The class labels, ``array([0, 1, ..., 9])``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not a TensorFlow Lite model with digitcnn's input and
        output shapes.

    Examples
    --------
    >>> from digitcnn import TFLiteClassifier
    >>> lite = TFLiteClassifier("digits.tflite")  # doctest: +SKIP
    >>> lite.predict(x_test[:5])  # doctest: +SKIP
    array([7, 2, 1, 0, 4])
    """

    def __init__(self, path: os.PathLike[str] | str) -> None:
        source = Path(path)
        if not source.is_file():
            raise FileNotFoundError(f"TensorFlow Lite model not found: {source}")
        try:
            with warnings.catch_warnings():
                # TensorFlow's own interpreter warns that LiteRT replaces it; it still works.
                warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated")
                self._interpreter: Any = _interpreter_class()(model_path=str(source))
            self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ValueError(f"{source} is not a readable TensorFlow Lite model: {exc}") from exc
        self._input = self._interpreter.get_input_details()[0]
        self._output = self._interpreter.get_output_details()[0]
        check_network_shapes(source, self._input["shape"], self._output["shape"])
        self.path = source
        self.classes_ = np.arange(NUM_CLASSES, dtype=np.int64)

    def __sklearn_is_fitted__(self) -> bool:
        """Return True: a TensorFlow Lite model is trained by the time it is a file."""
        return True

    def _batch_forward(self) -> BatchForward:
        return self._predict_batch

    def _predict_batch(self, batch: NDArray[np.float32]) -> NDArray[np.float32]:
        interpreter = self._interpreter
        if tuple(self._input["shape"]) != batch.shape:
            interpreter.resize_tensor_input(self._input["index"], list(batch.shape))
            interpreter.allocate_tensors()
            self._input = interpreter.get_input_details()[0]
        interpreter.set_tensor(self._input["index"], batch)
        interpreter.invoke()
        result: NDArray[np.float32] = np.array(
            interpreter.get_tensor(self._output["index"]), dtype=np.float32
        )
        return result
