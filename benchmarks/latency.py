"""Prediction latency and throughput of digitcnn against Keras's ``model.predict``.

Single-image latency is the median over repeated calls; batch throughput is
images per second over the 10,000 test images. Baselines run in the same
process: the Keras documentation's "simple MNIST convnet" called through
``model.predict`` (how that example predicts), and digitcnn's own network
called through ``model.predict``, so that the call path and the architecture
can be told apart. Weights do not change the timing, so models are trained
for one short epoch on a slice (or pass ``--model`` to time a saved one).
Writes ``results/latency.json`` and ``results/latency.md``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
from keras import layers

from digitcnn import DigitClassifier, load_mnist, preprocess_images

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"


def keras_example_model() -> keras.Model:
    """The Keras documentation's "simple MNIST convnet"."""
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def median_ms(call: Callable[[], Any], repeats: int) -> float:
    call()  # warm-up: tracing and first-call allocation are not latency
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def throughput(call: Callable[[], Any], n: int, repeats: int = 3) -> float:
    call()
    best = min(_timed(call) for _ in range(repeats))
    return n / best


def _timed(call: Callable[[], Any]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="a saved digitcnn model")
    parser.add_argument("--repeats", type=int, default=200, help="single-image calls timed")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()

    (x_train, y_train), (x_test, _) = load_mnist(ROOT / "data" / "mnist")
    if args.model is not None:
        clf = DigitClassifier.load(args.model)
    else:
        clf = DigitClassifier(epochs=1, seed=0).fit(x_train[:2000], y_train[:2000])
    baseline = keras_example_model()
    images = preprocess_images(x_test)
    one = images[:1]

    rows = [
        {
            "method": "Keras example, model.predict",
            "single_ms": median_ms(lambda: baseline.predict(one, verbose=0), args.repeats),
            "images_per_s": throughput(lambda: baseline.predict(images, verbose=0), len(images)),
        },
        {
            "method": "digitcnn network, model.predict",
            "single_ms": median_ms(lambda: clf.model_.predict(one, verbose=0), args.repeats),
            "images_per_s": throughput(lambda: clf.model_.predict(images, verbose=0), len(images)),
        },
        {
            "method": "digitcnn DigitClassifier.predict",
            "single_ms": median_ms(lambda: clf.predict(x_test[:1]), args.repeats),
            "images_per_s": throughput(lambda: clf.predict(x_test), len(x_test)),
        },
    ]
    base = rows[0]
    for row in rows:
        row["single_speedup"] = base["single_ms"] / row["single_ms"]
        row["throughput_ratio"] = row["images_per_s"] / base["images_per_s"]

    lines = [
        "| method | single image, median (ms) | speed-up | 10,000 images (images/s) | ratio |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {r['method']} | {r['single_ms']:.2f} | {r['single_speedup']:.1f}x "
        f"| {r['images_per_s']:,.0f} | {r['throughput_ratio']:.2f}x |"
        for r in rows
    ]
    table = "\n".join(lines) + "\n"
    print(table)
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "latency.json").write_text(json.dumps(rows, indent=2) + "\n")
    (args.output / "latency.md").write_text("# Prediction latency and throughput\n\n" + table)


if __name__ == "__main__":
    main()
