"""Ensembles, test-time augmentation and distillation on MNIST, each from independent runs.

Each run trains five networks by the default recipe (or ``--members`` by
the ``--recipe`` given, or by several in turn) with consecutive seeds (run
0: seeds 0-4, run 1: seeds 5-9, ...), and measures on the 10,000 MNIST test
images:

- *single*: each network alone (the mean of them, by recipe);
- *ensemble of 3* and *of 5*: the first three and all five (or all of them), averaged in one
  network (:meth:`DigitClassifier.from_members`, which is what
  ``DigitClassifier(n_models=...)`` trains);
- *distilled*: one network trained by the default recipe (or ``--student``),
  with the run's first seed, on the ensemble of 5's probabilities and the
  labels (``fit(..., teacher=ensemble)``);

each with and without test-time augmentation (``tta=True``). Also the
training time on this machine (an ensemble's is its members'; the distilled
one's includes the teacher's forward passes but not the teacher's training),
the prediction cost per image (timed on the test set in this process, and as
a ratio to a single network), the multiply-adds per image, the size of the
saved file, and the accuracy on 500 test digits scanned at 10 and 8 pixels
(``photos.low_resolution``). Trained networks are kept in ``--cache``, so an
interrupted benchmark resumes where it was::

    python benchmarks/ensemble.py --runs 2
    python benchmarks/ensemble.py --runs 2 --recipe deep accurate --members 4 \
        --student slim --fine-tune 6

The second trains two networks of the ``"deep"`` recipe and two of the
default's in each run (deep seeds 0 and 2, default seeds 1 and 3; then 4 and
6, 5 and 7). Its student is a network of the ``"slim"`` recipe, trained
alone and then fine-tuned for 6 epochs with the ensemble as its teacher
(``--fine-tune``): the teacher's forward passes on every training image
make a whole training with it cost about as much as a deep network's. It
writes ``results/ensemble-deep-accurate-4-slim-tuned6.md``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np
from _common import DATA, RESULTS, ROOT, describe, environment, write_results
from photos import low_resolution

from digitcnn import DigitClassifier, load_mnist
from digitcnn._forward import TTA_SHIFTS
from digitcnn._training.recipes import DEFAULT_RECIPE

MEMBERS = 5
SIZES = (3, 5)
LOW_RESOLUTIONS = (10, 8)
LOW_RESOLUTION_DIGITS = 500


def multiply_adds(network: keras.Model) -> int:
    """Return the multiply-adds of one image's forward pass through ``network``'s layers."""
    total = 0
    for layer in network.layers:
        if isinstance(layer, keras.Model):
            total += multiply_adds(layer)
        elif isinstance(layer, keras.layers.Conv2D):
            _, height, width, filters = layer.output.shape
            kernel_h, kernel_w, channels, _ = layer.kernel.shape
            total += height * width * filters * kernel_h * kernel_w * channels
        elif isinstance(layer, keras.layers.Dense):
            total += int(np.prod(layer.kernel.shape))
    return total


def trained(cache: Path, name: str, make: Callable[[], DigitClassifier]) -> tuple[Any, float]:
    """Return the classifier kept as ``name`` in ``cache``, training it first if absent."""
    path, record = cache / f"{name}.keras", cache / f"{name}.json"
    if path.is_file() and record.is_file():
        return DigitClassifier.load(path), json.loads(record.read_text())["train_seconds"]
    start = time.perf_counter()
    clf = make()
    seconds = time.perf_counter() - start
    clf.save(path)
    record.write_text(json.dumps({"train_seconds": seconds}))
    print(f"trained {name} in {seconds:.0f} s", flush=True)
    return clf, seconds


def _member(recipe: str, seed: int, x: np.ndarray, y: np.ndarray) -> Callable[[], DigitClassifier]:
    return lambda: DigitClassifier(recipe=recipe, seed=seed).fit(x, y)


def _distilled(
    recipe: str, seed: int, x: np.ndarray, y: np.ndarray, members: list[DigitClassifier]
) -> Callable[[], DigitClassifier]:
    """Return how to train the student; its teacher, the members' ensemble, is built only then."""
    return lambda: DigitClassifier(recipe=recipe, seed=seed).fit(
        x, y, teacher=DigitClassifier.from_members(members)
    )


def _fine_tuned(
    start: Path, epochs: int, x: np.ndarray, y: np.ndarray, members: list[DigitClassifier]
) -> Callable[[], DigitClassifier]:
    """Return how to fine-tune the network saved at ``start``, with the members' ensemble as
    its teacher if there are members, for ``epochs`` at a third of its recipe's learning rate."""

    def tune() -> DigitClassifier:
        clf = DigitClassifier.load(start)
        clf.set_params(warm_start=True, epochs=epochs, learning_rate=clf.recipe_.learning_rate / 3)
        return clf.fit(x, y, teacher=DigitClassifier.from_members(members) if members else None)

    return tune


