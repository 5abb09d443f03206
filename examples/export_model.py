"""Export a model for deployment and check the exports against it.

Writes a TensorFlow SavedModel, a float TensorFlow Lite model and an int8 one,
then runs each TensorFlow Lite model on the test set. Run from the repository root::

    python examples/export_model.py                       # the pretrained model
    python examples/export_model.py --model mnist.keras   # a model you trained
"""

from __future__ import annotations

import argparse
from pathlib import Path

from digitcnn import DigitClassifier, TFLiteClassifier, load_mnist

DATA_DIR = Path(__file__).resolve().parents[1] / "data" / "mnist"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="default: the pretrained model")
    parser.add_argument("--data", type=Path, default=DATA_DIR, help="MNIST folder or .npz file")
    parser.add_argument("--limit", type=int, default=None, help="check on the first N test images")
    parser.add_argument("--output", type=Path, default=Path("exports"), help="folder for exports")
    args = parser.parse_args()

    clf = DigitClassifier.pretrained() if args.model is None else DigitClassifier.load(args.model)
    (x_train, _), (x_test, y_test) = load_mnist(args.data)
    x_test, y_test = x_test[: args.limit], y_test[: args.limit]
    args.output.mkdir(exist_ok=True)

    print(f"SavedModel written to {clf.export(args.output / 'savedmodel')}")
    expected = clf.predict(x_test)
    print(f"Keras model: accuracy {(expected == y_test).mean():.2%}")
    exports = {
        "float32": clf.export(args.output / "digits.tflite", format="tflite"),
        "int8": clf.export(
            args.output / "digits-int8.tflite",
            format="tflite",
            quantize="int8",
            representative_images=x_train[:500],
        ),
    }
    for name, path in exports.items():
        lite = TFLiteClassifier(path)
        predicted = lite.predict(x_test)
        print(
            f"TFLite {name}: {path.stat().st_size / 1024:.0f} KB, "
            f"accuracy {(predicted == y_test).mean():.2%}, "
            f"agrees with Keras on {(predicted == expected).mean():.2%}"
        )


if __name__ == "__main__":
    main()
