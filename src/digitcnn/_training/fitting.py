"""Training one network, or the members of an ensemble, as :meth:`DigitClassifier.fit` asks.

Each network is trained on the recipe's compiled model by Keras's ``fit``, or
across several machines by ``across_workers.py``'s loop, and then rebuilt
without its augmentation layers (``networks.inference_network``).
An ensemble's members differ by their seeds (``seed``, ``seed + 1``, ...);
they are trained one after the other, and a checkpoint folder keeps the
finished ones, so that an interrupted ensemble resumes with the member it
was training.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from digitcnn._training.across_workers import (
    fit_across_workers,
    is_chief,
    multi_worker_strategy_active,
)
from digitcnn._training.checkpoint import EnsembleCheckpoint, TrainingCheckpoint
from digitcnn._training.networks import compiled_model, ensemble_network, inference_network
from digitcnn._training.pipeline import TrainingData, invalid_element
from digitcnn._training.recipes import Recipe

__all__ = ["History", "continued_history", "mean_history", "train"]

History = dict[str, list[float]]
"""Loss and metrics per epoch, as in :attr:`keras.callbacks.History.history`."""


def _train_one(
    recipe: Recipe,
    data: TrainingData,
    *,
    seed: int | None,
    verbose: int,
    callbacks: Sequence[keras.callbacks.Callback],
    checkpoint: TrainingCheckpoint | None,
    teacher: keras.Model | None,
    start: keras.Model | None = None,
) -> tuple[keras.Model, History]:
    """Train one network; return it without augmentation layers, and its history.

    It starts from the weights of ``start`` if given. Under a
    ``MultiWorkerMirroredStrategy`` the epochs run in ``across_workers.py``'s
    loop, otherwise in Keras's ``fit``.
    """
    callback_list = list(callbacks)
    if checkpoint is not None:
        callback_list = checkpoint.callbacks() + callback_list
    if seed is not None:
        keras.utils.set_random_seed(seed)
    steps = recipe.epochs * data.steps(recipe.batch_size)
    model = compiled_model(recipe, total_steps=steps, teacher=teacher, start=start)
    done = 0 if checkpoint is None else checkpoint.restore(model)
    try:
        if multi_worker_strategy_active():
            history = fit_across_workers(
                model,
                data,
                epochs=recipe.epochs,
                initial_epoch=done,
                batch_size=recipe.batch_size,
                seed=seed,
                verbose=verbose,
                callbacks=callback_list,
            )
        else:
            history = model.fit(
                **data.fit_arguments,
                epochs=recipe.epochs,
                initial_epoch=done,
                verbose=verbose,
                callbacks=callback_list,
            )
    except Exception as error:
        clear = invalid_element(error)
        if clear is None:
            raise
        raise clear from None
    if checkpoint is None:
        logged = {key: [float(v) for v in values] for key, values in history.history.items()}
    else:  # this run's epochs and those before an interruption
        logged = checkpoint.history(recipe.epochs)
        checkpoint.remove()
    return inference_network(model, recipe.architecture), logged


def _weights_sha256(networks: Sequence[keras.Model]) -> str:
    """Return the SHA-256 of the weights of ``networks``, which identifies them in a checkpoint."""
    weights = [w.tobytes() for network in networks for w in network.get_weights()]
    return hashlib.sha256(b"".join(weights)).hexdigest()


def continued_history(before: History, after: History) -> History:
    """Return the history of a warm start: ``before``'s epochs, then ``after``'s.

    A metric that only one of the two trainings recorded (``val_loss`` of a
    fine-tuning with validation data, say) is NaN for the other's epochs, so
    that every list still has one value per epoch.
    """
    epochs = [max(map(len, history.values()), default=0) for history in (before, after)]
    unknown = [[float("nan")] * count for count in epochs]
    return {
        key: before.get(key, unknown[0]) + after.get(key, unknown[1])
        for key in sorted(set(before) | set(after))
    }


def mean_history(histories: Sequence[History]) -> History:
    """Return the per-epoch mean of the members' histories, for the keys and epochs all have.

    Members trained for different numbers of epochs (joined by ``from_members``)
    are averaged over the epochs of the shortest.
    """
    keys = set.intersection(*(set(history) for history in histories))
    epochs = min((len(v) for history in histories for v in history.values()), default=0)
    return {
        key: [float(v) for v in np.mean([h[key][:epochs] for h in histories], axis=0)]
        for key in sorted(keys)
    }


def train(
    recipe: Recipe,
    data: TrainingData,
    *,
    n_models: int,
    seed: int | None,
    verbose: int,
    callbacks: Sequence[keras.callbacks.Callback],
    checkpoint_dir: Path | None,
    teacher: keras.Model | None,
    start: Sequence[keras.Model] | None = None,
) -> tuple[keras.Model, History]:
    """Train ``n_models`` networks, each distilled from ``teacher`` if given.

    Each starts from the weights of its network in ``start`` (one per member)
    if given. Return one network (an ensemble's if more than one) and the history.

    The history of an ensemble is the per-epoch mean of its members'.
    """
    starts: list[keras.Model | None] = [None] * n_models if start is None else list(start)
    settings: dict[str, Any] = {"recipe": dataclasses.asdict(recipe), "seed": seed}
    if teacher is not None:  # a checkpoint resumes only the distillation of the same teacher
        settings["teacher_sha256"] = _weights_sha256([teacher])
    if start is not None:  # ... and only a warm start from the same networks
        settings["start_sha256"] = _weights_sha256(start)
    options: dict[str, Any] = {
        "verbose": verbose,
        "callbacks": callbacks,
        "teacher": teacher,
    }
    if n_models == 1:
        single = None
        if checkpoint_dir is not None:
            single = TrainingCheckpoint(
                checkpoint_dir, {**settings, **data.identity()}, writer=is_chief()
            )
        return _train_one(recipe, data, seed=seed, checkpoint=single, start=starts[0], **options)

    identity = {**settings, "n_models": n_models, **data.identity()} if checkpoint_dir else {}
    kept = None
    if checkpoint_dir is not None:
        kept = EnsembleCheckpoint(checkpoint_dir, identity, writer=is_chief())
    networks, histories = [], []
    for index in range(n_models):
        member_seed = None if seed is None else seed + index
        found = kept.finished(index) if kept is not None else None
        if found is None:
            member = None
            if kept is not None:
                member = kept.member(index, {**identity, "member": index})
            found = _train_one(
                recipe, data, seed=member_seed, checkpoint=member, start=starts[index], **options
            )
            if kept is not None:
                kept.finish(index, *found)
        networks.append(found[0])
        histories.append(found[1])
    if kept is not None:
        kept.remove()
    return ensemble_network(networks), mean_history(histories)