def single_row(recipe: str, recipes: list[str]) -> str:
    """Return the name of the row of ``recipe``'s single networks among ``recipes``'."""
    return "single" if len(recipes) == 1 else f"single ({recipe})"


def measure(
    clf: DigitClassifier, x: np.ndarray, y: np.ndarray, scans: dict[int, list[Any]], truth: Any
) -> dict[str, Any]:
    """Return accuracy (and with TTA), prediction time per image and size of ``clf``."""
    clf.set_params(tta=False)
    clf.predict_proba(x[:1024])  # traced before timing
    start = time.perf_counter()
    accuracy = clf.score(x, y)
    seconds = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as folder:
        clf.save(Path(folder) / "model.keras")
        size = (Path(folder) / "model.keras").stat().st_size
    low = {
        f"{pixels}px_accuracy": float(np.mean(clf.predict_images(scans[pixels]) == truth))
        for pixels in LOW_RESOLUTIONS
    }
    clf.set_params(tta=True)
    clf.predict_proba(x[:1024])
    start = time.perf_counter()
    tta_accuracy = clf.score(x, y)
    tta_seconds = time.perf_counter() - start
    clf.set_params(tta=False)
    return {
        "accuracy": accuracy,
        "tta_accuracy": tta_accuracy,
        "ms_per_image": 1000 * seconds / len(x),
        "tta_ms_per_image": 1000 * tta_seconds / len(x),
        "multiply_adds": multiply_adds(clf.model_),
        "file_bytes": size,
        **low,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="independent runs")
    parser.add_argument(
        "--recipe", nargs="+", default=[DEFAULT_RECIPE], help="the members' recipes, in turn"
    )
    parser.add_argument("--members", type=int, default=MEMBERS, help="networks per run")
    parser.add_argument(
        "--distil",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also distil each run's ensemble into one network of the --student recipe",
    )
    parser.add_argument("--student", default=DEFAULT_RECIPE, help="the distilled network's recipe")
    parser.add_argument(
        "--fine-tune",
        type=int,
        default=0,
        metavar="EPOCHS",
        help="distil by fine-tuning the student recipe's trained network for EPOCHS epochs "
        "at a third of its learning rate (default 0: train the student with the teacher "
        "from the start)",
    )
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument(
        "--cache", type=Path, default=ROOT / "benchmarks" / ".cache", help="trained networks"
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="folder for the results")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)

    (x_train, y_train), (x_test, y_test) = load_mnist(args.data)
    chosen = np.random.default_rng(0).choice(len(x_test), LOW_RESOLUTION_DIGITS, replace=False)
    scans = {px: [low_resolution(x_test[i], px) for i in chosen] for px in LOW_RESOLUTIONS}
    truth = y_test[chosen]

    student_prefix = "" if args.student == DEFAULT_RECIPE else f"{args.student}-"
    runs: list[dict[str, Any]] = []
    for run in range(args.runs):
        seeds = list(range(run * args.members, (run + 1) * args.members))
        recipes = [args.recipe[i % len(args.recipe)] for i in range(args.members)]
        members, seconds = [], []
        for recipe, seed in zip(recipes, seeds, strict=True):
            clf, took = trained(
                args.cache, f"{recipe}-seed{seed}", _member(recipe, seed, x_train, y_train)
            )
            members.append(clf)
            seconds.append(took)
        singles = [measure(m, x_test, y_test, scans, truth) for m in members]
        kinds: dict[str, dict[str, Any]] = {}
        for recipe in args.recipe:
            mine = [i for i, r in enumerate(recipes) if r == recipe]
            name = single_row(recipe, args.recipe)
            kinds[name] = {
                key: statistics.mean(singles[i][key] for i in mine) for key in singles[0]
            }
            kinds[name]["train_seconds"] = statistics.mean(seconds[i] for i in mine)
        for size in sorted({size for size in SIZES if size < args.members} | {args.members}):
            ensemble = DigitClassifier.from_members(members[:size])
            kinds[f"ensemble of {size}"] = measure(ensemble, x_test, y_test, scans, truth) | {
                "train_seconds": sum(seconds[:size])
            }
        if args.distil and args.fine_tune:
            first = f"{args.student}-seed{seeds[0]}"
            start, start_seconds = trained(
                args.cache, first, _member(args.student, seeds[0], x_train, y_train)
            )
            kinds[f"{args.student}, the student's start"] = measure(
                start, x_test, y_test, scans, truth
            ) | {"train_seconds": start_seconds}
            for name, teachers in (
                (f"{args.student}, fine-tuned without a teacher", []),
                ("distilled", members),
            ):
                tuned, tuning_seconds = trained(
                    args.cache,
                    f"{first}-tuned-{args.fine_tune}"
                    + (f"-by-{'-'.join(args.recipe)}" if teachers else ""),
                    _fine_tuned(
                        args.cache / f"{first}.keras", args.fine_tune, x_train, y_train, teachers
                    ),
                )
                kinds[name] = measure(tuned, x_test, y_test, scans, truth) | {
                    "train_seconds": start_seconds + tuning_seconds
                }
        elif args.distil:
            student, student_seconds = trained(
                args.cache,
                f"{student_prefix}distilled-from-{'-'.join(args.recipe)}-seed{seeds[0]}",
                _distilled(args.student, seeds[0], x_train, y_train, members),
            )
            kinds["distilled"] = measure(student, x_test, y_test, scans, truth) | {
                "train_seconds": student_seconds
            }
        runs.append(
            {"run": run, "seeds": seeds, "recipes": recipes, "kinds": kinds, "singles": singles}
        )
        print(json.dumps(runs[-1]["kinds"], indent=1), flush=True)

    names = list(runs[0]["kinds"])
    baseline = single_row(
        DEFAULT_RECIPE if DEFAULT_RECIPE in args.recipe else args.recipe[0], args.recipe
    )
    single_ms = statistics.mean(r["kinds"][baseline]["ms_per_image"] for r in runs)

    def each(name: str, key: str, form: str) -> str:
        values = [r["kinds"][name][key] for r in runs]
        shown = " / ".join(format(v, form) for v in values)
        return f"{format(statistics.mean(values), form)} ({shown})" if len(values) > 1 else shown

    lines = [
        "| model | test accuracy | with TTA | training (2 cores) | ms per image | with TTA | "
        "cost | multiply-adds | file | 10 px | 8 px |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name in names:
        ms = statistics.mean(r["kinds"][name]["ms_per_image"] for r in runs)
        tta_ms = statistics.mean(r["kinds"][name]["tta_ms_per_image"] for r in runs)
        kind = runs[0]["kinds"][name]
        lines.append(
            f"| {name} | {each(name, 'accuracy', '.2%')} | {each(name, 'tta_accuracy', '.2%')} "
            f"| {statistics.mean(r['kinds'][name]['train_seconds'] for r in runs) / 60:.1f} min "
            f"| {ms:.3f} | {tta_ms:.3f} | {ms / single_ms:.1f}x "
            f"| {kind['multiply_adds'] / 1e6:.1f} M | {kind['file_bytes'] / 1e6:.1f} MB "
            f"| {each(name, '10px_accuracy', '.1%')} "
            f"| {each(name, '8px_accuracy', '.1%')} |"
        )
    env = environment()
    lines += [
        "",
        (
            f"Mean over {len(runs)} independent runs (each run's figure in brackets); "
            if len(runs) > 1
            else "One run; "
        )
        + f"a run is {args.members} networks of the "
        + " and ".join(f"`{r}`" for r in args.recipe)
        + (" recipes in turn" if len(args.recipe) > 1 else " recipe")
        + f" with consecutive seeds (run 0: seeds 0-{args.members - 1}, run 1: "
        f"{args.members}-{2 * args.members - 1}), and *single* is the mean of them"
        + (" by recipe" if len(args.recipe) > 1 else "")
        + (
            f"; the distilled network is the `{args.student}` recipe's, with the run's first "
            "seed, taught by the ensemble of them all"
            + (
                f": trained alone (*the student's start*), then fine-tuned for {args.fine_tune} "
                "epochs at a third of its learning rate with the ensemble as its teacher "
                "(and, to compare, without a teacher). "
                if args.fine_tune
                else ". "
            )
            if args.distil
            else " (no distilled network here: `--no-distil`). "
        )
        + "Test accuracy on the 10,000 MNIST test images; "
        f"TTA averages {len(TTA_SHIFTS)} one-pixel shifts of each image, at {len(TTA_SHIFTS)} "
        f"times the cost; *cost* is the time per image as a ratio to *{baseline}*'s. "
        "10 px and 8 px: 500 test digits reduced to that many pixels a side "
        "and enlarged to 64 (`photos.low_resolution`), read by `predict_images`. Training "
        "time: an ensemble's is its members'; a distilled network's excludes its teacher's"
        + (" and includes its start's. " if args.fine_tune else ". ")
        + "Milliseconds per image: `score` on the test set in batches of 1,024, in this process. "
        + describe(env),
    ]
    default = args.recipe == [DEFAULT_RECIPE] and args.members == MEMBERS
    name = "ensemble" if default else f"ensemble-{'-'.join(args.recipe)}-{args.members}"
    if args.distil and student_prefix:
        name += f"-{args.student}"
    write_results(
        args.output,
        name + (f"-tuned{args.fine_tune}" if args.distil and args.fine_tune else ""),
        "Ensembles, test-time augmentation and distillation",
        "\n".join(lines) + "\n",
        {"runs": runs, "environment": env},
    )


if __name__ == "__main__":
    main()
