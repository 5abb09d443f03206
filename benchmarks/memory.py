"""Measure the memory that prediction takes as the number of images grows.

Each measurement runs in a fresh process: the pretrained model predicts N
images read from disk — a NumPy memmap of MNIST digits, or one PNG file per
digit through ``predict_images`` — and the process's peak anonymous memory
(its heap: what it allocated, as opposed to file pages the kernel maps in
for a memmap and can drop at will), sampled every 2 ms, is compared before
and during the prediction. The kernel's peak resident size (``ru_maxrss``),
which also counts the mapped file, is reported beside it. Writes
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
import threading
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


def anonymous_mb() -> float:
    """Return this process's anonymous resident memory now, in MB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no RssAnon in /proc/self/status: this benchmark needs Linux")


class AnonymousPeak:
    """Sample the anonymous resident memory in a thread while a block runs; keep the peak."""

    def __enter__(self) -> AnonymousPeak:
        self.peak = anonymous_mb()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._done.wait(0.002):
            self.peak = max(self.peak, anonymous_mb())

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, anonymous_mb())


def measure(kind: str, source: Path, n: int) -> dict[str, Any]:
    """Predict ``n`` images from ``source`` in this process; return the memory figures."""
    clf = DigitClassifier.pretrained()
    if kind == "array":
        images = np.load(source, mmap_mode="r")[:n]
        clf.predict(images[:2048])  # warm-up: the compiled function and its buffers
    else:
        paths = sorted(source.iterdir())[:n]
        clf.predict_images(paths[:2048])
    rss_before, anon_before = peak_mb(), anonymous_mb()
    start = time.perf_counter()
    with AnonymousPeak() as anon:
        # A generator of paths: nothing is listed up front.
        labels = clf.predict(images) if kind == "array" else clf.predict_images(p for p in paths)
    seconds = time.perf_counter() - start
    assert len(labels) == n
    return {
        "input": kind,
        "images": n,
        "seconds": round(seconds, 1),
        "anonymous_before_mb": round(anon_before, 1),
        "anonymous_peak_mb": round(anon.peak, 1),
        "anonymous_growth_mb": round(anon.peak - anon_before, 1),
        "maxrss_growth_mb": round(peak_mb() - rss_before, 1),
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
        "| input | images | time (s) | heap before (MB) | heap peak (MB) | heap growth (MB) "
        "| `ru_maxrss` growth (MB) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {'NumPy memmap' if r['input'] == 'array' else 'PNG files'} | {r['images']:,} "
        f"| {r['seconds']} | {r['anonymous_before_mb']:,.0f} | {r['anonymous_peak_mb']:,.0f} "
        f"| {r['anonymous_growth_mb']:,.1f} | {r['maxrss_growth_mb']:,.1f} |"
        for r in rows
    ]
    lines += [
        "",
        "Each row is a fresh process, measured after a warm-up of 2,048 images. The heap "
        "is the process's anonymous resident memory (`RssAnon`), sampled every 2 ms during "
        "the prediction; its growth includes the results, `(n, 10)` float32 probabilities "
        "and the labels (4.8 MB for 100,000 images). `ru_maxrss` also counts the pages "
        "of the memmapped input file that the kernel maps in as they are read "
        "(78 MB for 100,000 images), which it can drop at will. " + describe(env),
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
