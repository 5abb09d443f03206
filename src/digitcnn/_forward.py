"""A Keras model's forward pass, compiled once per model and freed with it.

With test-time augmentation, the pass predicts each image and its copies
shifted by one pixel in the eight directions (``TTA_SHIFTS``), and averages
the nine probabilities: a digit that lies between two readings is read by a
vote of slightly different views of it.
"""

from __future__ import annotations

import weakref
from typing import Any

import keras
import tensorflow as tf

__all__ = ["TTA_SHIFTS", "compiled_forward"]

CompiledForward = Any  # a tf.function; TensorFlow ships no type hints for it

TTA_SHIFTS = tuple((dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1))
"""The views of test-time augmentation: (rows, columns) shifts, the unshifted image among them."""

_COMPILED: weakref.WeakKeyDictionary[keras.Model, dict[bool, CompiledForward]] = (
    weakref.WeakKeyDictionary()
)


def _views(images: Any) -> Any:
    """Return ``images`` (n, h, w, c) and their shifted copies, stacked to (views * n, h, w, c)."""
    height, width = images.shape[1], images.shape[2]
    padded = tf.pad(images, [[0, 0], [1, 1], [1, 1], [0, 0]])  # shifted-in pixels are blank
    return tf.concat(
        [padded[:, 1 + dy : 1 + dy + height, 1 + dx : 1 + dx + width] for dy, dx in TTA_SHIFTS],
        axis=0,
    )


def compiled_forward(model: keras.Model, *, tta: bool = False) -> CompiledForward:
    """Return ``model``'s forward pass in inference mode as a compiled TensorFlow function.

    Calling a Keras model eagerly, or through :meth:`keras.Model.predict`, pays
    a fixed overhead of milliseconds per call; a :func:`tf.function` with a
    fixed input signature (the model's input shape, whose free dimensions stay
    free) is traced once per model and then runs as one graph.
    The function is cached for as long as the model lives, and no longer: it
    reaches the model through a weak reference, so the cache never keeps a
    model (and the classifier around it) alive.

    Parameters
    ----------
    model : keras.Model
        A digitcnn network, built or loaded.
    tta : bool, default False
        Whether to average the probabilities of the ``TTA_SHIFTS`` views of
        each image (test-time augmentation; an image network only).

    Returns
    -------
    callable
        Maps a float32 array of the model's input shape (``(n, 28, 28, 1)``
        for a digit network) to a tensor of its output shape.
    """
    cached = _COMPILED.setdefault(model, {})
    compiled = cached.get(tta)
    if compiled is None:
        # A strong reference here would make the cached value hold its own key,
        # and a WeakKeyDictionary entry whose value holds the key never dies.
        model_ref = weakref.ref(model)

        def forward(images: Any) -> Any:
            live = model_ref()
            if live is None:  # only a caller that kept the function past its model gets here
                raise RuntimeError("this compiled forward pass outlived its model")
            if not tta:
                return live(images, training=False)
            probabilities = live(_views(images), training=False)
            views = tf.reshape(probabilities, (len(TTA_SHIFTS), -1, probabilities.shape[-1]))
            return tf.reduce_mean(views, axis=0)

        signature = [tf.TensorSpec(shape=model.input_shape, dtype=tf.float32)]
        compiled = tf.function(forward, input_signature=signature)
        cached[tta] = compiled
    return compiled
