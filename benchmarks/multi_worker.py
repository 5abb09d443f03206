"""Training across two worker processes on this machine against one process, in one run.

Trains the ``"fast"`` recipe on the first ``--images`` MNIST training images,
once in one process (Keras's ``fit``) and once across two worker processes
on 127.0.0.1 (``multi_worker_strategy`` and a ``MultiWorkerMirroredStrategy``,
digitcnn's own epoch loop), each in a fresh process, and reports the time per
epoch (the median of the epochs after the first, which includes tracing),
the optimisation steps, the test accuracy on the 10,000 test images, and
whether the two workers ended with identical weights::

    python benchmarks/multi_worker.py

On one machine the workers share its cores, so two workers are not faster:
the point of the run is that the results agree, and what the all-reduce costs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from _common import DATA, RESULTS, describe, environment, free_port, write_results

EPOCHS = 4
BATCH = 128

TRAINER = """
import hashlib, json, os, sys, time
import keras
import numpy as np
from digitcnn import DigitClassifier, load_mnist, multi_worker_strategy

data, out = sys.argv[1], sys.argv[5]
images, epochs, batch = (int(arg) for arg in sys.argv[2:5])

class Clock(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seconds = []
    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()
    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)
    def on_train_end(self, logs=None):
        self.steps = int(np.asarray(self.model.optimizer.iterations.numpy()))

(x, y), (x_test, y_test) = load_mnist(data)
clock = Clock()
settings = dict(recipe="fast", epochs=epochs, batch_size=batch, seed=0)
if "TF_CONFIG" in os.environ:
    with multi_worker_strategy(timeout=120).scope():
        clf = DigitClassifier(**settings).fit(x[:images], y[:images], callbacks=[clock])
else:
    clf = DigitClassifier(**settings).fit(x[:images], y[:images], callbacks=[clock])
weights = b"".join(np.asarray(w).tobytes() for w in clf.model_.get_weights())
with open(out, "w") as file:
    json.dump({"epoch_seconds": clock.seconds, "steps": clock.steps,
               "accuracy": clf.score(x_test, y_test),
               "weights_sha256": hashlib.sha256(weights).hexdigest()}, file)
"""


def train(workers: int, images: int, data: Path, folder: Path) -> list[dict[str, Any]]:
    """Train in ``workers`` processes at once (one: no cluster); return each one's figures."""
    addresses = [f"127.0.0.1:{free_port()}" for _ in range(workers)]
    processes = []
    for index in range(workers):
        env = dict(os.environ)
        if workers > 1:
            task = {"type": "worker", "index": index}
            env["TF_CONFIG"] = json.dumps({"cluster": {"worker": addresses}, "task": task})
        out = folder / f"{workers}-{index}.json"
        command = [sys.executable, "-c", TRAINER, str(data), str(images), str(EPOCHS)]
        processes.append((subprocess.Popen([*command, str(BATCH), str(out)], env=env), out))
    for process, _ in processes:
        if process.wait(timeout=1800) != 0:
            raise RuntimeError(f"a training process failed with exit code {process.returncode}")
    return [json.loads(out.read_text()) for _, out in processes]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10_000, help="training images")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--output", type=Path, default=RESULTS, help="folder for the results")
    args = parser.parse_args()

    rows: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for workers in (1, 2):
            rows[f"{workers}"] = train(workers, args.images, args.data, Path(folder))

    def epoch_time(run: dict[str, Any]) -> float:
        return statistics.median(run["epoch_seconds"][1:])

    baseline = epoch_time(rows["1"][0])
    lines = [
        "| training | processes | s per epoch | ratio | steps | test accuracy | same weights |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    names = {"1": "one process (Keras fit)", "2": "two workers (MultiWorkerMirroredStrategy)"}
    for key, runs in rows.items():
        seconds = max(epoch_time(run) for run in runs)
        same = "yes" if len({run["weights_sha256"] for run in runs}) == 1 else "no"
        lines.append(
            f"| {names[key]} | {len(runs)} | {seconds:.1f} | {seconds / baseline:.2f}x "
            f"| {runs[0]['steps']} | {runs[0]['accuracy']:.2%} | {same if len(runs) > 1 else '-'} |"
        )
    env = environment()
    lines += [
        "",
        f'The "fast" recipe, {EPOCHS} epochs of the first {args.images:,} MNIST training '
        f"images in global batches of {BATCH}; each worker takes half of every batch. Seconds "
        "per epoch: the median of the epochs after the first (the slower worker's). Both "
        "workers run on the same 2 shared CPU cores, so two are not faster here: on two "
        "machines each would have its own. Accuracy on the 10,000 test images. "
        f"{describe(env)}",
        "",
    ]
    write_results(
        args.output,
        "multi_worker",
        "Training across two worker processes",
        "\n".join(lines),
        {"environment": env, "epochs": EPOCHS, "batch_size": BATCH, "runs": rows},
    )


if __name__ == "__main__":
    main()
