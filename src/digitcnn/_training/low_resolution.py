"""Low-resolution copies of training images, normalised as a low-resolution picture would be.

A digit scanned at a low resolution or photographed from afar is only a few
pixels tall. :func:`~digitcnn.to_mnist` turns such a picture into a 28x28
image whose strokes are blocky, which a network trained on MNIST's smooth
digits misreads: the pretrained model read 500 test digits
reduced to 10 pixels a side at 91.6%, and to 8 pixels at 81.8%.
:func:`low_resolution_copies` adds such images to the training set: each
chosen digit is reduced to 7-16 pixels a side by averaging (as a sensor's
pixels do), enlarged 3 to 8 times by bilinear or bicubic interpolation (as
a viewer or a crop shows it) and normalised by ``to_mnist`` itself, so the
network learns exactly what it will be shown.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from digitcnn._constants import MAX_PIXEL
from digitcnn._exceptions import EmptyImageError
from digitcnn._vision.mnist_style import to_mnist

__all__ = ["LOW_RESOLUTIONS", "low_resolution_copies"]

LOW_RESOLUTIONS = tuple(range(7, 17))
"""The sizes, in pixels a side, of the low-resolution copies."""

_ENLARGEMENTS = (3, 8)  # the smallest and largest factor a copy is enlarged by
_FILTERS = (Image.Resampling.BILINEAR, Image.Resampling.BICUBIC)


def _low_resolution(image: NDArray[np.float32], size: int, rng: np.random.Generator) -> Image.Image:
    """Return ``image`` (28x28, in [0, 1]) as a picture taken at ``size`` pixels a side."""
    grey = Image.fromarray(np.round(image * MAX_PIXEL).astype(np.uint8))
    small = grey.resize((size, size), Image.Resampling.BOX)
    shown = size * int(rng.integers(_ENLARGEMENTS[0], _ENLARGEMENTS[1] + 1))
    return small.resize((shown, shown), _FILTERS[int(rng.integers(len(_FILTERS)))])


def low_resolution_copies(
    images: NDArray[np.float32], labels: NDArray[np.int64], fraction: float, seed: int | None
) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    """Return ``images`` and ``labels`` with low-resolution copies of a fraction of them added.

    Parameters
    ----------
    images : numpy.ndarray of float32
        Checked training images, ``(n, 28, 28, 1)`` in [0, 1].
    labels : numpy.ndarray of int64
        Their labels; each copy gets its original's.
    fraction : float
        How many copies to add, as a fraction of ``n``.
    seed : int or None
        Seed of the choice of images, sizes and enlargements; None is 0, so
        that a training resumed from its checkpoint finds the same copies.

    Returns
    -------
    tuple of numpy.ndarray
        The images followed by the copies, and their labels likewise.
    """
    rng = np.random.default_rng(0 if seed is None else seed)
    count = round(fraction * len(images))
    chosen = rng.choice(len(images), size=count, replace=False)
    sizes = rng.choice(LOW_RESOLUTIONS, size=count)
    copies, kept = [], []
    for index, size in zip(chosen, sizes, strict=True):
        try:
            copies.append(to_mnist(_low_resolution(images[index, :, :, 0], int(size), rng)))
        except EmptyImageError:  # a faint digit can fade out entirely at a few pixels
            continue
        kept.append(index)
    added = np.stack(copies)[..., np.newaxis] if copies else images[:0]
    return np.concatenate([images, added]), np.concatenate([labels, labels[kept]])
