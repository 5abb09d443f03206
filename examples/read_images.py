"""Read the digits in your own pictures with the pretrained model.

Give it image files or folders of them: photos or scans of digits written on
paper, or drawings, in any size and colour. Each picture is normalised the
way MNIST was made and read; with ``--number``, each picture is read as a
number of several digits. Run from anywhere::

    python examples/read_images.py my-digit.jpg scans/
    python examples/read_images.py --number house-number.jpg
    python examples/read_images.py --min-confidence 0.9 photos/
    python examples/read_images.py --model mnist.keras photos/   # your own model
"""

from __future__ import annotations

import argparse
from pathlib import Path

from digitcnn import DigitClassifier


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("images", type=Path, nargs="+", help="image files or folders")
    parser.add_argument("--model", type=Path, help="a saved model (default: the pretrained one)")
    parser.add_argument("--number", action="store_true", help="read several digits per picture")
    parser.add_argument("--min-confidence", type=float, default=None)
    args = parser.parse_args()

    clf = DigitClassifier.load(args.model) if args.model else DigitClassifier.pretrained()
    files = [
        p for path in args.images for p in (sorted(path.glob("*.*")) if path.is_dir() else [path])
    ]
    if args.number:
        for path in files:
            found = clf.read_digits(path, min_confidence=args.min_confidence)
            print(path, found.text, [round(c, 3) for c in found.confidences])
    else:
        for reading in clf.read_images(files, min_confidence=args.min_confidence):
            print(
                reading.source,
                reading.status,
                reading.label,
                round(reading.confidence, 3),
                reading.error or "",
            )


if __name__ == "__main__":
    main()
