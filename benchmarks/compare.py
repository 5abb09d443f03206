"""Train two plain-Keras baselines and digitcnn's recipes side by side on MNIST.

Every contender is trained in this one process on the same arrays (the full
60,000 training images, scaled to [0, 1]) and evaluated on the 10,000 test
images at the end of each epoch, outside the timed part. The table gives, for
each: the training time until the test accuracy first reached 99.0%, the final
test accuracy, the epochs, the parameters, the median time of predicting one
image, the throughput of predicting the 10,000 test images, and the size of
the saved ``.keras`` file; ratios are against the Keras example. For the
default recipe it also exports TensorFlow Lite models, float and int8, and
measures their size, accuracy and agreement with the Keras model.

The baselines, written here in plain Keras as their sources give them:

- *classic tutorial*: one 28-filter 3x3 convolution, 2x2 max-pooling, dense
  128 ReLU, dropout 0.2, softmax; Adam, batch 32, 10 epochs; predicts with
  ``model.predict``.
- *Keras example*: the Keras documentation's "simple MNIST convnet" (conv 32,
  pool, conv 64, pool, dropout 0.5, softmax); Adam, batch 128, 15 epochs,
  validation split 0.1; predicts with ``model.predict``.

Writes ``results/compare.json`` and ``results/compare.md``. About 30 minutes
on 2 CPU cores::

    python benchmarks/compare.py
    python benchmarks/compare.py --only fast "Keras example"   # a subset
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
from _common import DATA, RESULTS, describe, environment, write_results
from keras import layers

from digitcnn import DigitClassifier, TFLiteClassifier, load_mnist, preprocess_images

TARGET = 0.99
KERAS_EXAMPLE = "Keras example"


class EpochLog(keras.callbacks.Callback):  # type: ignore[misc]
    """Time each epoch's training and evaluate on the test set after it, untimed."""

    def __init__(self, x_test: np.ndarray, y_test: np.ndarray) -> None:
        super().__init__()
        self.x_test, self.y_test = x_test, y_test
        self.seconds = 0.0
        self.curve: list[tuple[float, float]] = []  # (cumulative training seconds, accuracy)

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        self.seconds += time.perf_counter() - self.start
        probabilities = self.model.predict(self.x_test, batch_size=1000, verbose=0)
        accuracy = float(np.mean(probabilities.argmax(axis=1) == self.y_test))
        self.curve.append((self.seconds, accuracy))
        print(f"  epoch {epoch + 1}: {self.seconds:6.1f} s, test accuracy {accuracy:.4f}")


@dataclass
class Trained:
    """A trained contender, with how its users predict and save."""

    predict: Callable[[np.ndarray], Any]
    model: keras.Model
    classifier: DigitClassifier | None = None


def classic_tutorial(x: np.ndarray, y: np.ndarray, log: EpochLog) -> Trained:
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(28, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dropout(0.2),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=32, epochs=10, verbose=0, callbacks=[log])
    return Trained(lambda images: model.predict(images, verbose=0), model)


def keras_example(x: np.ndarray, y: np.ndarray, log: EpochLog) -> Trained:
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
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    one_hot = keras.utils.to_categorical(y, 10)
    model.fit(
        x, one_hot, batch_size=128, epochs=15, validation_split=0.1, verbose=0, callbacks=[log]
    )
    return Trained(lambda images: model.predict(images, verbose=0), model)


def recipe(name: str, seed: int) -> Callable[[np.ndarray, np.ndarray, EpochLog], Trained]:
    def train(x: np.ndarray, y: np.ndarray, log: EpochLog) -> Trained:
        clf = DigitClassifier(recipe=name, seed=seed).fit(x, y, callbacks=[log])
        return Trained(clf.predict, clf.model_, clf)

    return train


def median_ms(call: Callable[[], Any], repeats: int) -> float:
    """Median wall time of ``call`` in milliseconds, after one untimed warm-up call."""
    call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def measure(name: str, train: Any, data: Any, repeats: int, folder: Path) -> dict[str, Any]:
    x, y, x_test, y_test = data
    print(f"{name}:")
    log = EpochLog(x_test, y_test)
    trained = train(x, y, log)
    reached = [seconds for seconds, accuracy in log.curve if accuracy >= TARGET]
    one = x_test[:1]
    batch_ms = median_ms(lambda: trained.predict(x_test), 3)
    path = folder / f"{name.replace(' ', '_')}.keras"
    if trained.classifier is not None:
        trained.classifier.save(path)
    else:
        trained.model.save(path)
    return {
        "name": name,
        "epochs": len(log.curve),
        "train_seconds": round(log.seconds, 1),
        "seconds_to_99": round(reached[0], 1) if reached else None,
        "final_accuracy": log.curve[-1][1],
        "best_accuracy": max(accuracy for _, accuracy in log.curve),
        "parameters": int(trained.model.count_params()),
        "single_image_ms": round(median_ms(lambda: trained.predict(one), repeats), 3),
        "images_per_second": round(len(x_test) / batch_ms * 1000),
        "keras_file_bytes": path.stat().st_size,
        "curve": log.curve,
    }


