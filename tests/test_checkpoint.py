"""Interrupted training resumes from its last completed epoch."""

from __future__ import annotations

import math
import signal
from pathlib import Path
from typing import Any

import keras
import pytest
from conftest import MNIST_DIR, Split, run_python

from digitcnn import DigitClassifier

N_IMAGES = 2000
EPOCHS = 3
SETTINGS: dict[str, Any] = {"recipe": "fast", "epochs": EPOCHS, "batch_size": 100, "seed": 0}

KILLED_AFTER_TWO_EPOCHS = f"""
import os, signal, sys
import keras
from digitcnn import DigitClassifier, load_mnist

class Kill(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:
            os.kill(os.getpid(), signal.SIGKILL)

(x, y), _ = load_mnist(sys.argv[1])
DigitClassifier(**{SETTINGS!r}).fit(
    x[:{N_IMAGES}], y[:{N_IMAGES}], checkpoint_dir=sys.argv[2], callbacks=[Kill()]
)
"""


class EpochsRun(keras.callbacks.Callback):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.epochs: list[int] = []
        self.iterations_at_start = self.iterations_at_end = -1

    def on_train_begin(self, logs: object = None) -> None:
        self.iterations_at_start = int(self.model.optimizer.iterations)

    def on_train_end(self, logs: object = None) -> None:
        self.iterations_at_end = int(self.model.optimizer.iterations)

    def on_epoch_begin(self, epoch: int, logs: object = None) -> None:
        self.epochs.append(epoch)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_a_killed_training_resumes_after_its_last_epoch(
    train_slice: Split, test_slice: Split, tmp_path: Path
) -> None:
    folder = tmp_path / "checkpoint"
    child = run_python("-c", KILLED_AFTER_TWO_EPOCHS, MNIST_DIR, folder)
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert folder.is_dir()

    x, y = train_slice
    run = EpochsRun()
    clf = DigitClassifier(**SETTINGS).fit(
        x[:N_IMAGES], y[:N_IMAGES], checkpoint_dir=folder, callbacks=[run]
    )
    steps = math.ceil(N_IMAGES / SETTINGS["batch_size"])
    assert run.epochs == [2]  # epochs 0 and 1 were done before the kill
    assert run.iterations_at_start == 2 * steps  # the optimizer's state came back
    assert run.iterations_at_end == EPOCHS * steps
    assert len(clf.history_["loss"]) == EPOCHS
    assert clf.history_["loss"][2] < clf.history_["loss"][0]
    assert clf.score(*test_slice) > 0.8
    assert not folder.exists()  # removed once training completed


def test_a_checkpoint_of_another_training_is_refused(train_slice: Split, tmp_path: Path) -> None:
    x, y = train_slice
    folder = tmp_path / "checkpoint"
    (folder).mkdir()
    (folder / "digitcnn-training.json").write_text('{"fingerprint": {"seed": 7}, "epochs": {}}')
    with pytest.raises(ValueError, match="checkpoint of a different training"):
        DigitClassifier(**SETTINGS).fit(x[:N_IMAGES], y[:N_IMAGES], checkpoint_dir=folder)


def test_a_folder_of_other_files_is_refused_and_kept(train_slice: Split, tmp_path: Path) -> None:
    x, y = train_slice
    (tmp_path / "thesis.tex").write_text("precious")
    with pytest.raises(ValueError, match="holds files that are not a digitcnn checkpoint"):
        DigitClassifier(**SETTINGS).fit(x[:N_IMAGES], y[:N_IMAGES], checkpoint_dir=tmp_path)
    assert (tmp_path / "thesis.tex").read_text() == "precious"
    with pytest.raises(ValueError, match="must be a folder"):
        DigitClassifier(**SETTINGS).fit(
            x[:N_IMAGES], y[:N_IMAGES], checkpoint_dir=tmp_path / "thesis.tex"
        )


FAILING_FIRST_SAVE = f"""
import sys
import keras
from digitcnn import DigitClassifier, load_mnist

def cut(*args, **kwargs):
    raise SystemExit("killed while writing the first checkpoint")

keras.Model.save_weights = cut  # the first epoch's save never completes
(x, y), _ = load_mnist(sys.argv[1])
DigitClassifier(**{SETTINGS!r}).fit(x[:{N_IMAGES}], y[:{N_IMAGES}], checkpoint_dir=sys.argv[2])
"""


def test_a_training_cut_short_in_its_first_save_starts_again(
    train_slice: Split, tmp_path: Path
) -> None:
    folder = tmp_path / "checkpoint"
    child = run_python("-c", FAILING_FIRST_SAVE, MNIST_DIR, folder)
    assert "killed while writing the first checkpoint" in child.stderr
    assert (folder / "digitcnn-training.json").is_file()  # known as this training's folder

    x, y = train_slice
    run = EpochsRun()
    clf = DigitClassifier(**SETTINGS).fit(
        x[:N_IMAGES], y[:N_IMAGES], checkpoint_dir=folder, callbacks=[run]
    )
    assert run.epochs == list(range(EPOCHS))  # nothing was saved, so all epochs run
    assert sorted(clf.history_) == ["accuracy", "loss"]
    assert len(clf.history_["loss"]) == EPOCHS
    assert not folder.exists()
