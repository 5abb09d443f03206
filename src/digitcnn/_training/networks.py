"""The network architectures, their optimizer, and the compiled model that ``fit`` trains.

Five architectures back the training recipes (see ``recipes.py``):

``"standard"``
    A small VGG-style CNN chosen by measurement on a 2-core CPU (see
    ``benchmarks/`` and the README): a 5x5 convolution with 32 filters, then
    two 3x3 convolutions with 64 filters, each stage closed by 2x2
    max-pooling, batch normalisation and ReLU; a dense layer of 128 units
    with batch normalisation and dropout; and a softmax over the ten digits.
    Batch normalisation sits after the pooling rather than before it:
    normalising the pooled maps costs a quarter as much as normalising the
    full-size ones, which took about a third of the CPU time of a training
    step, and measured no less accurate.
``"small"``
    The same design at a sixth of the arithmetic, for training in seconds: a 5x5
    convolution with 16 filters and a 3x3 convolution with 32 filters, each
    followed by pooling, batch normalisation and ReLU; a dense layer of 64
    units with batch normalisation; and the softmax.
``"classic"``
    The network of the classic community MNIST tutorials (not TensorFlow's
    own beginner quickstart, which has no convolution): one 3x3 convolution
    with 28 filters, max-pooling, a dense layer of 128 units, dropout 0.2.
``"deep"``
    The all-convolutional design of Chris Deotte's Kaggle study of MNIST
    architectures ("How to choose CNN Architecture MNIST", the basis of the
    15-network ensemble at 99.75%), at three times the standard's arithmetic:
    two 3x3 convolutions with 32 filters and a 5x5 one with stride 2, then
    the same with 64 filters, each followed by dropout 0.4, then a 4x4
    convolution with 128 filters down to one pixel; every convolution
    followed by batch normalisation and ReLU; dropout 0.4 before the softmax.
    Strides stand in for pooling, so that the network learns how to shrink.
``"slim"``
    The deep design at half the width (16, 32 and 64 filters), at four-fifths
    of the standard's arithmetic and fewer than half its weights: the
    student that an ensemble is distilled into.

Any of them can be preceded by random rotations, shifts and zooms, which act
only during training and make the network robust to the small variations
between handwritten digits. A trained network is then rebuilt without them
(:func:`inference_network`): the same weights and predictions, and a saved
file that any Keras opens.

An ensemble is one network too (:func:`ensemble_network`): its members side
by side, their probabilities averaged, so that one forward pass predicts
with all of them and one ``.keras`` file holds them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import keras
from keras import layers

from digitcnn._constants import INPUT_SHAPE, NUM_CLASSES
from digitcnn._training.distillation import distillation_loss, label_accuracy
from digitcnn._training.recipes import Recipe
from digitcnn._types import Architecture, Schedule
from digitcnn._validation import check_choice

__all__ = [
    "ENSEMBLE_NAME",
    "build_model",
    "build_optimizer",
    "compile_for_training",
    "compiled_model",
    "distillation_network",
    "ensemble_members",
    "ensemble_network",
    "inference_network",
]

ENSEMBLE_NAME = "digitcnn_ensemble"
"""The name of an ensemble's network, which tells it from a single one."""

_DISTILLATION_NAME = "distillation"
_MAX_ROTATION = 10 / 360  # fraction of a full turn, as RandomRotation expects
_MAX_SHIFT = 0.1  # fraction of the image size
_MAX_ZOOM = 0.1

_BN_MOMENTUM = 0.9  # faster than Keras's 0.99, so that short trainings get usable statistics
_WARMUP_FRACTION = 0.1


