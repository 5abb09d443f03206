"""Read photographed, scanned and drawn digits with the pretrained model.

Builds realistic pictures from MNIST *test* digits (see ``photos.py``): ink on
textured, unevenly lit paper in colour, 80-400 pixels, off-centre, rotated,
blurred and JPEG-compressed; drawings with a thin or a thick pen; and digits
scanned at a low resolution (``photos.low_resolution``: 16, 12, 10 and 8
pixels a side, enlarged to 64). Each is read two ways with the same
pretrained model:

- *digitcnn*: :meth:`DigitClassifier.predict_images`, which normalises the
  picture the way MNIST was made (:func:`digitcnn.to_mnist`);
- *naive*: the whole picture turned grey, resized to 28x28 and divided by 255,
  as tutorials do.

Then 4-digit numbers composed from such digits are read with
:meth:`DigitClassifier.read_digits`. Writes ``results/realworld.json`` and
``results/realworld.md``::

    python benchmarks/realworld.py
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from _common import DATA, RESULTS, describe, environment, write_results
from photos import drawing, low_resolution, number_photo, photo
from PIL import Image

from digitcnn import DigitClassifier, load_mnist


def naive(image: Image.Image) -> np.ndarray:
    """Return the tutorial's input: the picture grey, squashed to 28x28, divided by 255."""
    return np.asarray(image.convert("L").resize((28, 28)), dtype=np.float32) / 255


def read_kind(
    clf: DigitClassifier,
    kind: str,
    make: Callable[[np.ndarray], Image.Image],
    x_test: np.ndarray,
    y_test: np.ndarray,
    rng: np.random.Generator,
    count: int,
) -> dict[str, Any]:
    """Return the accuracy of both readings on ``count`` test digits pictured by ``make``."""
    chosen = rng.choice(len(x_test), size=count, replace=False)
    pictures = [make(x_test[i]) for i in chosen]
    truth = y_test[chosen]
    ours = clf.predict_images(pictures)
    theirs = clf.predict(np.stack([naive(p) for p in pictures]))
    row = {
        "kind": kind,
        "pictures": len(pictures),
        "digitcnn_accuracy": float(np.mean(ours == truth)),
        "naive_accuracy": float(np.mean(theirs == truth)),
    }
    print(row)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-kind", type=int, default=500, help="pictures of each kind")
    parser.add_argument("--numbers", type=int, default=200, help="4-digit numbers")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--output", type=Path, default=RESULTS, help="folder for the results")
    parser.add_argument("--model", type=Path, help="a saved model (default: the pretrained one)")
    args = parser.parse_args()

    _, (x_test, y_test) = load_mnist(args.data)
    rng = np.random.default_rng(args.seed)
    clf = DigitClassifier.pretrained() if args.model is None else DigitClassifier.load(args.model)
    kinds = {
        "photo of ink on paper": lambda digit: photo(digit, rng),
        "drawing, thin pen": lambda digit: drawing(digit, rng, "thin"),
        "drawing, thick pen": lambda digit: drawing(digit, rng, "thick"),
    }
    scans = {
        f"scan at {pixels} px": lambda digit, pixels=pixels: low_resolution(digit, pixels)
        for pixels in (16, 12, 10, 8)
    }
    scan_rng = np.random.default_rng([args.seed, 1])  # leaves the photos' draws as they were
    rows = [
        read_kind(clf, kind, make, x_test, y_test, rng, args.per_kind)
        for kind, make in kinds.items()
    ]
    pictures = rows[: len(kinds)]
    total = sum(r["pictures"] for r in pictures)
    rows.insert(
        len(kinds),
        {
            "kind": "all photos and drawings",
            "pictures": total,
            "digitcnn_accuracy": sum(r["digitcnn_accuracy"] * r["pictures"] for r in pictures)
            / total,
            "naive_accuracy": sum(r["naive_accuracy"] * r["pictures"] for r in pictures) / total,
        },
    )

    exact = 0
    for _ in range(args.numbers):
        chosen = rng.choice(len(x_test), size=4, replace=False)
        read = clf.read_digits(number_photo([x_test[i] for i in chosen], rng))
        exact += read.text == "".join(str(d) for d in y_test[chosen])
    numbers = {"numbers": args.numbers, "exactly_right": exact / args.numbers}
    rows += [
        read_kind(clf, kind, make, x_test, y_test, scan_rng, args.per_kind)
        for kind, make in scans.items()
    ]

    lines = [
        "| pictures | count | digitcnn (`predict_images`) | naive (resize, ÷255) |",
        "| --- | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {r['kind']} | {r['pictures']:,} | {r['digitcnn_accuracy']:.1%} "
        f"| {r['naive_accuracy']:.1%} |"
        for r in rows
    ]
    env = environment()
    lines += [
        "",
        "Scans at N px: the test digit reduced to N x N pixels by averaging (a box filter) "
        "and enlarged to 64 x 64, as a low-resolution scan or a distant photo gives it; the "
        "targets are 97% at 10 px and 93% at 8 px.",
        "",
        f"4-digit numbers read exactly right by `read_digits`: "
        f"{numbers['exactly_right']:.1%} of {args.numbers}.",
        "",
        f"{'Pretrained model' if args.model is None else args.model.name}, pictures made from "
        f"MNIST test digits with seed {args.seed}. " + describe(env),
    ]
    write_results(
        args.output,
        "realworld",
        "Reading photographed and drawn digits",
        "\n".join(lines) + "\n",
        {"single_digits": rows, "numbers": numbers, "environment": env},
    )


if __name__ == "__main__":
    main()
