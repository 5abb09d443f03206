"""Writing exports for deployment: TensorFlow SavedModel and TensorFlow Lite (float or int8).

``_estimator/tflite.py`` runs the TensorFlow Lite files written here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Literal, get_args

import keras
import numpy as np
import tensorflow as tf
from numpy.typing import ArrayLike, NDArray

from digitcnn._atomic import atomic_output
from digitcnn._constants import INPUT_SHAPE
from digitcnn._forward import compiled_forward
from digitcnn._types import ExportFormat
from digitcnn._validation import check_choice, preprocess_images

__all__ = ["export_model"]

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
    concrete = compiled_forward(model).get_concrete_function()
    # Without the model as the trackable object, the converter freezes the variables into
    # constants; with it, it may keep some as resource variables, which int8 calibration
    # of a network without augmentation layers then fails to read.
    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete])
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
    check_choice(format, "format", get_args(ExportFormat))
    check_choice(quantize, "quantize", [None, "int8"])
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
