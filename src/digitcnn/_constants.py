"""Named constants shared by every layer of digitcnn, each defined once."""

from __future__ import annotations

__all__ = ["IMAGE_SIZE", "MAX_PIXEL", "NUM_CLASSES", "N_PIXELS"]

IMAGE_SIZE = 28
"""Height and width of an MNIST image, in pixels."""

N_PIXELS = IMAGE_SIZE * IMAGE_SIZE
"""Number of pixels of one image, the length of a flattened image (784)."""

NUM_CLASSES = 10
"""Number of classes: the digits 0 to 9."""

MAX_PIXEL = 255
"""Largest value of an integer (8-bit) pixel; integer images are divided by it."""
