"""Distillation: a network trained on a teacher's probabilities as well as on the labels.

Hinton, Vinyals and Dean ("Distilling the Knowledge in a Neural Network",
2015): the student's loss is a weighted sum of the cross-entropy with the
true labels and the Kullback-Leibler divergence of its probabilities from
the teacher's, both softened by a temperature ``T`` (this term scaled by
``T**2``, so that its gradients keep their size whatever ``T``). A softened teacher says
which wrong digits a picture resembles, which a label cannot.

The teacher's probabilities of the training images are worked out once,
before training, and travel with the labels: the targets are ``(n, 11)``,
the label then the ten probabilities. Each augmented image is thus taught
with the teacher's reading of the image it was made from.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops
from numpy.typing import NDArray

from digitcnn._constants import NUM_CLASSES

__all__ = [
    "DISTILLATION_TEMPERATURE",
    "DISTILLATION_WEIGHT",
    "distillation_loss",
    "distillation_targets",
    "label_accuracy",
]

DISTILLATION_TEMPERATURE = 4.0
"""The temperature that softens the teacher's and the student's probabilities."""

DISTILLATION_WEIGHT = 0.5
"""The weight of the teacher's term in the loss; the labels' term has the rest."""

_EPSILON = 1e-7  # Keras's clipping of probabilities in cross-entropy


def distillation_targets(
    labels: NDArray[np.integer[Any]], teacher_probabilities: NDArray[np.floating[Any]]
) -> NDArray[np.float32]:
    """Return the ``(n, 11)`` targets: each label, then the teacher's ten probabilities."""
    return np.concatenate(
        [labels.astype(np.float32)[:, None], teacher_probabilities.astype(np.float32)], axis=1
    )


def _softened(probabilities: Any) -> Any:
    """Return ``probabilities`` at the distillation temperature: softmax(log(p) / T)."""
    logits = ops.log(ops.clip(probabilities, _EPSILON, 1.0))
    return ops.softmax(logits / DISTILLATION_TEMPERATURE, axis=-1)


def distillation_loss(targets: Any, probabilities: Any) -> Any:
    """Return the distillation loss of each image (see the module's description)."""
    labels = ops.cast(targets[:, 0], "int32")
    teacher = targets[:, 1 : 1 + NUM_CLASSES]
    hard = keras.losses.sparse_categorical_crossentropy(labels, probabilities)
    soft = keras.losses.kl_divergence(_softened(teacher), _softened(probabilities))
    weight = DISTILLATION_WEIGHT
    return (1 - weight) * hard + weight * DISTILLATION_TEMPERATURE**2 * soft


def label_accuracy(targets: Any, probabilities: Any) -> Any:
    """Return, for each image, whether its most probable digit is its label."""
    labels = ops.cast(targets[:, 0], "int64")
    return ops.cast(ops.equal(ops.argmax(probabilities, axis=-1), labels), "float32")
