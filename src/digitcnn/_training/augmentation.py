"""Random changes to the training images, as layers that act only during training.

Handwritten digits vary in slant, position and size, so the networks are
trained on images randomly rotated (up to 10 degrees), shifted (up to 10%)
and zoomed (up to 10%). Digits scanned at a low resolution or photographed
from afar also lose their detail: :class:`RandomResolution` shows a fraction
of the training images as they look at 7 to 16 pixels a side, enlarged back
to 28 (MNIST's digits fill 20 of the 28 pixels, so their strokes are then
5 to 11 pixels tall).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras import layers, ops

from digitcnn._constants import IMAGE_SIZE

__all__ = ["LOW_RESOLUTIONS", "RandomResolution", "augmentation"]

LOW_RESOLUTIONS = (7, 8, 9, 10, 11, 12, 14, 16)
"""The sizes, in pixels a side, at which :class:`RandomResolution` shows a 28x28 image."""

_MAX_ROTATION = 10 / 360  # fraction of a full turn, as RandomRotation expects
_MAX_SHIFT = 0.1  # fraction of the image size
_MAX_ZOOM = 0.1


@keras.saving.register_keras_serializable(package="digitcnn")
class RandomResolution(layers.Layer):  # type: ignore[misc]  # Keras is untyped
    """Show a random fraction of the images at a random low resolution, during training.

    Each chosen image is reduced to one of ``sizes`` pixels a side by
    averaging (as a scanner's sensor does) and enlarged back by bilinear
    interpolation; the size is drawn for each image. In inference the layer
    returns its input unchanged.

    Parameters
    ----------
    rate : float
        The fraction of the images changed, in [0, 1].
    sizes : sequence of int, default LOW_RESOLUTIONS
        The low resolutions, in pixels a side, drawn with equal probability.
    seed : int, optional
        Seed of the layer's random draws.
    **kwargs
        Keras layer arguments, such as ``name``.
    """

    def __init__(
        self,
        rate: float,
        sizes: Sequence[int] = LOW_RESOLUTIONS,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.rate = float(rate)
        self.sizes = tuple(int(size) for size in sizes)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images: Any, training: bool = False) -> Any:
        """Return ``images``, a fraction of them at low resolution if ``training``."""
        if not training or self.rate == 0:
            return images
        full = (IMAGE_SIZE, IMAGE_SIZE)
        views = [images] + [
            ops.image.resize(ops.image.resize(images, (size, size), interpolation="area"), full)
            for size in self.sizes
        ]
        n = ops.shape(images)[0]
        changed = keras.random.uniform((n,), seed=self.seed_generator) < self.rate
        size = keras.random.randint((n,), 0, len(self.sizes), seed=self.seed_generator)
        choice = ops.where(changed, size + 1, 0)  # 0: unchanged
        weights = ops.one_hot(choice, len(views), dtype=images.dtype)  # (n, views)
        stacked = ops.stack(views, axis=1)  # (n, views, 28, 28, 1)
        return ops.einsum("nv,nvhwc->nhwc", weights, stacked)

    def compute_output_shape(self, input_shape: Any) -> Any:
        """Return ``input_shape``: the layer changes values, not shapes."""
        return input_shape

    def get_config(self) -> dict[str, Any]:
        """Return the layer's configuration, for saving."""
        return {**super().get_config(), "rate": self.rate, "sizes": self.sizes, "seed": self.seed}


def augmentation(x: Any, *, low_resolution: float = 0.0) -> Any:
    """Return ``x`` through the random training changes (identity in inference).

    Parameters
    ----------
    x : KerasTensor
        The input images, ``(n, 28, 28, 1)``.
    low_resolution : float, default 0.0
        The fraction of images shown at a low resolution first; 0 for none.
    """
    if low_resolution > 0:
        x = RandomResolution(low_resolution, name="low_resolution")(x)
    x = layers.RandomRotation(_MAX_ROTATION, fill_mode="constant", name="rotate")(x)
    x = layers.RandomTranslation(_MAX_SHIFT, _MAX_SHIFT, fill_mode="constant", name="shift")(x)
    return layers.RandomZoom(_MAX_ZOOM, fill_mode="constant", name="zoom")(x)
