"""The docs' figures, drawn by digitcnn itself when the docs are built (``conf.py`` calls this).

Into ``docs/_generated/`` (not kept in git; drawn again when missing):

- ``photos.png``: photographed, scanned and drawn digits beside the 28x28
  image :func:`digitcnn.to_mnist` made of each, and what the pretrained
  model read;
- ``photos_misread.png``: the pictures among the first few hundred that it
  misreads, the same way;
- ``history.png``, ``confusion.png``, ``misclassified.png``: the pretrained
  model's training curves (its saved history, not a new training), its
  confusion matrix and misclassified digits on the 10,000 MNIST test images,
  drawn by ``examples/plot_results.py``.

The pictures are ``benchmarks/photos.py``'s, made from MNIST *test* digits.
Run by hand with ``python docs/figures.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "_generated"
NAMES = ("photos.png", "photos_misread.png", "history.png", "confusion.png", "misclassified.png")


def _pictures(x_test: Any, seed: int, count: int) -> list[tuple[Any, int]]:
    """Return ``count`` realistic pictures of test digits (index i: photo, thin or thick pen)."""
    sys.path.insert(0, str(HERE.parent / "benchmarks"))
    from photos import drawing, photo

    rng = np.random.default_rng(seed)
    made = []
    for i in range(count):
        kind = i % 3
        picture = (
            photo(x_test[i], rng)
            if kind == 0
            else drawing(x_test[i], rng, ("thin", "thick")[kind - 1])
        )
        made.append((picture, i))
    return made


def _grid(pictures: list[tuple[Any, int, int, int]], title: str, path: Path) -> None:
    """Save pictures in pairs of columns: the picture, then what to_mnist made of it."""
    from digitcnn import to_mnist
    from digitcnn._plots import pyplot

    plt = pyplot()
    columns = 4
    rows = max(1, -(-len(pictures) // columns))
    figure, axes = plt.subplots(rows, 2 * columns, figsize=(2 * columns * 1.3, rows * 1.55))
    for ax in np.atleast_1d(axes).ravel():
        ax.set_axis_off()
    for k, (picture, _, truth, read) in enumerate(pictures):
        row, column = divmod(k, columns)
        left, right = np.atleast_2d(axes)[row, 2 * column : 2 * column + 2]
        left.imshow(picture)
        left.set_title(f"written {truth}", fontsize=8)
        right.imshow(to_mnist(picture), cmap="gray", vmin=0, vmax=1)
        right.set_title(f"read {read}", fontsize=8, color="black" if read == truth else "tab:red")
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


def make_figures(output: Path = OUTPUT) -> None:
    """Draw every figure that is missing from ``output``."""
    if all((output / name).exists() for name in NAMES):
        return
    from digitcnn import DigitClassifier, load_mnist

    output.mkdir(exist_ok=True)
    clf = DigitClassifier.pretrained()
    _, (x_test, y_test) = load_mnist(HERE.parent / "data" / "mnist")

    made = _pictures(x_test, seed=0, count=300)
    readings = clf.predict_images([picture for picture, _ in made])
    read = [(p, i, int(y_test[i]), int(r)) for (p, i), r in zip(made, readings, strict=True)]
    _grid(
        read[:12],
        "Photos and drawings, and the 28x28 image to_mnist made of each",
        output / "photos.png",
    )
    misread = [r for r in read if r[2] != r[3]][:8]
    _grid(
        misread,
        f"The {len(misread)} of {len(read)} pictures the pretrained model misreads",
        output / "photos_misread.png",
    )

    sys.path.insert(0, str(HERE.parent / "examples"))
    from plot_results import write_plots

    write_plots(clf, x_test, y_test, output, dpi=90)


if __name__ == "__main__":
    make_figures()
    print(f"figures in {OUTPUT}")
