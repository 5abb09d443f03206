"""The ``digitcnn`` command line: train, evaluate, predict, export and inspect models.

It works through digitcnn's public API, and through private helpers that have
no public face: the model file's reader (``info``), where ``load_mnist``
reads its data (so that its errors are recognised), precision and recall,
atomic output and matplotlib's loader for the plots, the default recipe's
name, and the library's scalar check for its numeric options. Importing it
loads no TensorFlow, and each command loads it only once the files it names
are found; unless ``--verbose`` is given, TensorFlow's start-up log lines
are hidden, so that an error is one line.

Errors: a failure about what the user named (a model, data or picture file,
an output path: an OSError, or a ValueError whose message names that file)
ends with one line on standard error and exit status 1; an option out of
range ends with the usage and status 2; anything else is a bug in digitcnn
and shows its traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

import digitcnn
from digitcnn._atomic import atomic_output
from digitcnn._constants import MAX_MODELS
from digitcnn._io.mnist_files import data_path
from digitcnn._metrics import precision_recall
from digitcnn._plots import pyplot
from digitcnn._quiet import load_tensorflow_quietly
from digitcnn._serve.settings import (
    DEFAULT_MIN_CONFIDENCE,
    DEFAULT_WORKERS,
    SETTINGS_ENV,
    Batching,
    Limits,
)
from digitcnn._training.recipes import DEFAULT_RECIPE
from digitcnn._validation import check_scalar

__all__ = ["main"]

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"})
"""File suffixes that ``digitcnn predict`` picks from a folder."""


class CommandError(Exception):
    """A failure to report to the user in one line, without a traceback."""


def _start_tensorflow(args: argparse.Namespace) -> None:
    """Load TensorFlow, without its start-up lines unless ``--verbose`` was given."""
    if not args.verbose:
        load_tensorflow_quietly()


@contextlib.contextmanager
def _about(path: Path | None) -> Iterator[None]:
    """Turn a failure that concerns the user's file or folder ``path`` into a CommandError.

    digitcnn's file readers and writers name the file in every message they
    raise, so a ValueError that names ``path`` is about the user's file; one
    that does not is a bug in digitcnn, and shows its traceback, as does every
    other exception. An OSError (a missing file, a full disk, no permission)
    always comes from the user's environment.
    """
    try:
        yield
    except OSError as error:
        raise CommandError(str(error)) from error
    except ValueError as error:
        if path is None or str(path) not in str(error):
            raise
        raise CommandError(str(error)) from error


def _checked(name: str, kind: type[Any], **limits: Any) -> Callable[[str], Any]:
    """Return an argparse type that parses the library's parameter ``name`` and checks it.

    The option is checked as the parameter it is passed to, so that an option
    out of range gets the usage (exit status 2) before any work starts.
    """

    def parse(text: str) -> Any:
        value = kind(text)  # a ValueError here: argparse says "invalid int value: 'two'"
        try:
            return check_scalar(value, name, kind, **limits)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    parse.__name__ = kind.__name__  # argparse names it in "invalid int value: 'two'"
    return parse


def _classifier(path: Path | None, *, tta: bool = False) -> digitcnn.DigitClassifier:
    """Return the classifier saved at ``path`` (default: the pretrained one), with TTA if asked."""
    with _about(path):
        if path is None:
            clf = digitcnn.DigitClassifier.pretrained()
        else:
            clf = digitcnn.DigitClassifier.load(path)
    return clf.set_params(tta=True) if tta else clf


def _mnist(path: Path | None) -> digitcnn.MNISTSplits:
    with _about(data_path(path)):
        return digitcnn.load_mnist(path)


def _image_files(paths: Sequence[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise CommandError(f"folder {path} has no image files")
            files += found
        elif path.exists():
            files.append(path)
        else:
            raise CommandError(f"no such file or folder: {path}")
    return files


def _train(args: argparse.Namespace) -> None:
    _start_tensorflow(args)
    (x_train, y_train), (x_test, y_test) = _mnist(args.data)
    clf = digitcnn.DigitClassifier(
        recipe=args.recipe,
        epochs=args.epochs,
        n_models=args.n_models,
        seed=args.seed,
        verbose=0 if args.quiet else 1,
    )
    clf.fit(x_train, y_train)
    metrics = clf.evaluate(x_test, y_test)
    with _about(args.output):
        clf.save(args.output)
    print(
        f"test accuracy {metrics['accuracy']:.4f} (loss {metrics['loss']:.4f}); "
        f"saved to {args.output}"
    )


def _evaluate(args: argparse.Namespace) -> None:
    if args.plot is not None:
        try:
            pyplot()  # before any work: the plots need the plot extra
        except ImportError as error:
            raise CommandError(str(error)) from None
    _start_tensorflow(args)
    clf = _classifier(args.model, tta=args.tta)
    _, (x_test, y_test) = _mnist(args.data)
    predicted = clf.predict(x_test)
    matrix = digitcnn.confusion_matrix(y_test, predicted)
    precision, recall = precision_recall(matrix)
    print(f"accuracy {matrix.trace() / matrix.sum():.4f} on {matrix.sum():,} test images\n")
    print("digit  precision  recall  images")
    for digit in range(digitcnn.NUM_CLASSES):
        images = matrix[digit].sum()
        print(f"{digit:>5}  {precision[digit]:>9.4f}  {recall[digit]:>6.4f}  {images:>6,}")
    print("\nconfusion matrix (rows: true digit, columns: predicted)")
    print("      " + "".join(f"{d:>6}" for d in range(digitcnn.NUM_CLASSES)))
    for digit in range(digitcnn.NUM_CLASSES):
        print(f"{digit:>6}" + "".join(f"{n:>6}" for n in matrix[digit]))
    if args.plot is not None:
        with _about(args.plot):
            _save_plots(args.plot, clf.history_, x_test, y_test, predicted)
        print(f"\nplots saved to {args.plot}")


def _save_plots(
    path: Path,
    history: dict[str, list[float]],
    images: np.ndarray,
    truth: np.ndarray,
    predicted: np.ndarray,
) -> None:
    """Save the training curves, confusion matrix and misclassified digits in one figure."""
    figure = pyplot().figure(figsize=(18, 6), layout="constrained")
    curves, matrix, errors = figure.subfigures(1, 3, width_ratios=[1.2, 1, 1])
    if history.get("loss"):
        digitcnn.plot_history(history, ax=curves.subplots())
    else:
        curves.text(0.5, 0.5, "no training history in this model", ha="center")
    digitcnn.plot_confusion_matrix(truth, predicted, ax=matrix.subplots())
    digitcnn.plot_misclassified(images, truth, predicted, fig=errors)
    with atomic_output(path, what="the plots") as staged:
        try:
            figure.savefig(staged, dpi=100)
        except ValueError as error:  # matplotlib's, for a suffix it cannot write
            raise ValueError(f"cannot save the plots to {path}: {error}") from None
    pyplot().close(figure)


def _predict(args: argparse.Namespace) -> None:
    files = _image_files(args.images)
    if args.reader is not None and not args.number:
        raise CommandError("--reader is for reading numbers: add --number")
    _start_tensorflow(args)
    clf = _classifier(args.model, tta=args.tta)
    results: list[dict[str, Any]] = []
    if args.number:
        reader = None
        if args.reader is not None:
            with _about(args.reader):
                reader = digitcnn.NumberReader.load(args.reader)
        for path in files:
            with _about(path):
                found = clf.read_digits(path, min_confidence=args.min_confidence, reader=reader)
            results.append(
                {
                    "file": str(path),
                    "number": found.text,
                    "confidences": found.confidences,
                    "boxes": found.boxes,
                }
            )
    else:
        for reading in clf.read_images(files, min_confidence=args.min_confidence):
            results.append(
                {
                    "file": reading.source,
                    "status": reading.status,
                    "label": reading.label,
                    "confidence": None if np.isnan(reading.confidence) else reading.confidence,
                    "error": reading.error,
                }
            )
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        _print_readings(results, number=args.number)
    failed = sum(result.get("status") == "error" for result in results)
    if failed:
        raise CommandError(f"{failed} of {len(results)} images could not be read")


def _print_readings(results: list[dict[str, Any]], *, number: bool) -> None:
    for result in results:
        if number:
            shown = result["number"] or "(no ink)"
            confidences = ", ".join(f"{c:.3f}" for c in result["confidences"])
            print(f"{result['file']}: {shown}  [{confidences}]")
        elif result["status"] in ("ok", "unsure"):
            label = result["label"] if result["status"] == "ok" else "?"
            print(f"{result['file']}: {label}  (confidence {result['confidence']:.3f})")
        else:
            print(f"{result['file']}: {result['status']} {result['error'] or ''}".rstrip())


def _export(args: argparse.Namespace) -> None:
    if args.int8 and args.format != "tflite":
        raise CommandError("--int8 needs --format tflite")
    _start_tensorflow(args)
    clf = _classifier(args.model)
    representative = None
    if args.int8:
        (representative, _), _ = _mnist(args.data)
    with _about(args.output):
        written = clf.export(
            args.output,
            format=args.format,
            quantize="int8" if args.int8 else None,
            representative_images=representative,
        )
    print(f"exported to {written}")


def _info(args: argparse.Namespace) -> None:
    _start_tensorflow(args)
    from digitcnn._io.model_file import read_model  # loads TensorFlow

    with _about(args.model):
        saved = read_model(args.model)
    metadata = {**saved.metadata, "parameters": int(saved.model.count_params())}
    print(json.dumps(metadata, indent=2, sort_keys=True))


def _serve(args: argparse.Namespace) -> None:
    try:
        import uvicorn
    except ImportError:
        raise CommandError('serving needs the serve extra: pip install "digitcnn[serve]"') from None
    with socket.socket() as probe:  # a port in use is the user's to fix: say so in one line
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((args.host, args.port))
        except OSError as error:
            raise CommandError(f"cannot listen on {args.host}:{args.port}: {error}") from None
    _start_tensorflow(args)
    settings = {
        "model": None if args.model is None else str(args.model),
        "min_confidence": args.min_confidence,
        "max_upload_bytes": round(args.max_upload_mb * 1e6),
        "max_batch_size": args.max_batch_size,
        "batch_timeout": args.batch_timeout_ms / 1000,
    }
    with _about(args.model):  # the model is checked here, before any worker starts
        app = digitcnn.create_app(**settings)
    host = f"[{args.host}]" if ":" in args.host else args.host
    started = threading.Event()
    threading.Thread(
        target=_announce, args=(f"http://{host}:{args.port}/", started), daemon=True
    ).start()
    log_level = "info" if args.verbose else "warning"
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn shut down cleanly, then re-raised it
        if args.workers == 1:
            uvicorn.run(app, host=args.host, port=args.port, log_level=log_level)
        else:  # each worker process builds its own app, from an import string
            os.environ[SETTINGS_ENV] = json.dumps({**settings, "verbose": args.verbose})
            uvicorn.run(
                "digitcnn._serve.app:app_from_environment",
                factory=True,
                workers=args.workers,
                host=args.host,
                port=args.port,
                log_level=log_level,
            )
    if not started.is_set():
        raise CommandError(f"the server did not start on {args.host}:{args.port}")
    print("digitcnn serve: stopped", flush=True)


def _announce(url: str, started: threading.Event) -> None:
    """Print the server's address once it answers (uvicorn's workers start on their own)."""
    health = url.replace("//0.0.0.0:", "//127.0.0.1:").replace("//[::]:", "//[::1]:") + "healthz"
    while True:
        try:
            with urllib.request.urlopen(health, timeout=1):
                break
        except OSError:
            time.sleep(0.1)
    started.set()
    print(f"digitcnn serve: {url} (the API's docs at {url}docs); Ctrl-C stops", flush=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="digitcnn",
        description="Handwritten digit recognition: train, evaluate, predict, export.",
    )
    parser.add_argument("--version", action="version", version=f"digitcnn {digitcnn.__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--verbose", action="store_true", help="show TensorFlow's start-up and log messages"
    )
    data_help = "MNIST folder of IDX files or .npz (default: $DIGITCNN_DATA, else Keras's download)"

    train = commands.add_parser(
        "train", parents=[common], help="train a model on MNIST and save it"
    )
    train.add_argument("--data", type=Path, default=None, help=data_help)
    train.add_argument("--recipe", choices=sorted(digitcnn.RECIPES), default=DEFAULT_RECIPE)
    epochs, seed = _checked("epochs", int, min_val=1), _checked("seed", int, min_val=0)
    train.add_argument("--epochs", type=epochs, default=None, help="override the recipe's epochs")
    train.add_argument(
        "--n-models",
        type=_checked("n_models", int, min_val=1, max_val=MAX_MODELS),
        default=1,
        metavar="N",
        help="train an ensemble of N networks, saved as one model (default: 1)",
    )
    train.add_argument("--seed", type=seed, default=None, help="seed, for repeatable training")
    train.add_argument("--output", type=Path, default=Path("mnist.keras"), help="model file")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(run=_train)

    model_help = "a model saved by digitcnn (default: the pretrained model)"
    tta_help = "test-time augmentation: average 9 shifted views of each image (9x the cost)"
    evaluate = commands.add_parser(
        "evaluate", parents=[common], help="accuracy, precision, recall, confusion"
    )
    evaluate.add_argument("model", type=Path, nargs="?", default=None, help=model_help)
    evaluate.add_argument("--data", type=Path, default=None, help=data_help)
    evaluate.add_argument(
        "--plot",
        type=Path,
        default=None,
        metavar="FILE",
        help="also save training curves, confusion matrix and misclassified digits "
        "(.png, .pdf or .svg; needs the plot extra)",
    )
    evaluate.add_argument("--tta", action="store_true", help=tta_help)
    evaluate.set_defaults(run=_evaluate)

    predict = commands.add_parser(
        "predict", parents=[common], help="read the digits in image files"
    )
    predict.add_argument("images", type=Path, nargs="+", help="image files or folders of them")
    predict.add_argument("--model", type=Path, default=None, help=model_help)
    predict.add_argument(
        "--number",
        action="store_true",
        help="read a whole number per image (digits apart or touching, on ruled paper "
        "or one per form box)",
    )
    predict.add_argument(
        "--reader",
        type=Path,
        default=None,
        metavar="FILE",
        help="with --number: a NumberReader saved by NumberReader.save (default: the "
        "pretrained one)",
    )
    predict.add_argument(
        "--min-confidence",
        type=_checked("min_confidence", float, min_val=0.0, max_val=1.0),
        default=None,
        metavar="P",
        help="report answers less confident than P (0-1) as unsure instead of guessing",
    )
    predict.add_argument("--tta", action="store_true", help=tta_help)
    predict.add_argument("--json", action="store_true", help="print JSON")
    predict.set_defaults(run=_predict)

    export = commands.add_parser(
        "export", parents=[common], help="export to SavedModel or TensorFlow Lite"
    )
    export.add_argument("output", type=Path, help="folder (savedmodel) or file (tflite)")
    export.add_argument("--model", type=Path, default=None, help=model_help)
    export.add_argument("--format", choices=["savedmodel", "tflite"], default="savedmodel")
    export.add_argument("--int8", action="store_true", help="int8 quantization (tflite)")
    export.add_argument("--data", type=Path, default=None, help=data_help + "; for --int8")
    export.set_defaults(run=_export)

    info = commands.add_parser("info", parents=[common], help="show a saved model's metadata")
    info.add_argument("model", type=Path, help="a model saved by digitcnn")
    info.set_defaults(run=_info)

    serve = commands.add_parser(
        "serve", parents=[common], help="a web page and an HTTP API that read digits"
    )
    serve.add_argument("--model", type=Path, default=None, help=model_help)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=_checked("port", int, min_val=0, max_val=65535), default=8000)
    serve.add_argument(
        "--max-upload-mb",
        type=_checked("max_upload_mb", float, min_val=0.0, include_boundaries="right"),
        default=Limits.max_upload_bytes / 1e6,
        metavar="MB",
        help="refuse request bodies larger than this (default: %(default)g MB)",
    )
    serve.add_argument(
        "--min-confidence",
        type=_checked("min_confidence", float, min_val=0.0, max_val=1.0),
        default=DEFAULT_MIN_CONFIDENCE,
        metavar="P",
        help="answers less confident than P are unsure, unless a request says otherwise "
        "(default: %(default)g)",
    )
    serve.add_argument(
        "--max-batch-size",
        type=_checked("max_batch_size", int, min_val=1),
        default=Batching.max_batch_size,
        metavar="N",
        help="most images predicted in one model call; 1 turns batching off (default: %(default)s)",
    )
    serve.add_argument(
        "--batch-timeout-ms",
        type=_checked("batch_timeout_ms", float, min_val=0.0),
        default=1000 * Batching.batch_timeout,
        metavar="MS",
        help="how long a batch waits for more requests after its first (default: %(default)g)",
    )
    serve.add_argument(
        "--workers",
        type=_checked("workers", int, min_val=1),
        default=DEFAULT_WORKERS,
        help="server processes, each with its own model (default: one per core, at most 4: "
        "%(default)s here)",
    )
    serve.set_defaults(run=_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``digitcnn`` command line.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments, without the program name; default: ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit status: 0 on success, 1 when the command fails on the user's
        files or data (with one line on standard error), 2 for bad arguments.
        A bug in digitcnn raises, with its traceback.
    """
    args = _parser().parse_args(argv)
    try:
        args.run(args)
    except CommandError as error:
        print(f"digitcnn {args.command}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"digitcnn {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0
