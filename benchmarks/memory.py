"""Measure the memory that prediction takes as the number of images grows.

Each measurement runs in a fresh process: the pretrained model predicts N
images read from disk — a NumPy memmap of MNIST digits, or one PNG file per
digit through ``predict_images`` — and the process's peak resident memory
after a warm-up is compared with its peak after predicting all N. Writes
``results/memory.json`` and ``results/memory.md``. Run from anywhere::

    python benchmarks/memory.py                      # 10,000 and 100,000 images
    python benchmarks/memory.py --sizes 1000 10000   # quicker
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import DATA, RESULTS, describe, environment, write_results
from PIL import Image

from digitcnn import DigitClassifier, load_mnist


def peak_mb() -> float:
    """Return this process's peak resident memory so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(kind: str, source: Path, n: int) -> dict[str, Any]:
    """Predict ``n`` images from ``source`` in this process; return the memory figures."""
    clf = DigitClassifier.pretrained()
    if kind == "array":
        images = np.load(source, mmap_mode="r")[:n]
        clf.predict(images[:2048])  # warm-up: the compiled function and its buffers
        before = peak_mb()
        start = time.perf_counter()
        labels = clf.predict(images)
    else:
        paths = sorted(source.iterdir())
        clf.predict_images(paths[:2048])
        before = peak_mb()
        start = time.perf_counter()
        labels = clf.predict_images(p for p in paths[:n])  # a generator: nothing listed up front
    seconds = time.perf_counter() - start
    assert len(labels) == n
    return {
        "input": kind,
        "images": n,
        "seconds": round(seconds, 1),
        "peak_before_mb": round(before, 1),
        "peak_after_mb": round(peak_mb(), 1),
        "growth_mb": round(peak_mb() - before, 1),
    }


def prepare(folder: Path, largest: int) -> tuple[Path, Path]:
    """Write ``largest`` MNIST digits as one .npy file and as that many PNG files."""
    (x_train, _), (x_test, _) = load_mnist(DATA)
    digits = np.concatenate([x_train, x_test])
    images = digits[np.arange(largest) % len(digits)]
    array = folder / "images.npy"
    np.save(array, images)
    pngs = folder / "png"
    pngs.mkdir()
    for i, image in enumerate(images):
        Image.fromarray(255 - image).save(pngs / f"{i:06d}.png")
    return array, pngs


def markdown(rows: list[dict[str, Any]], env: dict[str, Any]) -> str:
    lines = [
        "| input | images | time (s) | peak after warm-up (MB) | peak after (MB) | growth (MB) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {'NumPy memmap' if r['input'] == 'array' else 'PNG files'} | {r['images']:,} "
        f"| {r['seconds']} | {r['peak_before_mb']:,.0f} | {r['peak_after_mb']:,.0f} "
        f"| {r['growth_mb']:,.1f} |"
        for r in rows
    ]
    lines += [
        "",
        "Each row is a fresh process; peak resident memory is read from the kernel "
        "(`ru_maxrss`) after a warm-up of 2,048 images and after predicting all of them. "
        "The `(n, 10)` float32 probabilities and the labels are part of the growth "
        "(4.4 MB for 100,000 images). " + describe(env),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--output", type=Path, default=RESULTS, help="folder for the results")
    parser.add_argument(
        "--measure", nargs=3, metavar=("KIND", "SOURCE", "N"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.measure:
        kind, source, n = args.measure
        print(json.dumps(measure(kind, Path(source), int(n))))
        return

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        array, pngs = prepare(Path(tmp), max(args.sizes))
        for kind, source in (("array", array), ("files", pngs)):
            for n in args.sizes:
                command = [sys.executable, __file__, "--measure", kind, str(source), str(n)]
                done = subprocess.run(command, capture_output=True, text=True, check=True)
                rows.append(json.loads(done.stdout.splitlines()[-1]))
                print(rows[-1], flush=True)
    env = environment()
    write_results(
        args.output,
        "memory",
        "Memory of prediction",
        markdown(rows, env),
        {"environment": env, "runs": rows},
    )


if __name__ == "__main__":
    main()
