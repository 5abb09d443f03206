"""Read whole numbers as people write them: apart, on ruled paper, in form boxes, touching.

Builds photographed numbers from MNIST *test* digits (``number_pictures.py``,
photographed as ``photos.py`` does for ``realworld.py``), one row per way of
writing, and reads each with the pretrained model two ways:

- *connected blobs*: :meth:`DigitClassifier.read_digits` as it is, which
  splits the ink into connected blobs;
- *blobs after rule removal*: the same blob reader on the ink left after the
  prototype in ``rules.py`` has taken out the lines of the paper (rules,
  margin, grid, box walls) instead of ``ink_map``. It measures what line
  removal alone is worth before it moves into the library.

Per row: the fraction of numbers read exactly right, the digit accuracy
(1 - edit distance / number of digits, averaged; 0 at worst) and the median
time to read one number. Writes ``results/numbers.json`` and
``results/numbers.md``::

    python benchmarks/number_reading.py

(Not ``numbers.py``: a script of that name would hide the standard library
module ``numbers`` from NumPy.)
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from _common import DATA, RESULTS, describe, environment, write_results
from number_pictures import compose_in_boxes, compose_number, on_paper
from rules import remove_rules

from digitcnn import DigitClassifier, load_mnist
from digitcnn._estimator.readings import read_ink

Picture = np.ndarray
Reader = Callable[[Picture], str]

# Each row: how many digits a number has, and how its picture is made.
ROWS: dict[str, tuple[tuple[int, int], Callable[[list[np.ndarray], Any], Picture]]] = {
    "digits apart, plain paper": (
        (3, 6),
        lambda digits, rng: on_paper(compose_number(digits, rng)[0], rng, "plain"),
    ),
    "lined paper with a margin": (
        (3, 6),
        lambda digits, rng: on_paper(compose_number(digits, rng)[0], rng, "lined"),
    ),
    "squared paper": (
        (3, 6),
        lambda digits, rng: on_paper(compose_number(digits, rng)[0], rng, "squared"),
    ),
    "one digit per form box": ((3, 6), lambda digits, rng: compose_in_boxes(digits, rng)[0]),
    "touching and overlapping": (
        (3, 6),
        lambda digits, rng: on_paper(
            compose_number(digits, rng, spacing="touching")[0], rng, "plain"
        ),
    ),
    "long numbers, 8-10 digits": (
        (8, 10),
        lambda digits, rng: on_paper(compose_number(digits, rng)[0], rng, "plain"),
    ),
}


def edit_distance(a: str, b: str) -> int:
    """Return the Levenshtein distance between ``a`` and ``b``."""
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, 1):
        current = [i]
        for j, other in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other))
            )
        previous = current
    return previous[-1]


def measure(reader: Reader, pictures: list[Picture], truths: list[str]) -> dict[str, float]:
    """Return the exact and per-digit accuracy of ``reader`` and its median seconds per number."""
    exact, digit_accuracy, seconds = 0, 0.0, []
    for picture, truth in zip(pictures, truths, strict=True):
        start = time.perf_counter()
        read = reader(picture)
        seconds.append(time.perf_counter() - start)
        exact += read == truth
        digit_accuracy += max(0.0, 1 - edit_distance(read, truth) / len(truth))
    return {
        "exact": exact / len(truths),
        "digits": digit_accuracy / len(truths),
        "median_ms": 1000 * statistics.median(seconds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=300, help="numbers per row")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--output", type=Path, default=RESULTS, help="folder for the results")
    args = parser.parse_args()

    _, (x_test, y_test) = load_mnist(args.data)
    rng = np.random.default_rng(args.seed)
    clf = DigitClassifier.pretrained()
    readers: dict[str, Reader] = {
        "connected blobs": lambda picture: clf.read_digits(picture).text,
        "blobs after rule removal": lambda picture: (
            read_ink(clf.predict_proba, remove_rules(picture), 0.0).text
        ),
    }
    clf.read_digits(np.asarray(on_paper(compose_number([x_test[0]], rng)[0], rng, "plain")))
    rows: list[dict[str, Any]] = []
    for row, ((fewest, most), make) in ROWS.items():
        pictures, truths = [], []
        for _ in range(args.numbers):
            chosen = rng.choice(
                len(x_test), size=int(rng.integers(fewest, most + 1)), replace=False
            )
            pictures.append(np.asarray(make([x_test[i] for i in chosen], rng)))
            truths.append("".join(str(d) for d in y_test[chosen]))
        results = {name: measure(read, pictures, truths) for name, read in readers.items()}
        rows.append({"row": row, "numbers": len(pictures), "readers": results})
        print(row, results)

    names = list(readers)
    lines = [
        "| how the number was written | numbers | "
        + " | ".join(f"{name}: exact / digits / ms" for name in names)
        + " |",
        "| --- | ---: | " + " | ".join("---:" for _ in names) + " |",
    ]
    for r in rows:
        cells = [
            f"{r['readers'][n]['exact']:.1%} / {r['readers'][n]['digits']:.1%} / "
            f"{r['readers'][n]['median_ms']:.0f}"
            for n in names
        ]
        lines.append(f"| {r['row']} | {r['numbers']} | " + " | ".join(cells) + " |")
    env = environment()
    lines += [
        "",
        "exact: numbers read exactly right; digits: 1 - edit distance / number of digits, "
        "averaged; ms: median time to read one number.",
        "",
        f"Pretrained model, numbers made from MNIST test digits with seed {args.seed}. "
        + describe(env),
    ]
    write_results(
        args.output,
        "numbers",
        "Reading whole numbers",
        "\n".join(lines) + "\n",
        {"rows": rows, "environment": env},
    )


if __name__ == "__main__":
    main()
