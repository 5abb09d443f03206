"""Train the number reader that ships in the package, and record how it was made.

Composes 120,000 numbers of 1-10 digits from the 60,000 MNIST training
images of ``data/mnist`` (checked against the official checksums), trains
:class:`digitcnn.NumberReader` with seed 0, measures it on 1,000 numbers
composed from the test images, and writes
``src/digitcnn/pretrained/numbers.keras`` with ``numbers.json`` beside it
(command, seed, parameters, data checksums, accuracy, versions, time).
About 17 minutes on 2 CPU cores::

    python examples/make_number_reader.py
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from make_pretrained import DATA_DIR, DATA_SOURCE, checked_checksums, write_provenance

from digitcnn import NumberReader, load_mnist
from digitcnn._estimator.decoding import best_path
from digitcnn._training.number_sets import number_examples
from digitcnn._vision.number_frame import NumberFrame

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "src" / "digitcnn" / "pretrained" / "numbers.keras"
CHECK_NUMBERS = 1_000


def exact_accuracy(reader: NumberReader, images: np.ndarray, labels: np.ndarray) -> float:
    """Return the fraction of numbers composed from ``images`` that ``reader`` reads exactly."""
    strips, widths, texts = number_examples(images, labels, CHECK_NUMBERS, 12345)
    right = 0
    for strip, width, text in zip(strips, widths, texts, strict=True):
        frame = NumberFrame(strip[:, :width].astype(np.float32) / 255, 0, 1, 0.0, 1.0)
        read = [int(d.probabilities.argmax()) for d in best_path(reader.step_probabilities(frame))]
        right += read == [int(d) for d in text if d >= 0]
    return right / CHECK_NUMBERS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()

    checksums = checked_checksums(DATA_DIR)
    (x_train, y_train), (x_test, y_test) = load_mnist(DATA_DIR)
    reader = NumberReader(seed=args.seed, verbose=2)
    start = time.perf_counter()
    reader.fit(x_train, y_train)
    seconds = time.perf_counter() - start
    accuracy = exact_accuracy(reader, x_test, y_test)
    print(f"{accuracy:.1%} of test numbers read exactly after {seconds:.0f} s of training")

    args.output.parent.mkdir(parents=True, exist_ok=True)
    reader.save(args.output)
    write_provenance(
        args.output,
        "examples/make_number_reader.py",
        {
            "seed": args.seed,
            "params": reader.get_params(),
            "data": DATA_SOURCE | {"sha256": checksums},
            "train_images": len(x_train),
            "test_metrics": {
                "exact": accuracy,
                "numbers": CHECK_NUMBERS,
                "made_from": "MNIST test digits, 1-10 per number, apart to overlapping",
            },
            "history": reader.history_,
            "train_seconds": round(seconds, 1),
        },
    )
    print(f"wrote {args.output} ({args.output.stat().st_size:,} bytes) and its provenance")


if __name__ == "__main__":
    main()
