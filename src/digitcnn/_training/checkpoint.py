"""Resumable training: a checkpoint at the end of every epoch, restored after an interruption.

After each epoch the network's weights and the optimizer's state are saved
(``model.save_weights``) under a new name, then a small JSON file that names
them, the per-epoch history so far and a fingerprint of the training
configuration; then the previous weights are deleted. Each file is written
atomically, so a crash at any point leaves a complete, consistent checkpoint:
the weights the JSON file names, of the epochs it records. The next ``fit``
restores them and trains the remaining epochs, and a checkpoint is never
restored into a different training.

Across several machines (``across_workers.py``) every worker restores from
the folder, which must be shared, and only the chief writes it, as
TensorFlow's multi-worker guide prescribes.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras

from digitcnn._atomic import atomic_output

__all__ = ["EnsembleCheckpoint", "TrainingCheckpoint"]

_STATE = "digitcnn-training.json"
"""The file, inside the checkpoint folder, that holds the fingerprint and history."""

_ENSEMBLE_STATE = "digitcnn-ensemble.json"
"""The file, inside an ensemble's checkpoint folder, that holds its fingerprint and members."""


def _check_folder(folder: Path, state_file: Path, identity: dict[str, Any]) -> dict[str, Any]:
    """Return the state saved in ``state_file`` (empty if none) once ``folder`` is checked.

    Raises
    ------
    ValueError
        If ``folder`` is a file, holds files that are not a digitcnn
        checkpoint, or holds the checkpoint of a different training.
    """
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"checkpoint_dir must be a folder; {folder} is a file")
    if state_file.is_file():
        state: dict[str, Any] = json.loads(state_file.read_text())
        if state.get("fingerprint") != identity:
            raise ValueError(
                f"checkpoint_dir {folder} holds the checkpoint of a different "
                "training (other settings or data); delete it, or pass another folder"
            )
        return state
    if folder.is_dir() and any(folder.iterdir()):
        raise ValueError(
            f"checkpoint_dir {folder} holds files that are not a digitcnn checkpoint; "
            "pass a new or empty folder (it is deleted when training completes)"
        )
    return {}


def _save_aside(save: Callable[[Path], None], name: str) -> None:
    """Call ``save`` on a temporary path named ``name``, then delete it.

    What a worker other than the chief does: saving can take part in the
    workers' collective operations, so every worker saves, but only the
    chief's file is kept (TensorFlow's multi-worker guide).
    """
    with tempfile.TemporaryDirectory(prefix="digitcnn-worker-") as folder:
        save(Path(folder) / name)


class _EpochCheckpoint(keras.callbacks.Callback):  # type: ignore[misc]  # Keras is untyped
    """Save the checkpoint after every epoch."""

    def __init__(self, checkpoint: TrainingCheckpoint) -> None:
        super().__init__()
        self.checkpoint = checkpoint

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.checkpoint.save(self.model, epoch, logs or {})


