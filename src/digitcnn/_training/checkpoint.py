"""Resumable training: a checkpoint at the end of every epoch, restored after an interruption.

Keras's :class:`keras.callbacks.BackupAndRestore` saves the weights and the
optimizer's state (two generations, so that a crash while writing one leaves
the other) and, on the next ``fit``, restores them and skips the completed
epochs. digitcnn adds what it lacks: the per-epoch history of the interrupted
run, so that ``history_`` covers every epoch, and a fingerprint of the
training configuration, so that a checkpoint is never restored into a
different training.
"""

from __future__ import annotations

import json
import os
import shutil
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


class _EpochLog(keras.callbacks.Callback):  # type: ignore[misc]  # Keras is untyped
    """Write the fingerprint and the history so far, atomically, after every epoch."""

    def __init__(self, checkpoint: TrainingCheckpoint) -> None:
        super().__init__()
        self.checkpoint = checkpoint

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        entries = {key: float(value) for key, value in (logs or {}).items()}
        self.checkpoint.epochs[str(epoch)] = entries
        self.checkpoint.write()


class TrainingCheckpoint:
    """The checkpoint folder of one training.

    Parameters
    ----------
    folder : path-like
        A new or empty folder, or one that holds a checkpoint of the same
        training. It is deleted when the training completes.
    identity : dict
        What identifies the training: its settings and data.

    Raises
    ------
    ValueError
        If ``folder`` is a file, holds files that are not a digitcnn
        checkpoint, or holds the checkpoint of a different training.
    """

    def __init__(self, folder: os.PathLike[str] | str, identity: dict[str, Any]) -> None:
        self.folder = Path(folder)
        self.identity = identity
        state = _check_folder(self.folder, self.folder / _STATE, identity)
        self.epochs: dict[str, dict[str, float]] = state.get("epochs", {})

    def callbacks(self) -> list[keras.callbacks.Callback]:
        """Return the callbacks that write and restore the checkpoint, in their order."""
        backup = keras.callbacks.BackupAndRestore(str(self.folder), double_checkpoint=True)
        return [_EpochLog(self), backup]

    def write(self) -> None:
        """Write the fingerprint and the history so far."""
        self.folder.mkdir(parents=True, exist_ok=True)
        state = {"fingerprint": self.identity, "epochs": self.epochs}
        with atomic_output(self.folder / _STATE, what="the training checkpoint") as staged:
            staged.write_text(json.dumps(state, indent=2))

    def history(self, epochs: int) -> dict[str, list[float]]:
        """Return the history of epochs ``0 .. epochs - 1``, this run's and earlier runs'."""
        logs = [self.epochs.get(str(epoch), {}) for epoch in range(epochs)]
        keys = sorted({key for log in logs for key in log})
        return {key: [log[key] for log in logs if key in log] for key in keys}


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

    Raises
    ------
    ValueError
        As :class:`TrainingCheckpoint`.
    """

    def __init__(self, folder: os.PathLike[str] | str, identity: dict[str, Any]) -> None:
        self.folder = Path(folder)
        self.identity = identity
        state = _check_folder(self.folder, self.folder / _ENSEMBLE_STATE, identity)
        self.histories: dict[str, dict[str, list[float]]] = state.get("members", {})

    def member(self, index: int, identity: dict[str, Any]) -> TrainingCheckpoint:
        """Return the checkpoint of member ``index`` in training, identified by ``identity``."""
        self._write()  # marks the folder as this ensemble's before the member writes into it
        return TrainingCheckpoint(self.folder / f"member-{index}", identity)

    def finished(self, index: int) -> tuple[keras.Model, dict[str, list[float]]] | None:
        """Return member ``index``'s network and history if it finished, else None."""
        path = self.folder / f"member-{index}.keras"
        if str(index) not in self.histories or not path.is_file():
            return None
        network = keras.saving.load_model(path, compile=False, safe_mode=True)
        return network, self.histories[str(index)]

    def finish(self, index: int, network: keras.Model, history: dict[str, list[float]]) -> None:
        """Keep member ``index``'s network and history."""
        path = self.folder / f"member-{index}.keras"
        with atomic_output(path, what="an ensemble member") as staged:
            network.save(staged)
        self.histories[str(index)] = history
        self._write()

    def remove(self) -> None:
        """Delete the folder: the ensemble is trained."""
        shutil.rmtree(self.folder, ignore_errors=True)

    def _write(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        state = {"fingerprint": self.identity, "members": self.histories}
        with atomic_output(self.folder / _ENSEMBLE_STATE, what="the training checkpoint") as staged:
            staged.write_text(json.dumps(state, indent=2))