def _norm_relu(x: Any, name: str) -> Any:
    """Return batch normalisation and ReLU of ``x``, named ``{name}_bn`` and ``{name}_relu``."""
    x = layers.BatchNormalization(momentum=_BN_MOMENTUM, name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def _pool_norm_relu(x: Any, name: str) -> Any:
    """Return 2x2 max-pooling, batch normalisation and ReLU of ``x``."""
    return _norm_relu(layers.MaxPooling2D(name=f"{name}_pool")(x), name)


def _augment(x: Any) -> Any:
    """Return ``x`` randomly rotated, shifted and zoomed (in training only)."""
    x = layers.RandomRotation(_MAX_ROTATION, fill_mode="constant", name="rotate")(x)
    x = layers.RandomTranslation(_MAX_SHIFT, _MAX_SHIFT, fill_mode="constant", name="shift")(x)
    return layers.RandomZoom(_MAX_ZOOM, fill_mode="constant", name="zoom")(x)


def _standard(x: Any) -> Any:
    x = layers.Conv2D(32, 5, use_bias=False, name="conv1")(x)  # 28 -> 24
    x = _pool_norm_relu(x, "block1")  # 24 -> 12
    x = layers.Conv2D(64, 3, activation="relu", name="conv2")(x)  # 12 -> 10
    x = layers.Conv2D(64, 3, use_bias=False, name="conv3")(x)  # 10 -> 8
    x = _pool_norm_relu(x, "block2")  # 8 -> 4
    x = layers.Flatten(name="flatten")(x)
    x = _norm_relu(layers.Dense(128, use_bias=False, name="dense")(x), "dense")
    return layers.Dropout(0.4, name="dropout")(x)


def _small(x: Any) -> Any:
    x = layers.Conv2D(16, 5, use_bias=False, name="conv1")(x)  # 28 -> 24
    x = _pool_norm_relu(x, "block1")  # 24 -> 12
    x = layers.Conv2D(32, 3, use_bias=False, name="conv2")(x)  # 12 -> 10
    x = _pool_norm_relu(x, "block2")  # 10 -> 5
    x = layers.Flatten(name="flatten")(x)
    return _norm_relu(layers.Dense(64, use_bias=False, name="dense")(x), "dense")


def _classic(x: Any) -> Any:
    x = layers.Conv2D(28, 3, activation="relu", name="conv1")(x)  # 28 -> 26
    x = layers.MaxPooling2D(name="pool1")(x)  # 26 -> 13
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(128, activation="relu", name="dense")(x)
    return layers.Dropout(0.2, name="dropout")(x)


def _conv_norm_relu(x: Any, filters: int, size: int, name: str, *, strides: int = 1) -> Any:
    """Return a convolution of ``x`` (halving it with ``strides=2``), batch-normalised, ReLU."""
    padding = "same" if strides > 1 else "valid"
    x = layers.Conv2D(filters, size, strides=strides, padding=padding, use_bias=False, name=name)(x)
    return _norm_relu(x, name)


def _all_convolutional(x: Any, widths: tuple[int, int, int]) -> Any:
    """Return the features of the ``"deep"`` design with ``widths`` filters in its three stages."""
    for stage, filters in enumerate(widths[:2], 1):  # 28 -> 26 -> 24 -> 12, 12 -> 10 -> 8 -> 4
        x = _conv_norm_relu(x, filters, 3, f"conv{stage}a")
        x = _conv_norm_relu(x, filters, 3, f"conv{stage}b")
        x = _conv_norm_relu(x, filters, 5, f"conv{stage}c", strides=2)
        x = layers.Dropout(0.4, name=f"dropout{stage}")(x)
    x = _conv_norm_relu(x, widths[2], 4, "conv3")  # 4 -> 1
    x = layers.Flatten(name="flatten")(x)
    return layers.Dropout(0.4, name="dropout")(x)


def _deep(x: Any) -> Any:
    return _all_convolutional(x, (32, 64, 128))


def _slim(x: Any) -> Any:
    return _all_convolutional(x, (16, 32, 64))


_FEATURES: dict[str, Callable[[Any], Any]] = {
    "standard": _standard,
    "small": _small,
    "classic": _classic,
    "deep": _deep,
    "slim": _slim,
}


def build_model(architecture: Architecture = "standard", *, augment: bool = True) -> keras.Model:
    """Build an (uncompiled) network.

    Parameters
    ----------
    architecture : {"standard", "small", "classic", "deep"}, default "standard"
        Which network to build; see the module's description.
    augment : bool, default True
        Whether to put the random rotation, shift and zoom layers, which act
        only during training, in front of the network.

    Returns
    -------
    keras.Model
        Maps float32 ``(n, 28, 28, 1)`` images in [0, 1] to ``(n, 10)``
        probabilities.

    Raises
    ------
    ValueError
        If ``architecture`` is not one of the names above.
    """
    features = _FEATURES[check_choice(architecture, "architecture", sorted(_FEATURES))]
    inputs = keras.Input(shape=INPUT_SHAPE, name="image")
    x = features(_augment(inputs) if augment else inputs)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="digit")(x)
    return keras.Model(inputs, outputs, name=f"digitcnn_{architecture}")


