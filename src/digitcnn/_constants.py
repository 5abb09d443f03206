"""Named constants shared by every layer of digitcnn, each defined once.

Nothing here imports TensorFlow, so that the file formats and the image code
can learn the model's input shape without building a network.
"""

from __future__ import annotations

__all__ = [
    "IMAGE_SIZE",
    "INPUT_SHAPE",
    "MAX_MODELS",
    "MAX_PIXEL",
    "MAX_PIXEL_16BIT",
    "NUM_CLASSES",
    "N_PIXELS",
    "PREDICT_BATCH_SIZE",
]

IMAGE_SIZE = 28
"""Height and width of an MNIST image, in pixels."""

N_PIXELS = IMAGE_SIZE * IMAGE_SIZE
"""Number of pixels of one image, the length of a flattened image (784)."""

INPUT_SHAPE = (IMAGE_SIZE, IMAGE_SIZE, 1)
"""Shape of one model input: a single-channel 28x28 image with values in [0, 1]."""

NUM_CLASSES = 10
"""Number of classes: the digits 0 to 9."""

CTC_BLANK = NUM_CLASSES
"""The number reader's class for "no digit here" (CTC's blank); the digits keep 0-9."""

MAX_PIXEL = 255
"""Largest value of an integer (8-bit) pixel; integer images are divided by it."""

MAX_PIXEL_16BIT = 65535
"""Largest value of a 16-bit pixel, which a picture file (not a model input) may have."""

PREDICT_BATCH_SIZE = 1024
"""Images per forward pass in prediction: bounds memory, keeps the CPU busy."""

MAX_MODELS = 20
"""The most networks an ensemble may have: each costs a full training and a forward pass."""