def tflite_rows(clf: DigitClassifier, data: Any, folder: Path) -> list[dict[str, Any]]:
    x, _, x_test, y_test = data
    reference = clf.predict(x_test)
    rows = []
    for quantize in (None, "int8"):
        path = folder / f"model_{quantize or 'float'}.tflite"
        clf.export(path, format="tflite", quantize=quantize, representative_images=x)
        lite = TFLiteClassifier(path)
        predicted = lite.predict(x_test)
        single = median_ms(lambda lite=lite: lite.predict(x_test[:1]), 200)
        rows.append(
            {
                "model": f"TFLite {quantize or 'float32'}",
                "bytes": path.stat().st_size,
                "accuracy": float(np.mean(predicted == y_test)),
                "agreement": float(np.mean(predicted == reference)),
                "single_image_ms": round(single, 3),
            }
        )
    return rows


def ratio(value: float | None, base: float | None) -> str:
    return "—" if value is None or base is None else f"{value / base:.1f}x"


def markdown(rows: list[dict[str, Any]], lite: list[dict[str, Any]], env: dict[str, Any]) -> str:
    base = next((r for r in rows if r["name"] == KERAS_EXAMPLE), None)

    def of(key: str) -> Any:
        return None if base is None else base[key]

    lines = [
        "| contender | epochs | time to 99.0% (s) | speed-up | final accuracy "
        "| training (s) | parameters | one image (ms) | speed-up | 10,000 images (img/s) "
        "| ratio | .keras size (KB) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        t99 = r["seconds_to_99"]
        lines.append(
            f"| {r['name']} | {r['epochs']} | {'never' if t99 is None else f'{t99:.0f}'} "
            f"| {ratio(of('seconds_to_99'), t99)} | {r['final_accuracy']:.2%} "
            f"| {r['train_seconds']:.0f} | {r['parameters']:,} | {r['single_image_ms']:.2f} "
            f"| {ratio(of('single_image_ms'), r['single_image_ms'])} "
            f"| {r['images_per_second']:,} "
            f"| {ratio(r['images_per_second'], of('images_per_second'))} "
            f"| {r['keras_file_bytes'] / 1024:.0f} |"
        )
    if lite:
        lines += [
            "",
            "| default model exported | size (KB) | test accuracy | agrees with Keras "
            "| one image (ms) |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        lines += [
            f"| {r['model']} | {r['bytes'] / 1024:.0f} | {r['accuracy']:.2%} "
            f"| {r['agreement']:.2%} | {r['single_image_ms']:.2f} |"
            for r in lite
        ]
    lines += ["", "Speed-ups and ratios are against the Keras example. " + describe(env)]
    return "\n".join(lines) + "\n"


def main() -> None:
    contenders: dict[str, Any] = {
        "classic tutorial": classic_tutorial,
        KERAS_EXAMPLE: keras_example,
        "digitcnn fast": recipe("fast", 0),
        "digitcnn accurate (default)": recipe("accurate", 0),
        "digitcnn classic": recipe("classic", 0),
    }
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=list(contenders), help="run only these")
    parser.add_argument("--repeats", type=int, default=200, help="single-image calls timed")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--output", type=Path, default=RESULTS, help="folder for the results")
    args = parser.parse_args()

    (x_train, y_train), (x_test, y_test) = load_mnist(args.data)
    data = (preprocess_images(x_train), y_train, preprocess_images(x_test), y_test)
    rows, lite = [], []
    with tempfile.TemporaryDirectory() as folder:
        for name, train in contenders.items():
            if args.only and name not in args.only:
                continue
            keras.utils.set_random_seed(0)
            rows.append(measure(name, train, data, args.repeats, Path(folder)))
            if name.endswith("(default)"):
                default = DigitClassifier.load(Path(folder) / f"{name.replace(' ', '_')}.keras")
                lite = tflite_rows(default, data, Path(folder))
    env = environment()
    write_results(
        args.output,
        "compare",
        "digitcnn against plain-Keras baselines on MNIST",
        markdown(rows, lite, env),
        {"contenders": rows, "tflite": lite, "environment": env},
    )


if __name__ == "__main__":
    main()