def build_optimizer(
    learning_rate: float, total_steps: int, *, schedule: Schedule = "warmup_cosine"
) -> keras.optimizers.Optimizer:
    """Return a fresh Adam optimizer with a learning-rate schedule.

    Parameters
    ----------
    learning_rate : float
        The peak (or, for ``"constant"``, the only) learning rate.
    total_steps : int
        The number of optimisation steps of the whole training.
    schedule : {"warmup_cosine", "constant"}, default "warmup_cosine"
        ``"warmup_cosine"`` rises linearly from zero to ``learning_rate`` over
        the first tenth of training, then decays to zero along a half cosine;
        ``"constant"`` keeps ``learning_rate`` throughout, as Keras's default.

    Returns
    -------
    keras.optimizers.Optimizer
        A fresh Adam optimizer.
    """
    if schedule == "constant":
        return keras.optimizers.Adam(learning_rate=learning_rate)
    warmup = max(1, int(total_steps * _WARMUP_FRACTION))
    cosine = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0,
        decay_steps=max(1, total_steps - warmup),
        warmup_target=learning_rate,
        warmup_steps=warmup,
    )
    return keras.optimizers.Adam(learning_rate=cosine)


def compile_for_training(
    model: keras.Model,
    optimizer: keras.optimizers.Optimizer,
    loss: Any,
    metrics: Sequence[keras.metrics.Metric] = (),
    **compile_options: Any,
) -> None:
    """Compile ``model`` and create its optimizer's variables now, so that ``fit`` traces once.

    Keras (without a distribution strategy) creates the optimizer's and the
    metrics' variables while tracing the first training step, and TensorFlow
    then traces that step a second time, which costs about two seconds per
    ``fit``. So the optimizer is built here, and the metrics must be given as
    :class:`keras.metrics.Metric` objects, whose variables exist already.

    Parameters
    ----------
    model : keras.Model
        The network to train.
    optimizer : keras.optimizers.Optimizer
        A fresh optimizer, such as :func:`build_optimizer`'s.
    loss : str or callable
        A Keras loss: its name, or a function of (targets, outputs).
    metrics : sequence of keras.metrics.Metric, default ()
        The metrics ``fit`` reports.
    **compile_options
        More arguments for :meth:`keras.Model.compile`, such as ``jit_compile``.
    """
    model.compile(optimizer=optimizer, loss=loss, metrics=list(metrics), **compile_options)
    optimizer.build(model.trainable_variables)


def _renamed_copy(network: keras.Model, name: str) -> keras.Model:
    """Return a copy of ``network`` with its weights, named ``name`` (unique inside a network)."""
    copy = type(network).from_config({**network.get_config(), "name": name})
    copy.set_weights(network.get_weights())
    return copy


