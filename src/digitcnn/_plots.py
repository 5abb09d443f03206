"""Figures of a classifier's training and errors, drawn with matplotlib (the ``plot`` extra).

matplotlib is imported only when a figure is drawn, so that digitcnn itself
never depends on it. Each function draws into the axes or figure it is given,
or into a new one, and returns it, in the style of matplotlib and
scikit-learn's displays; nothing is shown or saved, which leaves that to the
caller (``fig.savefig(...)``) and works without a display.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from digitcnn._constants import IMAGE_SIZE, NUM_CLASSES
from digitcnn._metrics import confusion_matrix
from digitcnn._validation import check_scalar, preprocess_images, preprocess_labels

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, SubFigure

__all__ = ["plot_confusion_matrix", "plot_history", "plot_misclassified", "pyplot"]


def pyplot() -> Any:
    """Return ``matplotlib.pyplot``, or say how to install it."""
    try:
        return importlib.import_module("matplotlib.pyplot")
    except ImportError:
        raise ImportError(
            "digitcnn's plots need matplotlib: pip install 'digitcnn[plot]'"
        ) from None


def _new_axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    new: Axes = pyplot().subplots()[1]
    return new


def plot_history(history: Mapping[str, Sequence[float]], *, ax: Axes | None = None) -> Axes:
    """Draw the training curves: loss and accuracy per epoch, and their validation values.

    Parameters
    ----------
    history : mapping of str to sequence of float
        Metric name to one value per epoch, such as a fitted
        :attr:`DigitClassifier.history_`.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default: a new figure. Loss uses the left axis,
        accuracy a twin axis on the right.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on (the loss axis).

    Raises
    ------
    ValueError
        If ``history`` has no ``loss`` or ``accuracy`` values.
    """
    curves = {name: list(values) for name, values in history.items() if len(values)}
    if not {"loss", "accuracy"} & curves.keys():
        raise ValueError(
            f"history must have per-epoch 'loss' or 'accuracy' values; got keys {sorted(history)}"
        )
    ax = _new_axes(ax)
    right = ax.twinx()
    for name, values in sorted(curves.items()):
        epochs = np.arange(1, len(values) + 1)
        target = ax if name.endswith("loss") else right
        style = "--" if name.startswith("val_") else "-"
        colour = "tab:red" if name.endswith("loss") else "tab:blue"
        target.plot(epochs, values, style, color=colour, marker=".", label=name)
    ax.set_xlabel("epoch")
    ax.locator_params(axis="x", integer=True)
    ax.set_ylabel("loss", color="tab:red")
    right.set_ylabel("accuracy", color="tab:blue")
    handles = ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    ax.legend(handles=handles, loc="center right")
    ax.set_title("Training")
    return ax


def plot_confusion_matrix(y_true: ArrayLike, y_pred: ArrayLike, *, ax: Axes | None = None) -> Axes:
    """Draw the confusion matrix of true against predicted digits, with the counts written in.

    Parameters
    ----------
    y_true, y_pred : array_like of int
        True and predicted labels, 0 to 9, of the same length.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default: a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Raises
    ------
    ValueError, TypeError
        If the labels are not digits or their lengths differ.
    """
    matrix = confusion_matrix(y_true, y_pred)
    ax = _new_axes(ax)
    # Log colours: the diagonal's thousands would otherwise hide every error.
    ax.imshow(np.log1p(matrix), cmap="Blues")
    dark = np.log1p(matrix.max()) / 2
    for (true, predicted), count in np.ndenumerate(matrix):
        if count:
            colour = "white" if np.log1p(count) > dark else "black"
            ax.text(predicted, true, str(count), ha="center", va="center", color=colour, size=7)
    ax.set_xticks(range(NUM_CLASSES))
    ax.set_yticks(range(NUM_CLASSES))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    ax.set_title(f"Confusion matrix ({matrix.trace():,} of {matrix.sum():,} right)")
    return ax


def plot_misclassified(
    images: ArrayLike,
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    max_images: int = 25,
    fig: Figure | SubFigure | None = None,
) -> Figure | SubFigure:
    """Draw a grid of the misclassified digits, each titled with its true and predicted label.

    Parameters
    ----------
    images : array_like
        The images, in any shape :func:`~digitcnn.preprocess_images` accepts.
    y_true, y_pred : array_like of int
        True and predicted labels, one per image.
    max_images : int, default 25
        Most digits to draw: the first misclassified ones, in input order.
    fig : matplotlib.figure.Figure or SubFigure, optional
        Where to draw; default: a new figure.

    Returns
    -------
    matplotlib.figure.Figure or SubFigure
        The figure drawn on. With no errors it holds a single line of text
        that says so.

    Raises
    ------
    ValueError, TypeError
        If the images or labels break the input contract, their lengths
        differ, or ``max_images`` is not an integer of at least 1.
    """
    check_scalar(max_images, "max_images", int, min_val=1)
    x = preprocess_images(images)
    truth = preprocess_labels(y_true, len(x))
    predicted = preprocess_labels(y_pred, len(x))
    wrong = np.flatnonzero(truth != predicted)
    if fig is None:
        fig = pyplot().figure(figsize=(6, 6.5))
    fig.suptitle(f"Misclassified: {len(wrong):,} of {len(x):,}")
    if not len(wrong):
        fig.text(0.5, 0.5, "no misclassified digits", ha="center", va="center")
        return fig
    shown = wrong[:max_images]
    columns = int(np.ceil(np.sqrt(len(shown))))
    rows = int(np.ceil(len(shown) / columns))
    axes = np.atleast_1d(fig.subplots(rows, columns, squeeze=False)).ravel()
    for ax in axes:
        ax.set_axis_off()
    for ax, index in zip(axes, shown, strict=False):
        ax.imshow(x[index].reshape(IMAGE_SIZE, IMAGE_SIZE), cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(f"{truth[index]} → {predicted[index]}", size=9, color="tab:red")
    return fig
