"""Export for deployment: TensorFlow SavedModel and TensorFlow Lite (float or int8)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import keras
import numpy as np
import tensorflow as tf
from numpy.typing import ArrayLike, NDArray

from digitcnn._atomic import atomic_output
from digitcnn._base import BatchPredictor
from digitcnn._model import INPUT_SHAPE, inference_function
from digitcnn._preprocess import preprocess_images
from digitcnn._reading import ImageReadingMixin

__all__ = ["ExportFormat", "TFLiteClassifier", "export_model"]

ExportFormat = Literal["savedmodel", "tflite"]
_FORMATS = ("savedmodel", "tflite")
_QUANTIZATIONS = (None, "int8")
_REPRESENTATIVE_MAX = 500  # calibration images used for int8; more adds time, not accuracy


def _write_savedmodel(model: keras.Model, path: Path) -> None:
    """Write a SavedModel whose ``serve`` signature runs ``model`` in inference mode."""
    # model.export()'s default endpoint does not pin training=False, and the
    # served probabilities then differ from the model's; this one matches exactly.
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(
        name="serve",
        fn=lambda images: model(images, training=False),
        input_signature=[tf.TensorSpec(shape=(None, *INPUT_SHAPE), dtype=tf.float32)],
    )
    archive.write_out(str(path), verbose=False)


def _tflite_bytes(
    model: keras.Model, quantize: str | None, representative: NDArray[np.float32] | None
) -> bytes:
    concrete = inference_function(model).get_concrete_function()
    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], model)
    if quantize == "int8":
        assert representative is not None  # checked by export_model

        def calibration() -> Iterator[list[NDArray[np.float32]]]:
            for image in representative[:_REPRESENTATIVE_MAX]:
                yield [image[np.newaxis]]

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = calibration
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    result: bytes = converter.convert()
    return result


def export_model(
    model: keras.Model,
    path: os.PathLike[str] | str,
    *,
    format: ExportFormat,
    quantize: Literal["int8"] | None = None,
    representative_images: ArrayLike | None = None,
) -> Path:
    """Export ``model`` for inference; see :meth:`DigitClassifier.export`."""
    if format not in _FORMATS:
        raise ValueError(f"format must be one of {_FORMATS}; got {format!r}")
    if quantize not in _QUANTIZATIONS:
        raise ValueError(f"quantize must be None or 'int8'; got {quantize!r}")
    if quantize is not None and format != "tflite":
        raise ValueError("quantize='int8' applies to format='tflite' only")
    representative = None
    if quantize == "int8":
        if representative_images is None:
            raise ValueError(
                "int8 quantization needs representative_images: pass a few hundred "
                "training images, which calibrate the integer ranges"
            )
        representative = preprocess_images(representative_images)
    with atomic_output(path, what="the exported model") as staged:
        if format == "savedmodel":
            _write_savedmodel(model, staged)
        else:
            staged.write_bytes(_tflite_bytes(model, quantize, representative))
    return Path(path)


def _interpreter_class() -> Any:
    """Return LiteRT's interpreter where installed, else TensorFlow's own."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        return tf.lite.Interpreter
    return Interpreter


class TFLiteClassifier(ImageReadingMixin):
    """Run an exported TensorFlow Lite digit model, float or int8.

    Parameters
    ----------
    path : os.PathLike or str
        A ``.tflite`` file written by :meth:`DigitClassifier.export`.

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
        if tuple(self._input["shape"][1:]) != (28, 28, 1) or self._output["shape"][-1] != 10:
            raise ValueError(
                f"{source} maps {tuple(self._input['shape'])} to "
                f"{tuple(self._output['shape'])}; expected images (n, 28, 28, 1) to (n, 10)"
            )
        self.path = source

    def _batch_predictor(self) -> BatchPredictor:
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
