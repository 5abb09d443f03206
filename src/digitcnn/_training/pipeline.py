"""What ``fit`` trains on: arrays in memory, or a :class:`tf.data.Dataset` that streams.

Arrays go through the input contract (``_validation.py``). A
dataset's elements are checked against the same contract: their structure
and dtypes before training starts, each value as it streams (an assertion in
the pipeline, whose failure :func:`invalid_element` turns into a
``ValueError``), so data larger than memory can stream from disk.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from typing import Any

import tensorflow as tf
from numpy.typing import ArrayLike

from digitcnn._constants import INPUT_SHAPE, MAX_PIXEL, NUM_CLASSES
from digitcnn._training.low_resolution import low_resolution_copies
from digitcnn._validation import (
    DATASET_ELEMENT_RULE,
    SINGLE_IMAGE_SHAPES,
    preprocess_images,
    preprocess_labels,
)

__all__ = ["SHUFFLE_BUFFER", "TrainingData", "invalid_element", "training_data"]

SHUFFLE_BUFFER = 10_000
"""Elements that shuffling keeps in memory: enough to mix MNIST-sized data well."""

_INVALID = "digitcnn: invalid dataset element"  # marks our assertions among TensorFlow's errors


def _spec_text(spec: Any) -> str:
    return f"{spec!r}".replace("TensorSpec", "")


def _dataset_size(dataset: tf.data.Dataset, what: str) -> int:
    """Check ``dataset``'s elements and return how many there are.

    Raises
    ------
    TypeError
        If the elements are not ``(image, label)`` pairs of numbers.
    ValueError
        If an image or label has the wrong shape, or the size is unknown or
        infinite.
    """
    spec = dataset.element_spec
    if not (
        isinstance(spec, tuple)
        and len(spec) == 2
        and all(isinstance(part, tf.TensorSpec) for part in spec)
    ):
        raise TypeError(
            f"{what} must yield (image, label) pairs of tensors, one image per element; "
            f"got elements {_spec_text(spec)}"
        )
    image, label = spec
    for name, part in (("images", image), ("labels", label)):
        if not (part.dtype.is_integer or part.dtype.is_floating) or part.dtype == tf.bool:
            raise TypeError(f"{what}'s {name} must be integers or floats; got {part.dtype.name}")
    shapes = ", ".join(str(s) for s in SINGLE_IMAGE_SHAPES)
    if tuple(image.shape) not in SINGLE_IMAGE_SHAPES:
        raise ValueError(
            f"{what}'s images must have shape {shapes}, one image per element "
            f"(unbatched); got {tuple(image.shape)}"
        )
    if tuple(label.shape) != ():
        raise ValueError(f"{what}'s labels must be scalars; got shape {tuple(label.shape)}")
    size = int(dataset.cardinality())
    if size < 0:
        raise ValueError(
            f"{what} must have a known, finite number of elements (the learning-rate "
            "schedule needs it); got an unknown or infinite dataset. Declare its size with "
            "dataset.apply(tf.data.experimental.assert_cardinality(n))"
        )
    if size == 0:
        raise ValueError(f"{what} must hold at least one element; it is empty")
    return size


def _prepare(image: tf.Tensor, label: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Check one element's values and convert it to the model's input.

    The pixel and label rule of ``_validation.py`` (``DATASET_ELEMENT_RULE``),
    said again in TensorFlow's terms because it runs in the graph as the
    elements stream.
    """
    image = tf.reshape(image, INPUT_SHAPE)
    if image.dtype.is_integer:
        checks = [
            tf.debugging.assert_greater_equal(image, tf.zeros((), image.dtype), _INVALID),
            tf.debugging.assert_less_equal(image, tf.constant(MAX_PIXEL, image.dtype), _INVALID),
        ]
        with tf.control_dependencies(checks):
            scaled = tf.cast(image, tf.float32) / MAX_PIXEL
    else:
        checks = [
            tf.debugging.assert_all_finite(image, _INVALID),
            tf.debugging.assert_greater_equal(image, tf.zeros((), image.dtype), _INVALID),
            tf.debugging.assert_less_equal(image, tf.ones((), image.dtype), _INVALID),
        ]
        with tf.control_dependencies(checks):
            scaled = tf.cast(image, tf.float32)
    whole = tf.cast(label, tf.float64)
    label_checks = [
        tf.debugging.assert_equal(whole, tf.round(whole), _INVALID),
        tf.debugging.assert_greater_equal(whole, tf.constant(0, tf.float64), _INVALID),
        tf.debugging.assert_less_equal(whole, tf.constant(NUM_CLASSES - 1, tf.float64), _INVALID),
    ]
    with tf.control_dependencies(label_checks):
        digit = tf.cast(whole, tf.int64)
    return scaled, digit


