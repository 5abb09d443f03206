"""The CNN architecture and its training schedule.

The network is a small VGG-style CNN chosen by measurement on a 2-core CPU
(see ``benchmarks/accuracy.py`` and the README): a 5x5 convolution with 32
filters, then two 3x3 convolutions with 64 filters, each stage closed by 2x2
max-pooling, batch normalisation and ReLU; a dense layer of 128 units with
batch normalisation and dropout; and a softmax over the ten digits. Random
rotations, shifts and zooms, active only during training, make it robust to
the small variations between handwritten digits.

Batch normalisation sits after the pooling rather than before it. Normalising
the pooled maps costs a quarter as much as normalising the full-size ones,
which took about a third of the CPU time of a training step, and measured no
less accurate.
"""

from __future__ import annotations

import weakref
from typing import Any

import keras
import tensorflow as tf
from keras import layers

from digitcnn._constants import IMAGE_SIZE, NUM_CLASSES

__all__ = ["INPUT_SHAPE", "build_model", "build_optimizer", "inference_function"]

INPUT_SHAPE = (IMAGE_SIZE, IMAGE_SIZE, 1)
"""Shape of one model input: a single-channel 28x28 image with values in [0, 1]."""

_MAX_ROTATION = 10 / 360  # fraction of a full turn, as RandomRotation expects
_MAX_SHIFT = 0.1  # fraction of the image size
_MAX_ZOOM = 0.1
_BN_MOMENTUM = 0.9  # faster than Keras's 0.99, so that short trainings get usable statistics
_WARMUP_FRACTION = 0.1

Predictor = Any  # a tf.function; TensorFlow ships no type hints for it
_PREDICTORS: weakref.WeakKeyDictionary[keras.Model, Predictor] = weakref.WeakKeyDictionary()


def _pool_norm_relu(x: Any, name: str) -> Any:
    """Return 2x2 max-pooling, batch normalisation and ReLU of ``x``."""
    x = layers.MaxPooling2D(name=f"{name}_pool")(x)
    x = layers.BatchNormalization(momentum=_BN_MOMENTUM, name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def build_model(*, augment: bool = True) -> keras.Model:
    """Build the (uncompiled) CNN.

    Parameters
    ----------
    augment : bool, default True
        Whether to include the random rotation, shift and zoom layers, which
        act only during training.

    Returns
    -------
    keras.Model
        Maps float32 ``(n, 28, 28, 1)`` images in [0, 1] to ``(n, 10)``
        probabilities.
    """
    inputs = keras.Input(shape=INPUT_SHAPE, name="image")
    x = inputs
    if augment:
        x = layers.RandomRotation(_MAX_ROTATION, fill_mode="constant", name="rotate")(x)
        x = layers.RandomTranslation(_MAX_SHIFT, _MAX_SHIFT, fill_mode="constant", name="shift")(x)
        x = layers.RandomZoom(_MAX_ZOOM, fill_mode="constant", name="zoom")(x)
    x = layers.Conv2D(32, 5, use_bias=False, name="conv1")(x)  # 28 -> 24
    x = _pool_norm_relu(x, "block1")  # 24 -> 12
    x = layers.Conv2D(64, 3, activation="relu", name="conv2")(x)  # 12 -> 10
    x = layers.Conv2D(64, 3, use_bias=False, name="conv3")(x)  # 10 -> 8
    x = _pool_norm_relu(x, "block2")  # 8 -> 4
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(128, use_bias=False, name="dense")(x)
    x = layers.BatchNormalization(momentum=_BN_MOMENTUM, name="dense_bn")(x)
    x = layers.ReLU(name="dense_relu")(x)
    x = layers.Dropout(0.4, name="dropout")(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="digit")(x)
    return keras.Model(inputs, outputs, name="digitcnn")


def build_optimizer(learning_rate: float, total_steps: int) -> keras.optimizers.Optimizer:
    """Return Adam with a linear warm-up to ``learning_rate`` and a cosine decay to zero.

    Parameters
    ----------
    learning_rate : float
        The peak learning rate, reached after the first tenth of training.
    total_steps : int
        The number of optimisation steps of the whole training.

    Returns
    -------
    keras.optimizers.Optimizer
        A fresh Adam optimizer.
    """
    warmup = max(1, int(total_steps * _WARMUP_FRACTION))
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0,
        decay_steps=max(1, total_steps - warmup),
        warmup_target=learning_rate,
        warmup_steps=warmup,
    )
    return keras.optimizers.Adam(learning_rate=schedule)


def inference_function(model: keras.Model) -> Predictor:
    """Return ``model``'s forward pass in inference mode as a compiled TensorFlow function.

    Calling a Keras model eagerly, or through :meth:`keras.Model.predict`, pays
    a fixed overhead of milliseconds per call; a :func:`tf.function` with a
    fixed input signature is traced once per model and then runs as one graph.
    The function is cached for as long as the model lives.

    Parameters
    ----------
    model : keras.Model
        A model built by :func:`build_model` (or loaded from a file).

    Returns
    -------
    callable
        Maps a float32 array of shape ``(n, 28, 28, 1)`` to a tensor of shape
        ``(n, 10)``.
    """
    predictor = _PREDICTORS.get(model)
    if predictor is None:
        signature = [tf.TensorSpec(shape=(None, *INPUT_SHAPE), dtype=tf.float32)]

        def forward(images: Any) -> Any:
            return model(images, training=False)

        predictor = tf.function(forward, input_signature=signature)
        _PREDICTORS[model] = predictor
    return predictor
