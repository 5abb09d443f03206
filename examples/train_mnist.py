"""Train a digitcnn recipe on the bundled MNIST, evaluate it, save it and predict.

Run from the repository root::

    python examples/train_mnist.py                   # the default ("accurate") recipe
    python examples/train_mnist.py --recipe fast     # 99% in seconds
    python examples/train_mnist.py --epochs 1 --limit 2000   # a quick smoke run
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from digitcnn import RECIPES, DigitClassifier, load_mnist

DATA_DIR = Path(__file__).resolve().parents[1] / "data" / "mnist"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA_DIR, help="MNIST folder or .npz file")
    parser.add_argument("--recipe", choices=list(RECIPES), default="accurate")
    parser.add_argument("--epochs", type=int, default=None, help="override the recipe's epochs")
    parser.add_argument("--limit", type=int, default=None, help="train on the first N images only")
    parser.add_argument("--output", type=Path, default=Path("mnist.keras"), help="model file")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    (x_train, y_train), (x_test, y_test) = load_mnist(args.data)
    x_train, y_train = x_train[: args.limit], y_train[: args.limit]
    print(f"training on {len(x_train)} images, testing on {len(x_test)}")

    clf = DigitClassifier(recipe=args.recipe, epochs=args.epochs, seed=args.seed, verbose=2)
    start = time.perf_counter()
    clf.fit(x_train, y_train)
    print(f"trained {clf.recipe_.epochs} epochs in {time.perf_counter() - start:.0f} s")

    metrics = clf.evaluate(x_test, y_test)
    print(f"test accuracy: {metrics['accuracy']:.4f}  (loss {metrics['loss']:.4f})")

    clf.save(args.output)
    same = DigitClassifier.load(args.output)
    print(
        f"saved to {args.output}; reloaded predictions identical: "
        f"{(same.predict_proba(x_test) == clf.predict_proba(x_test)).all()}"
    )

    proba = same.predict_proba(x_test[:5])
    for label, truth, confidence in zip(
        proba.argmax(axis=1), y_test[:5], proba.max(axis=1), strict=True
    ):
        print(f"predicted {label} (confidence {confidence:.3f}), true label {truth}")


if __name__ == "__main__":
    main()
