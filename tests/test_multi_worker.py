"""Two worker processes on localhost train one model together (MultiWorkerMirroredStrategy)."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import MNIST_DIR, Split, free_port

from digitcnn import DigitClassifier, multi_worker_strategy
from digitcnn._training.cluster import TF_CONFIG, read_tf_config

N_IMAGES = 2000
EPOCHS = 3
BATCH = 100
SETTINGS: dict[str, Any] = {"recipe": "fast", "epochs": EPOCHS, "batch_size": BATCH, "seed": 0}
STEPS = math.ceil(N_IMAGES / BATCH)
TIMEOUT = 240  # seconds for one worker process, start to end

WORKER = f"""
import hashlib, json, os, signal, sys
import keras
import numpy as np
import tensorflow as tf
from digitcnn import DigitClassifier, load_mnist, multi_worker_strategy

out, folder, kill_after = sys.argv[1], sys.argv[2], int(sys.argv[3])
strategy = multi_worker_strategy(timeout=60)
task = json.loads(os.environ["TF_CONFIG"])["task"]["index"]

class Run(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.epochs, self.start, self.end = [], -1, -1
    def on_train_begin(self, logs=None):
        self.start = int(self.model.optimizer.iterations.numpy())
    def on_train_end(self, logs=None):
        self.end = int(self.model.optimizer.iterations.numpy())
    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)
    def on_epoch_end(self, epoch, logs=None):
        if task == 1 and epoch == kill_after:
            os.kill(os.getpid(), signal.SIGKILL)

(x, y), (x_test, y_test) = load_mnist({str(MNIST_DIR)!r})
data = tf.data.Dataset.from_tensor_slices((x[:{N_IMAGES}], y[:{N_IMAGES}]))
run = Run()
with strategy.scope():
    clf = DigitClassifier(**{SETTINGS!r}).fit(data, checkpoint_dir=folder, callbacks=[run])
if task == 0:
    clf.save(os.path.join(os.path.dirname(out), "model.keras"))
weights = b"".join(np.asarray(w).tobytes() for w in clf.model_.get_weights())
with open(out, "w") as file:
    json.dump({{
        "weights_sha256": hashlib.sha256(weights).hexdigest(),
        "epochs": run.epochs, "start": run.start, "end": run.end,
        "history": clf.history_, "score": clf.score(x_test[:1000], y_test[:1000]),
    }}, file)
