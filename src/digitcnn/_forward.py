"""A Keras model's forward pass, compiled once per model and freed with it."""

from __future__ import annotations

import weakref
from typing import Any

import keras
import tensorflow as tf

__all__ = ["compiled_forward"]

CompiledForward = Any  # a tf.function; TensorFlow ships no type hints for it

_COMPILED: weakref.WeakKeyDictionary[keras.Model, CompiledForward] = weakref.WeakKeyDictionary()


def compiled_forward(model: keras.Model) -> CompiledForward:
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

    Returns
    -------
    callable
        Maps a float32 array of the model's input shape (``(n, 28, 28, 1)``
        for a digit network) to a tensor of its output shape.
    """
    compiled = _COMPILED.get(model)
    if compiled is None:
        # A strong reference here would make the cached value hold its own key,
        # and a WeakKeyDictionary entry whose value holds the key never dies.
        model_ref = weakref.ref(model)

        def forward(images: Any) -> Any:
            live = model_ref()
            if live is None:  # only a caller that kept the function past its model gets here
                raise RuntimeError("this compiled forward pass outlived its model")
            return live(images, training=False)

        signature = [tf.TensorSpec(shape=model.input_shape, dtype=tf.float32)]
        compiled = tf.function(forward, input_signature=signature)
        _COMPILED[model] = compiled
    return compiled
