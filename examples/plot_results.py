"""Plot a model's training curves, confusion matrix and misclassified test digits.

Needs the plot extra (``pip install 'digitcnn[plot]'``). Run from the repository root::

    python examples/plot_results.py                      # the pretrained model
    python examples/plot_results.py --model mnist.keras  # a model you trained
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from digitcnn import (
    DigitClassifier,
    load_mnist,
    plot_confusion_matrix,
    plot_history,
    plot_misclassified,
)

DATA_DIR = Path(__file__).resolve().parents[1] / "data" / "mnist"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="default: the pretrained model")
    parser.add_argument("--data", type=Path, default=DATA_DIR, help="MNIST folder or .npz file")
    parser.add_argument("--limit", type=int, default=None, help="use the first N test images")
    parser.add_argument("--output", type=Path, default=Path("plots"), help="folder for the PNGs")
    args = parser.parse_args()

    clf = DigitClassifier.pretrained() if args.model is None else DigitClassifier.load(args.model)
    _, (x_test, y_test) = load_mnist(args.data)
    for path in write_plots(clf, x_test[: args.limit], y_test[: args.limit], args.output):
        print(f"wrote {path}")


def write_plots(
    clf: DigitClassifier, x_test: np.ndarray, y_test: np.ndarray, output: Path, dpi: int = 100
) -> list[Path]:
    """Save ``clf``'s training curves, confusion matrix and misclassified digits as PNGs."""
    predicted = clf.predict(x_test)
    output.mkdir(exist_ok=True)
    figures = {
        "history.png": plot_history(clf.history_).figure,
        "confusion.png": plot_confusion_matrix(y_test, predicted).figure,
        "misclassified.png": plot_misclassified(x_test, y_test, predicted),
    }
    for name, figure in figures.items():
        figure.savefig(output / name, dpi=dpi, bbox_inches="tight")
        plt.close(figure)
    return [output / name for name in figures]


if __name__ == "__main__":
    main()
