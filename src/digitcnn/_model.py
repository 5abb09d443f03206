"""The CNN architecture and its training schedule.

The network is the "32C5-P2-64C5-P2-128" family that scores well on MNIST for
its cost: two 5x5 convolutions with batch normalisation and max-pooling, a
dense layer of 128 units with dropout, and a softmax over the ten digits.
Random rotations, shifts and zooms, active only during training, make it
robust to the small variations between handwritten digits. The choice was
made by measurement on a 2-core CPU; see ``benchmarks/accuracy.py``.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import layers

from digitcnn._constants import IMAGE_SIZE, NUM_CLASSES

__all__ = ["INPUT_SHAPE", "build_model", "build_optimizer"]

INPUT_SHAPE = (IMAGE_SIZE, IMAGE_SIZE, 1)
"""Shape of one model input: a single-channel 28x28 image with values in [0, 1]."""

_MAX_ROTATION = 10 / 360  # fraction of a full turn, as RandomRotation expects
_MAX_SHIFT = 0.1  # fraction of the image size
_MAX_ZOOM = 0.1
_BN_MOMENTUM = 0.9  # faster than Keras's 0.99, so that short trainings get usable statistics
_WARMUP_FRACTION = 0.1


def _conv_block(x: Any, filters: int, name: str) -> Any:
    """Return a 5x5 convolution, batch normalisation, ReLU and 2x2 max-pooling of ``x``."""
    x = layers.Conv2D(filters, 5, use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(momentum=_BN_MOMENTUM, name=f"{name}_bn")(x)
    x = layers.ReLU(name=f"{name}_relu")(x)
    return layers.MaxPooling2D(name=f"{name}_pool")(x)


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
    x = _conv_block(x, 32, "block1")
    x = _conv_block(x, 64, "block2")
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
