"""Training on several machines under :class:`tf.distribute.MultiWorkerMirroredStrategy`.

Keras 3's ``Model.fit`` fails under this strategy (Keras 3.15 with
TensorFlow 2.21; keras-team/keras#20585, tensorflow/tensorflow#72388), in two
places of its TensorFlow trainer, whatever the model and data:

1. before the first step, ``_maybe_symbolic_build`` averages the first
   distributed batch with a single ``strategy.reduce("MEAN", batch)`` over
   the whole ``(images, labels)`` structure, which the collective all-reduce
   of several workers cannot take (``ValueError: Attempt to convert a value
   (PerReplica...) with an unsupported type``);
2. past that, each step averages its scalar metrics across workers with
   ``strategy.reduce("MEAN", value, axis=0)``, which fails on a scalar
   (``Invalid reduction dimension 0 for input with 0 dimensions``).

No setting of ``fit`` avoids them. TensorFlow's engine works, though, and so
does Keras's own train step under ``strategy.run``: its loss is scaled for
the replicas and its optimizer all-reduces the gradients. So this module
runs the epoch loop itself, as TensorFlow's multi-worker guide does, around
the same compiled model (recipe, loss, optimizer, learning-rate schedule,
augmentation) and the same callbacks that ``fit`` would call.

Two things the strategy does not do are done here: every worker must run
the same number of steps (a worker with one batch fewer would leave the
others waiting in an all-reduce), so the training data repeat and each epoch
is the number of steps one process takes with the same global batch; and
batch normalisation's moving statistics, which each worker updates from its
own share of the batch, are averaged across the workers after every epoch,
so that all workers hold identical weights.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import keras
import tensorflow as tf

from digitcnn._training.pipeline import TrainingData

__all__ = ["fit_across_workers", "is_chief", "multi_worker_strategy_active"]


def multi_worker_strategy_active() -> bool:
    """Return whether the active distribution strategy is a ``MultiWorkerMirroredStrategy``."""
    return isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy)


def is_chief() -> bool:
    """Return whether this process is the chief, which writes the checkpoints and the model.

    The chief is the task of type ``"chief"``, or worker 0 if the cluster
    has none, as in TensorFlow's multi-worker guide.
    """
    strategy = tf.distribute.get_strategy()
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    if resolver.task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return bool(resolver.task_type == "worker" and resolver.task_id == 0 and not has_chief)


def _shared_seed(strategy: tf.distribute.Strategy, seed: int | None) -> int:
    """Return ``seed``, or if None the chief's random draw, the same on every worker.

    Every worker must shuffle the data in the same order, so that the
    strategy's sharding gives each a different share of every batch.
    """
    if seed is not None:
        return seed
    mine = random.randrange(2**31) if is_chief() else 0
    drawn = strategy.reduce("SUM", strategy.run(lambda: tf.constant(mine, tf.int64)), axis=None)
    return int(drawn)


def _distributed(strategy: tf.distribute.Strategy, dataset: tf.data.Dataset) -> Any:
    """Return ``dataset`` distributed by elements: each worker takes its share of each batch."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return strategy.experimental_distribute_dataset(dataset.with_options(options))


def _build(model: keras.Model, data: TrainingData) -> None:
    """Create the loss's and the metrics' variables before the first step.

    Keras creates them while tracing its first step, which a replica context
    cannot do; so one image goes through the model, the loss and the metrics
    here (their results are then reset). The optimizer's variables exist
    already (``networks.compile_for_training``).
    """
    images, labels = data.first_image()
    predicted = model(images, training=False)
    model.compute_loss(x=images, y=labels, y_pred=predicted, training=False)
    model.compute_metrics(images, labels, predicted, sample_weight=None)
    model.reset_metrics()


def _statistics_averager(strategy: tf.distribute.Strategy, model: keras.Model) -> Any:
    """Return a function that sets the moving statistics to their mean over the workers."""
    statistics = [v for v in model.non_trainable_variables if v.dtype.startswith("float")]

    @tf.function  # type: ignore[untyped-decorator]
    def means() -> Any:
        def replica_means() -> list[tf.Tensor]:
            context = tf.distribute.get_replica_context()
            # read_value() + 0.0 makes a plain tensor of the replica's own copy
            return [context.all_reduce("MEAN", v.value.read_value() + 0.0) for v in statistics]

        return strategy.run(replica_means)

    def average() -> None:
        for variable, mean in zip(statistics, means(), strict=True):
            variable.assign(strategy.experimental_local_results(mean)[0])

    return average


def _train_function(strategy: tf.distribute.Strategy, model: keras.Model) -> Any:
    """Return a compiled function: Keras's train step on each replica's batch, logs averaged."""

    @tf.function  # type: ignore[untyped-decorator]
    def run(iterator: Any) -> dict[str, tf.Tensor]:
        logs = strategy.run(model.train_step, args=(next(iterator),))
        return {key: strategy.reduce("MEAN", value, axis=None) for key, value in logs.items()}

    return run


def fit_across_workers(
    model: keras.Model,
    data: TrainingData,
    *,
    epochs: int,
    initial_epoch: int,
    batch_size: int,
    seed: int | None,
    verbose: int,
    callbacks: Sequence[keras.callbacks.Callback],
) -> keras.callbacks.History:
    """Train the compiled ``model`` on ``data`` with the active multi-worker strategy.

    Each epoch runs ``data.steps(batch_size)`` steps of ``batch_size`` images
    (the global batch, shared among the replicas), as :meth:`keras.Model.fit`
    does in one process, from epoch ``initial_epoch`` (after a restored
    checkpoint). The callbacks see the same calls as under ``fit``, with the
    logs averaged over the replicas; only the chief shows progress.

    Returns
    -------
    keras.callbacks.History
        The loss and metrics per epoch, as :meth:`keras.Model.fit` returns them.

    Raises
    ------
    ValueError
        If ``batch_size`` is not a multiple of the number of replicas (each
        must take an equal share, for the loss to be the batch's mean), or
        validation data were given.
    """
    strategy = tf.distribute.get_strategy()
    replicas = strategy.num_replicas_in_sync
    if batch_size % replicas:
        raise ValueError(
            f"batch_size must be a multiple of the {replicas} replicas across the workers, "
            f"so that each takes an equal share of every batch; got {batch_size}"
        )
    if data.fit_arguments["validation_data"] is not None:
        raise ValueError(
            "validation_data is not supported across several workers; evaluate the "
            "fitted classifier (evaluate or score) on the validation images instead"
        )
    steps = data.steps(batch_size)
    shuffling = _shared_seed(strategy, seed)
    _build(model, data)
    training = iter(_distributed(strategy, data.global_batches(batch_size, shuffling)))
    train_step = _train_function(strategy, model)
    average_statistics = _statistics_averager(strategy, model)

    history = keras.callbacks.History()
    callback_list = keras.callbacks.CallbackList(
        [*callbacks, history],
        add_progbar=verbose != 0 and is_chief(),
        model=model,
        verbose=verbose,
        epochs=epochs,
        steps=steps,
    )
    model.stop_training = False
    callback_list.on_train_begin()
    logs: dict[str, float] = {}
    for epoch in range(initial_epoch, epochs):
        model.reset_metrics()
        callback_list.on_epoch_begin(epoch)
        for step in range(steps):
            callback_list.on_train_batch_begin(step)
            logs = {key: float(value) for key, value in train_step(training).items()}
            callback_list.on_train_batch_end(step, logs)
        average_statistics()
        callback_list.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    callback_list.on_train_end(logs)
    return history
