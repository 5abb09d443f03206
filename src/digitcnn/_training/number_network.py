"""The number reader's network: convolutions, a recurrent layer along the width, and CTC.

A strip ``FRAME_HEIGHT`` (32) rows tall and any width goes through four
convolution stages (see :func:`build_number_network`), which leave one
feature column per ``STEP_WIDTH`` (4) columns of the strip; a
bidirectional GRU reads the columns left to right and right to left, and a
softmax gives each step's probabilities of the ten digits and of "no digit
here" (the CTC blank, class 10). Trained with the connectionist temporal
classification loss, it needs no segmentation: touching and overlapping
digits are read as they come.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import layers, ops

from digitcnn._constants import CTC_BLANK, NUM_CLASSES
from digitcnn._vision.number_frame import FRAME_HEIGHT

__all__ = ["build_number_network", "ctc_loss"]

_BN_MOMENTUM = 0.9
_PROBABILITY_FLOOR = 1e-7
_LAST_FILTERS = 64


def _stage(x: Any, filters: int, pool: tuple[int, int], name: str) -> Any:
    # pooling before batch normalisation: normalising the pooled maps costs a half to a
    # quarter as much, as in the digit networks
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.MaxPooling2D(pool, name=f"{name}_pool")(x)
    x = layers.BatchNormalization(momentum=_BN_MOMENTUM, name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def build_number_network() -> keras.Model:
    """Return a new, untrained number-reading network.

    Four stages of a 3x3 convolution (16, 32, 64, 64 filters), max-pooling
    (2x2, 2x2, 2x1, 2x1), batch normalisation and ReLU take a
    ``(32, width, 1)`` strip to ``width / 4`` columns of 2x64 features; a
    dense layer of 96 units, a bidirectional GRU of 64 units each way, and a
    softmax over 11 classes (the digits and the blank) give each column's
    probabilities.

    Returns
    -------
    keras.Model
        Input ``(batch, 32, width, 1)`` float32 in [0, 1]; output
        ``(batch, width / 4, 11)`` probabilities.
    """
    inputs = keras.Input(shape=(FRAME_HEIGHT, None, 1), name="strip")
    x = inputs
    for number, (filters, pool) in enumerate(
        [(16, (2, 2)), (32, (2, 2)), (64, (2, 1)), (_LAST_FILTERS, (2, 1))], start=1
    ):
        x = _stage(x, filters, pool, f"stage{number}")
    x = layers.Permute((2, 1, 3), name="columns")(x)  # (batch, steps, rows, filters)
    x = layers.Reshape((-1, 2 * _LAST_FILTERS), name="features")(x)
    x = layers.Dense(96, activation="relu", name="dense")(x)
    x = layers.Dropout(0.2, name="dropout")(x)
    x = layers.Bidirectional(layers.GRU(64, return_sequences=True), name="sequence")(x)
    outputs = layers.Dense(NUM_CLASSES + 1, activation="softmax", name="step")(x)
    return keras.Model(inputs, outputs, name="digitcnn_number_reader")


def ctc_loss(texts: Any, probabilities: Any) -> Any:
    """Return the CTC loss of each number: texts padded with -1, a network's step probabilities.

    Parameters
    ----------
    texts : tensor of int
        Shape ``(batch, max_digits)``, each number's digits padded with -1.
    probabilities : tensor of float
        Shape ``(batch, steps, 11)``, as :func:`build_number_network` outputs.

    Returns
    -------
    tensor of float
        Shape ``(batch,)``.
    """
    texts = ops.cast(texts, "int32")
    lengths = ops.sum(ops.cast(texts >= 0, "int32"), axis=1)
    steps = ops.shape(probabilities)[1]
    batch = ops.shape(probabilities)[0]
    return ops.ctc_loss(
        ops.maximum(texts, 0),
        ops.log(ops.maximum(probabilities, _PROBABILITY_FLOOR)),
        lengths,
        ops.full((batch,), steps, dtype="int32"),
        mask_index=CTC_BLANK,
    )