def distillation_network(
    student: keras.Model, teacher: keras.Model, *, augment: bool
) -> keras.Model:
    """Return the network that trains ``student`` with ``teacher`` (see ``distillation.py``).

    Both read the same images, after the random rotation, shift and zoom if
    ``augment``; the output is the student's ten probabilities, then the
    teacher's. The teacher is a frozen copy, always in inference mode.
    """
    frozen = _renamed_copy(teacher, "teacher")
    frozen.trainable = False
    inputs = keras.Input(shape=INPUT_SHAPE, name="image")
    seen = _augment(inputs) if augment else inputs
    both = [student(seen), frozen(seen, training=False)]
    outputs = layers.Concatenate(name="student_and_teacher")(both)
    return keras.Model(inputs, outputs, name=_DISTILLATION_NAME)


def compiled_model(
    recipe: Recipe,
    total_steps: int,
    *,
    teacher: keras.Model | None = None,
    start: keras.Model | None = None,
    **compile_options: Any,
) -> keras.Model:
    """Build the recipe's network and compile it for training, as ``fit`` does.

    Parameters
    ----------
    recipe : Recipe
        The architecture, augmentation, learning rate and schedule.
    total_steps : int
        The number of optimisation steps of the whole training, for the schedule.
    teacher : keras.Model, optional
        A network to distil: the result is then the :func:`distillation_network`
        of a new student and ``teacher``.
    start : keras.Model, optional
        A trained network of the recipe's architecture, without augmentation
        layers, whose weights the new network (or student) starts from.
    **compile_options
        More arguments for :meth:`keras.Model.compile`, such as ``jit_compile``.

    Returns
    -------
    keras.Model
        A new network with a fresh optimizer, the loss and the accuracy metric.
    """
    loss: Any  # a Keras loss: its name, or a function of (targets, outputs)
    accuracy: keras.metrics.Metric
    # a student reads images its distillation network has augmented already
    network = build_model(recipe.architecture, augment=recipe.augment and teacher is None)
    if start is not None:  # the augmentation layers hold no weights
        network.set_weights(start.get_weights())
    if teacher is None:
        model = network
        loss = "sparse_categorical_crossentropy"
        accuracy = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
    else:
        model = distillation_network(network, teacher, augment=recipe.augment)
        loss = distillation_loss
        accuracy = keras.metrics.MeanMetricWrapper(label_accuracy, name="accuracy")
    compile_for_training(
        model,
        build_optimizer(recipe.learning_rate, total_steps, schedule=recipe.schedule),
        loss,
        [accuracy],
        **compile_options,
    )
    return model


def inference_network(model: keras.Model, architecture: Architecture) -> keras.Model:
    """Return the trained ``model`` rebuilt without its training-only augmentation layers.

    The augmentation layers hold no weights and pass images unchanged in
    inference, so the result predicts exactly as ``model`` does. Of a
    :func:`distillation_network`, it returns the student.
    """
    if model.name == _DISTILLATION_NAME:
        student: keras.Model = model.get_layer(f"digitcnn_{architecture}")
        return student
    network = build_model(architecture, augment=False)
    network.set_weights(model.get_weights())
    return network


def ensemble_members(model: keras.Model) -> list[keras.Model]:
    """Return the member networks of an ensemble's network, or ``[model]`` for a single one."""
    if model.name != ENSEMBLE_NAME:
        return [model]
    return [layer for layer in model.layers if isinstance(layer, keras.Model)]


def ensemble_network(networks: list[keras.Model]) -> keras.Model:
    """Return one network that averages the probabilities of ``networks``.

    Members that are ensembles themselves contribute their own members, so
    that every single network has the same weight in the average. Each
    member is copied under the name ``member_<i>``.
    """
    singles = [member for network in networks for member in ensemble_members(network)]
    inputs = keras.Input(shape=INPUT_SHAPE, name="image")
    outputs = []
    for index, single in enumerate(singles):
        outputs.append(_renamed_copy(single, f"member_{index}")(inputs))
    averaged = layers.Average(name="digit")(outputs)
    return keras.Model(inputs, averaged, name=ENSEMBLE_NAME)