def _pipeline(
    dataset: tf.data.Dataset,
    batch_size: int,
    *,
    shuffle: bool,
    seed: int | None,
    repeat: bool = False,
) -> tf.data.Dataset:
    """Return ``dataset`` checked, converted, shuffled and repeated (if asked), batched, prefetched.

    The elements are checked and converted after shuffling, so that the
    shuffle buffer holds them as they came, often smaller than float32.
    """
    if shuffle:
        dataset = dataset.shuffle(SHUFFLE_BUFFER, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        dataset = dataset.repeat()
    return (
        dataset.map(_prepare, num_parallel_calls=tf.data.AUTOTUNE)
        .batch(batch_size)
        .prefetch(tf.data.AUTOTUNE)
    )


def invalid_element(error: Exception) -> ValueError | None:
    """Return a clear ``ValueError`` if ``error`` is a failed element check, else None."""
    if isinstance(error, tf.errors.InvalidArgumentError) and _INVALID in str(error):
        return ValueError(f"the dataset holds an invalid element: {DATASET_ELEMENT_RULE}")
    return None


@dataclasses.dataclass(frozen=True)
class TrainingData:
    """Checked training input, ready for :meth:`keras.Model.fit`."""

    fit_arguments: dict[str, Any]
    """``x``, ``y``, ``batch_size``, ``shuffle`` and ``validation_data`` for ``fit``."""
    size: int
    """The number of training images."""
    dataset_spec: str | None
    """The element structure of a dataset given as ``x``; None for arrays."""
    stream: tf.data.Dataset | None = None
    """The dataset given as ``x``, unbatched; None for arrays."""

    def steps(self, batch_size: int) -> int:
        """Return the number of optimisation steps per epoch."""
        return math.ceil(self.size / batch_size)

    def first_image(self) -> tuple[tf.Tensor, tf.Tensor]:
        """Return the first training image and its label, as a batch of one."""
        if self.stream is not None:
            batch: tuple[tf.Tensor, tf.Tensor] = next(
                iter(_pipeline(self.stream.take(1), 1, shuffle=False, seed=None))
            )
            return batch
        return tf.constant(self.fit_arguments["x"][:1]), tf.constant(self.fit_arguments["y"][:1])

    def global_batches(self, batch_size: int, seed: int) -> tf.data.Dataset:
        """Return the training data as an endless dataset of shuffled batches.

        A new order each pass, the same sequence wherever it is made with
        the same ``seed``: what the workers of a multi-worker training share.
        """
        if self.stream is not None:
            return _pipeline(self.stream, batch_size, shuffle=True, seed=seed, repeat=True)
        images, labels = self.fit_arguments["x"], self.fit_arguments["y"]
        return (
            tf.data.Dataset.from_tensor_slices((images, labels))
            .shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
            .repeat()
            .batch(batch_size)
            .prefetch(tf.data.AUTOTUNE)
        )

    def identity(self) -> dict[str, Any]:
        """Return what identifies the data, for a checkpoint's fingerprint.

        For arrays this hashes every image, so it is computed only when a
        checkpoint asks for it.
        """
        if self.dataset_spec is not None:
            return {"images": self.size, "dataset": self.dataset_spec}
        digest = hashlib.sha256(self.fit_arguments["x"].tobytes())
        digest.update(self.fit_arguments["y"].tobytes())
        return {"images": self.size, "data_sha256": digest.hexdigest()}


def _validation(validation_data: Any, batch_size: int) -> tuple[Any, Any] | tf.data.Dataset | None:
    if validation_data is None:
        return None
    if isinstance(validation_data, tf.data.Dataset):
        _dataset_size(validation_data, "validation_data")
        return _pipeline(validation_data, batch_size, shuffle=False, seed=None)
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
        raise TypeError(
            "validation_data must be a tuple (images, labels) or a tf.data.Dataset; "
            f"got {type(validation_data).__name__}"
        )
    images = preprocess_images(validation_data[0])
    return images, preprocess_labels(validation_data[1], len(images))


def training_data(
    x: ArrayLike | tf.data.Dataset,
    y: ArrayLike | None,
    validation_data: Any,
    *,
    batch_size: int,
    seed: int | None,
    low_resolution: float = 0.0,
) -> TrainingData:
    """Check what ``fit`` was given and prepare it for Keras.

    With ``low_resolution``, that fraction of the images is added again at a
    low resolution (``low_resolution.py``).

    Raises
    ------
    TypeError, ValueError
        If the images, labels or validation data break the input contract.
    """
    validation = _validation(validation_data, batch_size)
    if isinstance(x, tf.data.Dataset):
        if low_resolution > 0:
            raise TypeError(
                "a recipe with low_resolution needs x as arrays of images and labels, of "
                "which it adds low-resolution copies before training; got a tf.data.Dataset"
            )
        if y is not None:
            raise TypeError(
                "y must be None when x is a tf.data.Dataset: the dataset yields "
                "(image, label) pairs"
            )
        size = _dataset_size(x, "x")
        pipeline = _pipeline(x, batch_size, shuffle=True, seed=seed)
        spec: str | None = _spec_text(x.element_spec)
        stream: tf.data.Dataset | None = x
        arguments: dict[str, Any] = {"x": pipeline, "shuffle": False}  # shuffled above
    else:
        images = preprocess_images(x)
        if y is None:
            raise TypeError("y, the labels, is required when x holds images rather than a dataset")
        labels = preprocess_labels(y, n_images=len(images))
        if low_resolution > 0:
            images, labels = low_resolution_copies(images, labels, low_resolution, seed)
        size, spec, stream = len(images), None, None
        arguments = {"x": images, "y": labels, "batch_size": batch_size, "shuffle": True}
    return TrainingData({**arguments, "validation_data": validation}, size, spec, stream)
