"""Train the default DigitClassifier on the full MNIST and record its test accuracy.

Writes ``results/accuracy.json`` and ``results/accuracy.md`` beside this script
and prints the Markdown table. Run from anywhere::

    python benchmarks/accuracy.py                # one run, seed 0
    python benchmarks/accuracy.py --seeds 0 1 2  # mean and spread over seeds
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

from _common import DATA, RESULTS, describe, environment, write_results

from digitcnn import DigitClassifier, load_mnist


def run(seed: int, epochs: int | None, data: Path) -> dict[str, Any]:
    (x_train, y_train), (x_test, y_test) = load_mnist(data)
    clf = DigitClassifier(seed=seed, epochs=epochs, verbose=2)
    start = time.perf_counter()
    clf.fit(x_train, y_train)
    seconds = time.perf_counter() - start
    metrics = clf.evaluate(x_test, y_test)
    return {
        "seed": seed,
        "epochs": clf.recipe_.epochs,
        "train_seconds": round(seconds, 1),
        "test_accuracy": round(metrics["accuracy"], 4),
        "test_loss": round(metrics["loss"], 4),
        "parameters": int(clf.model_.count_params()),
    }


def markdown(runs: list[dict[str, Any]], summary: dict[str, Any]) -> str:
    lines = [
        "| seed | epochs | training time (s) | test accuracy | test loss | parameters |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {r['seed']} | {r['epochs']} | {r['train_seconds']:.0f} | {r['test_accuracy']:.2%} "
        f"| {r['test_loss']:.4f} | {r['parameters']:,} |"
        for r in runs
    ]
    lines += [
        "",
        f"Mean test accuracy {summary['mean_accuracy']:.2%} "
        f"(min {summary['min_accuracy']:.2%}, max {summary['max_accuracy']:.2%}, "
        f"standard deviation {summary['stdev_accuracy']:.2%}) over {len(runs)} run(s); "
        f"mean training time {summary['mean_train_seconds']:.0f} s. "
        + describe(summary["environment"]),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--epochs", type=int, default=None, help="override the default epochs")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--output", type=Path, default=RESULTS, help="folder for the results")
    args = parser.parse_args()

    runs = [run(seed, args.epochs, args.data) for seed in args.seeds]
    accuracies = [r["test_accuracy"] for r in runs]
    summary = {
        "mean_accuracy": round(statistics.mean(accuracies), 4),
        "min_accuracy": min(accuracies),
        "max_accuracy": max(accuracies),
        "stdev_accuracy": round(statistics.pstdev(accuracies), 4),
        "mean_train_seconds": round(statistics.mean(r["train_seconds"] for r in runs), 1),
        "environment": environment(),
    }
    write_results(
        args.output,
        "accuracy",
        "Default configuration on MNIST",
        markdown(runs, summary),
        {"runs": runs, "summary": summary},
    )


if __name__ == "__main__":
    main()
