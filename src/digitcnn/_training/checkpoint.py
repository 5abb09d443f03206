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
from pathlib import Path
from typing import Any

import keras

from digitcnn._atomic import atomic_output

__all__ = ["TrainingCheckpoint"]

_STATE = "digitcnn-training.json"
"""The file, inside the checkpoint folder, that holds the fingerprint and history."""


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
        self.epochs: dict[str, dict[str, float]] = {}
        state_file = self.folder / _STATE
        if self.folder.exists() and not self.folder.is_dir():
            raise ValueError(f"checkpoint_dir must be a folder; {self.folder} is a file")
        if state_file.is_file():
            state = json.loads(state_file.read_text())
            if state.get("fingerprint") != identity:
                raise ValueError(
                    f"checkpoint_dir {self.folder} holds the checkpoint of a different "
                    "training (other settings or data); delete it, or pass another folder"
                )
            self.epochs = state["epochs"]
        elif self.folder.is_dir() and any(self.folder.iterdir()):
            raise ValueError(
                f"checkpoint_dir {self.folder} holds files that are not a digitcnn checkpoint; "
                "pass a new or empty folder (it is deleted when training completes)"
            )

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