class TrainingCheckpoint:
    """The checkpoint folder of one training.

    Parameters
    ----------
    folder : path-like
        A new or empty folder, or one that holds a checkpoint of the same
        training. It is deleted when the training completes.
    identity : dict
        What identifies the training: its settings and data.
    writer : bool, default True
        Whether this process writes the checkpoint (across several workers,
        only the chief does); every process can restore it.

    Raises
    ------
    ValueError
        If ``folder`` is a file, holds files that are not a digitcnn
        checkpoint, or holds the checkpoint of a different training.
    """

    def __init__(
        self, folder: os.PathLike[str] | str, identity: dict[str, Any], *, writer: bool = True
    ) -> None:
        self.folder = Path(folder)
        self.identity = identity
        self.writer = writer
        state = _check_folder(self.folder, self.folder / _STATE, identity)
        self.weights: str | None = state.get("weights")
        self.epochs: dict[str, dict[str, float]] = state.get("epochs", {}) if self.weights else {}

    def callbacks(self) -> list[keras.callbacks.Callback]:
        """Return the callback that saves the checkpoint after every epoch."""
        return [_EpochCheckpoint(self)]

    def restore(self, model: keras.Model) -> int:
        """Load the saved weights and optimizer state into ``model``; return the epochs done.

        A new checkpoint's folder gets its JSON file now, with no weights yet,
        so that it is known as this training's even if the first save is cut
        short.
        """
        if self.weights is None:
            if self.writer:
                self.write()
            return 0
        model.load_weights(self.folder / self.weights)
        return len(self.epochs)

    def save(self, model: keras.Model, epoch: int, logs: dict[str, Any]) -> None:
        """Record epoch ``epoch`` (numbered from 0), its ``logs``, and ``model``'s state."""
        self.epochs[str(epoch)] = {key: float(value) for key, value in logs.items()}
        previous, self.weights = self.weights, f"epoch-{epoch + 1}.weights.h5"
        if not self.writer:
            _save_aside(model.save_weights, self.weights)
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        with atomic_output(self.folder / self.weights, what="the training checkpoint") as staged:
            model.save_weights(staged)
        self.write()
        if previous is not None and previous != self.weights:
            (self.folder / previous).unlink(missing_ok=True)

    def write(self) -> None:
        """Write the fingerprint, the history so far and the name of the weights."""
        self.folder.mkdir(parents=True, exist_ok=True)
        state = {"fingerprint": self.identity, "weights": self.weights, "epochs": self.epochs}
        with atomic_output(self.folder / _STATE, what="the training checkpoint") as staged:
            staged.write_text(json.dumps(state, indent=2))

    def history(self, epochs: int) -> dict[str, list[float]]:
        """Return the history of epochs ``0 .. epochs - 1``, this run's and earlier runs'."""
        logs = [self.epochs.get(str(epoch), {}) for epoch in range(epochs)]
        keys = sorted({key for log in logs for key in log})
        return {key: [log[key] for log in logs if key in log] for key in keys}

    def remove(self) -> None:
        """Delete the folder (if this process writes it): the training is complete."""
        if self.writer:
            shutil.rmtree(self.folder, ignore_errors=True)


class EnsembleCheckpoint:
    """The checkpoint folder of an ensemble's training: finished members, and the current one's.

    Each finished member's network is kept as ``member-<i>.keras`` with its
    history; the member in training has a :class:`TrainingCheckpoint` in
    ``member-<i>/``. A resumed training loads the finished members and goes
    on with the next.

    Parameters
    ----------
    folder : path-like
        A new or empty folder, or one that holds a checkpoint of the same
        ensemble training. It is deleted by :meth:`remove`.
    identity : dict
        What identifies the training: its settings and data.
    writer : bool, default True
        Whether this process writes the checkpoint, as in
        :class:`TrainingCheckpoint`.

    Raises
    ------
    ValueError
        As :class:`TrainingCheckpoint`.
    """

    def __init__(
        self, folder: os.PathLike[str] | str, identity: dict[str, Any], *, writer: bool = True
    ) -> None:
        self.folder = Path(folder)
        self.identity = identity
        self.writer = writer
        state = _check_folder(self.folder, self.folder / _ENSEMBLE_STATE, identity)
        self.histories: dict[str, dict[str, list[float]]] = state.get("members", {})

    def member(self, index: int, identity: dict[str, Any]) -> TrainingCheckpoint:
        """Return the checkpoint of member ``index`` in training, identified by ``identity``."""
        self._write()  # marks the folder as this ensemble's before the member writes into it
        return TrainingCheckpoint(self.folder / f"member-{index}", identity, writer=self.writer)

    def finished(self, index: int) -> tuple[keras.Model, dict[str, list[float]]] | None:
        """Return member ``index``'s network and history if it finished, else None."""
        path = self.folder / f"member-{index}.keras"
        if str(index) not in self.histories or not path.is_file():
            return None
        network = keras.saving.load_model(path, compile=False, safe_mode=True)
        return network, self.histories[str(index)]

    def finish(self, index: int, network: keras.Model, history: dict[str, list[float]]) -> None:
        """Keep member ``index``'s network and history."""
        self.histories[str(index)] = history
        if not self.writer:
            _save_aside(network.save, f"member-{index}.keras")
            return
        path = self.folder / f"member-{index}.keras"
        with atomic_output(path, what="an ensemble member") as staged:
            network.save(staged)
        self._write()

    def remove(self) -> None:
        """Delete the folder (if this process writes it): the ensemble is trained."""
        if self.writer:
            shutil.rmtree(self.folder, ignore_errors=True)

    def _write(self) -> None:
        if not self.writer:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        state = {"fingerprint": self.identity, "members": self.histories}
        with atomic_output(self.folder / _ENSEMBLE_STATE, what="the training checkpoint") as staged:
            staged.write_text(json.dumps(state, indent=2))
