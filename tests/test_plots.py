from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import MNIST_DIR, Split
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from digitcnn import (
    DigitClassifier,
    confusion_matrix,
    plot_confusion_matrix,
    plot_history,
    plot_misclassified,
)
from digitcnn._cli import main

plt = pytest.importorskip("matplotlib.pyplot")

labels = arrays(np.int64, st.integers(1, 200), elements=st.integers(0, 9))


@given(labels)
def test_confusion_matrix_counts_every_image_once(truth: np.ndarray) -> None:
    predicted = np.roll(truth, 1)
    matrix = confusion_matrix(truth, predicted)
    assert matrix.shape == (10, 10)
    assert matrix.sum() == len(truth)
    assert matrix.trace() == np.sum(truth == predicted)
    assert (matrix.sum(axis=1) == np.bincount(truth, minlength=10)).all()
    assert (matrix.sum(axis=0) == np.bincount(predicted, minlength=10)).all()


def test_confusion_matrix_rejects_bad_labels() -> None:
    with pytest.raises(ValueError, match="0 to 9"):
        confusion_matrix([1, 2], [1, 10])
    with pytest.raises(ValueError, match="2"):
        confusion_matrix([1, 2], [1])


def test_history_is_drawn_and_saved(fitted: DigitClassifier, tmp_path: Path) -> None:
    history = {**fitted.history_, "val_loss": [0.5], "val_accuracy": [0.8]}
    ax = plot_history(history)
    lines = ax.get_lines() + ax.figure.axes[1].get_lines()
    assert sorted(line.get_label() for line in lines) == sorted(history)
    ax.figure.savefig(tmp_path / "history.png")
    assert Image.open(tmp_path / "history.png").format == "PNG"
    plt.close("all")


def test_history_without_metrics_is_refused() -> None:
    with pytest.raises(ValueError, match="'loss' or 'accuracy'"):
        plot_history({"lr": [0.1]})


def test_confusion_matrix_is_drawn_with_its_counts(
    fitted: DigitClassifier, test_slice: Split
) -> None:
    x, y = test_slice
    predicted = fitted.predict(x)
    fig, ax = plt.subplots()
    assert plot_confusion_matrix(y, predicted, ax=ax) is ax
    counts = sorted(int(text.get_text()) for text in ax.texts)
    assert sum(counts) == len(y)
    right = int((predicted == y).sum())
    assert ax.get_title() == f"Confusion matrix ({right:,} of {len(y):,} right)"
    plt.close(fig)


@pytest.mark.parametrize("max_images", [1, 4, 25])
def test_misclassified_digits_are_drawn_with_both_labels(
    test_slice: Split, max_images: int
) -> None:
    x, y = test_slice
    predicted = (y + (np.arange(len(y)) % 7 == 0)) % 10  # every seventh image "wrong"
    fig = plot_misclassified(x, y, predicted, max_images=max_images)
    drawn = [ax for ax in fig.axes if ax.images]
    assert len(drawn) == max_images
    first = int(np.flatnonzero(predicted != y)[0])
    assert drawn[0].get_title() == f"{y[first]} → {predicted[first]}"
    assert fig._suptitle.get_text() == f"Misclassified: {(predicted != y).sum():,} of {len(y):,}"
    plt.close(fig)


def test_no_misclassified_digits_says_so(test_slice: Split) -> None:
    x, y = test_slice
    fig = plot_misclassified(x[:10], y[:10], y[:10])
    assert [t.get_text() for t in fig.texts] == [
        "Misclassified: 0 of 10",
        "no misclassified digits",
    ]
    plt.close(fig)


@pytest.mark.parametrize(
    ("max_images", "error", "message"),
    [
        (0, ValueError, "max_images must be at least 1; got 0"),
        (-1, ValueError, "max_images must be at least 1; got -1"),
        (2.5, TypeError, "max_images must be an int; got float 2.5"),
        (True, TypeError, "max_images must be an int; got bool True"),
    ],
)
def test_misclassified_rejects_a_bad_count(
    test_slice: Split, max_images: object, error: type[Exception], message: str
) -> None:
    x, y = test_slice
    with pytest.raises(error, match=message):
        plot_misclassified(x[:3], y[:3], y[:3], max_images=max_images)  # type: ignore[arg-type]


def test_plots_without_matplotlib_say_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install 'digitcnn\[plot\]'"):
        plot_history({"loss": [1.0]})


def test_evaluate_saves_the_plots(
    fitted: DigitClassifier,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    model = tmp_path / "m.keras"
    fitted.save(model)
    output = tmp_path / "report.png"
    status = main(["evaluate", str(model), "--data", str(MNIST_DIR), "--plot", str(output)])
    out, err = capsys.readouterr()
    assert (status, err) == (0, "")
    assert out.endswith(f"plots saved to {output}\n")
    assert Image.open(output).size == (1800, 600)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.keras", "report.png"]
