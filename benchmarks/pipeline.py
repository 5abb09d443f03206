"""Measure the training-speed options TensorFlow offers on this machine.

Each variant trains the default network for one epoch on a slice of MNIST,
after one untimed warm-up epoch (tracing and compilation are not throughput),
and the variants run interleaved in this one process, several rounds, so that
the machine's noise falls on all of them alike. Ratios are against the
library's own path (NumPy arrays handed to ``Model.fit``):

- ``tf.data``: a pipeline that shuffles, batches and prefetches;
- ``XLA``: ``jit_compile=True`` on the training step;
- ``1 thread``: TensorFlow's intra-op pool limited to one thread (run in a
  subprocess, since thread pools are fixed once TensorFlow starts).

Writes ``results/pipeline.json`` and ``results/pipeline.md``::

    python benchmarks/pipeline.py
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from _common import DATA, RESULTS, describe, environment, write_results

from digitcnn import RECIPES, load_mnist, preprocess_images
from digitcnn._training.networks import compiled_model


def trainer(variant: str, x: np.ndarray, y: np.ndarray, batch: int) -> keras.Model:
    """Return the default recipe's network, compiled as fit does, after an untimed warm-up epoch."""
    model = compiled_model(RECIPES["accurate"], 10_000, jit_compile=variant == "XLA")
    fit_epoch(variant, model, x, y, batch)
    return model


def fit_epoch(variant: str, model: keras.Model, x: np.ndarray, y: np.ndarray, batch: int) -> float:
    """Train ``model`` for one epoch the ``variant`` way; return the seconds it took."""
    start = time.perf_counter()
    if variant == "tf.data":
        dataset = (
            tf.data.Dataset.from_tensor_slices((x, y))
            .shuffle(len(x))
            .batch(batch)
            .prefetch(tf.data.AUTOTUNE)
        )
        model.fit(dataset, epochs=1, verbose=0)
    else:
        model.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=15_000, help="training images per epoch")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--output", type=Path, default=RESULTS, help="folder for the results")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    (x_train, y_train), _ = load_mnist(args.data)
    x, y = preprocess_images(x_train[: args.images]), y_train[: args.images]
    if args.child:  # one timed epoch on the default path, for the 1-thread variant
        model = trainer("NumPy arrays", x, y, 128)
        print(json.dumps(fit_epoch("NumPy arrays", model, x, y, 128)))
        return

    variants = ["NumPy arrays", "tf.data", "XLA"]
    models = {variant: trainer(variant, x, y, 128) for variant in variants}
    seconds: dict[str, list[float]] = {variant: [] for variant in [*variants, "1 thread"]}
    child_env = {**os.environ, "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"}
    command = [sys.executable, __file__, "--child", "--images", str(args.images)]
    command += ["--data", str(args.data)]
    for _ in range(args.rounds):
        for variant in variants:
            seconds[variant].append(fit_epoch(variant, models[variant], x, y, 128))
        child = subprocess.run(command, env=child_env, capture_output=True, text=True, check=True)
        seconds["1 thread"].append(json.loads(child.stdout.strip().splitlines()[-1]))

    base = statistics.median(seconds["NumPy arrays"])
    rows = [
        {
            "variant": variant,
            "median_seconds": round(statistics.median(times), 2),
            "images_per_second": round(args.images / statistics.median(times)),
            "speed_vs_numpy": round(base / statistics.median(times), 2),
            "seconds": [round(t, 2) for t in times],
        }
        for variant, times in seconds.items()
    ]
    lines = [
        "| training input | epoch of "
        f"{args.images:,} images, median (s) | images/s | speed vs NumPy arrays |",
        "| --- | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {r['variant']} | {r['median_seconds']:.1f} | {r['images_per_second']:,} "
        f"| {r['speed_vs_numpy']:.2f}x |"
        for r in rows
    ]
    env = environment()
    lines += ["", f"Median of {args.rounds} interleaved rounds. " + describe(env)]
    write_results(
        args.output,
        "pipeline",
        "Training-speed options",
        "\n".join(lines) + "\n",
        {"variants": rows, "environment": env},
    )


if __name__ == "__main__":
    main()