"""


def tf_config(ports: list[int], index: int) -> str:
    """Return the TF_CONFIG of worker ``index`` in a cluster on ``ports`` of localhost."""
    workers = [f"127.0.0.1:{port}" for port in ports]
    return json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}})


def start_workers(
    folder: Path, tmp_path: Path, *, kill_after: int = -1
) -> list[subprocess.Popen[str]]:
    """Start two workers of one cluster; each writes ``result-<i>.json`` in ``tmp_path``.

    They train on a ``tf.data.Dataset`` of the first training images; worker
    1 kills itself after epoch ``kill_after`` (never if it is -1).
    """
    ports = [free_port(), free_port()]
    arguments = [str(folder), str(kill_after)]
    return [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(tmp_path / f"result-{i}.json"), *arguments],
            env={**os.environ, TF_CONFIG: tf_config(ports, i)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i in range(2)
    ]


def finish(workers: list[subprocess.Popen[str]], tmp_path: Path) -> list[dict[str, Any]]:
    """Wait for ``workers`` to succeed (killing them all if one fails) and return their results."""
    try:
        for worker in workers:
            output, _ = worker.communicate(timeout=TIMEOUT)
            assert worker.returncode == 0, output[-3000:]
    finally:
        for worker in workers:
            worker.kill()
            worker.wait()
    return [json.loads((tmp_path / f"result-{i}.json").read_text()) for i in range(2)]


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_two_workers_train_one_model_and_resume_it_when_one_dies(
    mnist: tuple[Split, Split], tmp_path: Path
) -> None:
    folder = tmp_path / "checkpoint"
    # worker 1 dies after epoch 1, and both start again from the checkpoint
    workers = start_workers(folder, tmp_path, kill_after=1)
    try:
        assert workers[1].wait(timeout=TIMEOUT) == -signal.SIGKILL
        state = folder / "digitcnn-training.json"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the chief has saved epoch 1 before it waits
            if state.is_file() and len(json.loads(state.read_text())["epochs"]) == 2:
                break
            time.sleep(0.5)
    finally:
        for worker in workers:
            worker.kill()
            worker.wait()
    assert sorted(json.loads(state.read_text())["epochs"]) == ["0", "1"]  # from the first

    results = finish(start_workers(folder, tmp_path), tmp_path)
    first, second = results
    assert first["weights_sha256"] == second["weights_sha256"]  # one model, not two
    assert first["history"] == second["history"]
    for result in results:
        assert result["epochs"] == [2]  # epochs 0 and 1 came from the checkpoint
        assert result["start"] == 2 * STEPS
        assert result["end"] == EPOCHS * STEPS  # the steps of one process with the same batch
        assert len(result["history"]["loss"]) == EPOCHS
        assert result["score"] > 0.85
    assert not folder.exists()  # removed by the chief when done

    (x_train, y_train), (x_test, y_test) = mnist
    alone = DigitClassifier(**SETTINGS).fit(x_train[:N_IMAGES], y_train[:N_IMAGES])
    single = alone.score(x_test[:1000], y_test[:1000])
    assert abs(first["score"] - single) < 0.04  # the same band as one process
    saved = DigitClassifier.load(tmp_path / "model.keras")  # written by the chief
    assert saved.score(x_test[:1000], y_test[:1000]) == first["score"]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (None, "TF_CONFIG must be set"),
        ("{'cluster': 1}", "TF_CONFIG must be JSON"),
        ('{"task": {"type": "worker"}}', "must be an object with a 'cluster'"),
        ('{"cluster": {"ps": ["a:1"]}, "task": {}}', "may hold the jobs"),
        ('{"cluster": {"worker": ["localhost"]}}', "'host:port' string; got 'localhost'"),
        ('{"cluster": {"worker": ["a:1", "a:1"]}}', "lists an address twice"),
        ('{"cluster": {"worker": ["a:1"]}}', "must say this worker's 'task'"),
        ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "chief"}}', "one of the cluster's"),
        ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 1}}', "0 to 0"),
        ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": "0"}}', "integer"),
    ],
)
def test_a_malformed_tf_config_is_refused_clearly(config: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        read_tf_config(config)


def test_a_worker_that_cannot_reach_the_others_stops_within_its_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(TF_CONFIG, tf_config([free_port(), free_port()], 0))
    start = time.monotonic()
    with pytest.raises(TimeoutError, match=r"could not reach 127\.0\.0\.1:\d+ within 1 s"):
        multi_worker_strategy(timeout=1)
    assert time.monotonic() - start < 10


@pytest.mark.parametrize("timeout", [0, -1.0, "60", True])
def test_the_timeout_must_be_a_positive_number(timeout: Any) -> None:
    with pytest.raises(ValueError, match="timeout must be a positive number"):
        multi_worker_strategy(timeout=timeout)


UNEVEN_BATCH = """
import hashlib, json, os, sys
import keras
import numpy as np
os.environ["TF_CONFIG"] = sys.argv[2]
from digitcnn import DigitClassifier, load_mnist, multi_worker_strategy
strategy = multi_worker_strategy(timeout=60)
(x, y), _ = load_mnist(sys.argv[1])

class Steps(keras.callbacks.Callback):
    def on_train_end(self, logs=None):
        self.steps = int(self.model.optimizer.iterations.numpy())

with strategy.scope():
    try:
        DigitClassifier(recipe="fast", epochs=1, batch_size=101).fit(x[:500], y[:500])
    except ValueError as error:
        print("ValueError:", error)
    # then arrays, not a dataset, in batches the workers can share: one model from epoch 0
    steps = Steps()
    clf = DigitClassifier(recipe="fast", epochs=2, batch_size=100, seed=0).fit(
        x[:500], y[:500], callbacks=[steps]
    )
weights = b"".join(np.asarray(w).tobytes() for w in clf.model_.get_weights())
print("trained", json.dumps({
    "weights_sha256": hashlib.sha256(weights).hexdigest(),
    "steps": steps.steps,
    "epochs": len(clf.history_["loss"]),
}))
"""


def test_a_batch_that_the_workers_cannot_share_equally_is_refused_and_arrays_train_one_model(
    tmp_path: Path,
) -> None:
    ports = [free_port(), free_port()]
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", UNEVEN_BATCH, str(MNIST_DIR), tf_config(ports, i)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i in range(2)
    ]
    try:
        outputs = [worker.communicate(timeout=TIMEOUT)[0] for worker in workers]
    finally:
        for worker in workers:
            worker.kill()
            worker.wait()
    for output in outputs:
        assert "ValueError: batch_size must be a multiple of the 2 replicas" in output, output[
            -2000:
        ]
        assert "got 101" in output
    trained = [
        json.loads(line.removeprefix("trained "))
        for output in outputs
        for line in output.splitlines()
        if line.startswith("trained ")
    ]
    assert len(trained) == 2, outputs[0][-2000:]
    assert trained[0]["weights_sha256"] == trained[1]["weights_sha256"]  # one model, not two
    for result in trained:
        assert result["steps"] == 2 * 5  # two epochs from the first, of 500 images in 100s
        assert result["epochs"] == 2
