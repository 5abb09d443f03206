"""Type aliases that appear in digitcnn's signatures, each defined once."""

from __future__ import annotations

import os
from typing import Literal, Union

import numpy as np
from numpy.typing import NDArray
from PIL import Image

__all__ = ["Architecture", "ExportFormat", "ImageInput", "MNISTSplits", "Schedule"]

ImageInput = Union[str, "os.PathLike[str]", bytes, Image.Image, NDArray[np.generic]]
"""A picture as the image functions accept it: a file path, the bytes of an image file, a Pillow
image or a NumPy array."""

MNISTSplits = tuple[
    tuple[NDArray[np.uint8], NDArray[np.uint8]], tuple[NDArray[np.uint8], NDArray[np.uint8]]
]
"""``((x_train, y_train), (x_test, y_test))``, as returned by :func:`~digitcnn.load_mnist`."""

Architecture = Literal["standard", "small", "classic", "deep", "slim"]
"""Names of the network architectures."""

Schedule = Literal["warmup_cosine", "constant"]
"""Names of the learning-rate schedules."""

ExportFormat = Literal["savedmodel", "tflite"]
"""Names of the export formats."""
