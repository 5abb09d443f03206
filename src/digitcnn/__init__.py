"""digitcnn: handwritten digit recognition with a Keras CNN.

The public API:

- :class:`DigitClassifier`, a scikit-learn-style classifier with ``fit``,
  ``evaluate``, ``predict``, ``predict_proba``, ``score``, ``save`` and ``load``;
- :func:`load_mnist` and :func:`read_idx`, which read MNIST from IDX files, a
  Keras-style ``.npz`` or Keras's download;
- :func:`preprocess_images` and :func:`preprocess_labels`, the input contract;
- :data:`RECIPES`, the named training recipes (:class:`Recipe`) that
  ``DigitClassifier(recipe=...)`` trains;
- :func:`to_mnist`, which turns a photo, scan or drawing of a digit into the
  28x28 image MNIST would have, and the classifiers' ``predict_images``,
  ``read_images`` and ``read_digits`` built on it;
- :class:`TFLiteClassifier`, which runs a model exported to TensorFlow Lite;
- :func:`confusion_matrix`, and the figures :func:`plot_history`,
  :func:`plot_confusion_matrix` and :func:`plot_misclassified` (with the
  ``plot`` extra, matplotlib);
- the constants :data:`IMAGE_SIZE` and :data:`NUM_CLASSES`, and the exceptions
  :class:`NotFittedError` and :class:`DataUnavailableError`.
"""

from __future__ import annotations

import os

# TensorFlow's C++ start-up chatter is noise for library users; a user's own setting wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from digitcnn._classifier import DigitClassifier
from digitcnn._constants import IMAGE_SIZE, NUM_CLASSES
from digitcnn._data import DATA_ENV_VAR, load_mnist, read_idx
from digitcnn._exceptions import DataUnavailableError, EmptyImageError, NotFittedError
from digitcnn._export import TFLiteClassifier
from digitcnn._metrics import confusion_matrix
from digitcnn._normalize import to_mnist
from digitcnn._plots import plot_confusion_matrix, plot_history, plot_misclassified
from digitcnn._preprocess import preprocess_images, preprocess_labels
from digitcnn._reading import UNREAD, DigitString, ImageReading
from digitcnn._recipes import RECIPES, Recipe
from digitcnn._version import __version__

__all__ = [
    "DATA_ENV_VAR",
    "IMAGE_SIZE",
    "NUM_CLASSES",
    "RECIPES",
    "UNREAD",
    "DataUnavailableError",
    "DigitClassifier",
    "DigitString",
    "EmptyImageError",
    "ImageReading",
    "NotFittedError",
    "Recipe",
    "TFLiteClassifier",
    "__version__",
    "confusion_matrix",
    "load_mnist",
    "plot_confusion_matrix",
    "plot_history",
    "plot_misclassified",
    "preprocess_images",
    "preprocess_labels",
    "read_idx",
    "to_mnist",
]

# Show public names as digitcnn.X (in tracebacks, reprs and the docs), not by
# the private module that defines them, as httpx does.
for _name in __all__:
    _value = globals()[_name]
    if isinstance(_value, type) or callable(_value):
        _value.__module__ = __name__
del _name, _value
