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
- :func:`multi_worker_strategy`, the TensorFlow strategy under which ``fit``
  trains one model across several machines;
- :func:`create_app`, the web page and HTTP API of ``digitcnn serve`` (with
  the ``serve`` extra: FastAPI and uvicorn);
- :func:`confusion_matrix`, and the figures :func:`plot_history`,
  :func:`plot_confusion_matrix` and :func:`plot_misclassified` (with the
  ``plot`` extra, matplotlib);
- the constants :data:`IMAGE_SIZE` and :data:`NUM_CLASSES`, the exceptions
  :class:`NotFittedError`, :class:`DataUnavailableError` and
  :class:`EmptyImageError`, and the type aliases :data:`ImageInput` and
  :data:`MNISTSplits`.

Each public name is loaded on first use, not by ``import digitcnn`` itself, so
that a program (the command line) can configure TensorFlow before it loads,
and the parts that need no TensorFlow (reading MNIST files and pictures,
:class:`TFLiteClassifier` with LiteRT) load none. digitcnn needs Keras on the
TensorFlow backend (for ``tf.function``, ``tf.data`` and ``tf.lite``): the
import refuses ``KERAS_BACKEND`` set to another, and loading the classifier
checks the backend Keras actually chose.
"""

from __future__ import annotations

import importlib
import inspect
import os
from typing import TYPE_CHECKING, Any

from digitcnn._version import __version__

if TYPE_CHECKING:
    from digitcnn._constants import IMAGE_SIZE, NUM_CLASSES
    from digitcnn._estimator.classifier import DigitClassifier
    from digitcnn._estimator.number_reader import NumberReader
    from digitcnn._estimator.readings import UNREAD, DigitString, ImageReading
    from digitcnn._estimator.tflite import TFLiteClassifier
    from digitcnn._exceptions import DataUnavailableError, EmptyImageError, NotFittedError
    from digitcnn._io.mnist_files import DATA_ENV_VAR, load_mnist, read_idx
    from digitcnn._metrics import confusion_matrix
    from digitcnn._plots import plot_confusion_matrix, plot_history, plot_misclassified
    from digitcnn._serve.app import create_app
    from digitcnn._training.cluster import multi_worker_strategy
    from digitcnn._training.recipes import RECIPES, Recipe
    from digitcnn._types import ImageInput, MNISTSplits
    from digitcnn._validation import preprocess_images, preprocess_labels
    from digitcnn._vision.mnist_style import to_mnist

_HOMES = {
    "DATA_ENV_VAR": "digitcnn._io.mnist_files",
    "IMAGE_SIZE": "digitcnn._constants",
    "NUM_CLASSES": "digitcnn._constants",
    "RECIPES": "digitcnn._training.recipes",
    "UNREAD": "digitcnn._estimator.readings",
    "DataUnavailableError": "digitcnn._exceptions",
    "DigitClassifier": "digitcnn._estimator.classifier",
    "DigitString": "digitcnn._estimator.readings",
    "EmptyImageError": "digitcnn._exceptions",
    "ImageInput": "digitcnn._types",
    "ImageReading": "digitcnn._estimator.readings",
    "MNISTSplits": "digitcnn._types",
    "NotFittedError": "digitcnn._exceptions",
    "NumberReader": "digitcnn._estimator.number_reader",
    "Recipe": "digitcnn._training.recipes",
    "TFLiteClassifier": "digitcnn._estimator.tflite",
    "confusion_matrix": "digitcnn._metrics",
    "create_app": "digitcnn._serve.app",
    "load_mnist": "digitcnn._io.mnist_files",
    "multi_worker_strategy": "digitcnn._training.cluster",
    "plot_confusion_matrix": "digitcnn._plots",
    "plot_history": "digitcnn._plots",
    "plot_misclassified": "digitcnn._plots",
    "preprocess_images": "digitcnn._validation",
    "preprocess_labels": "digitcnn._validation",
    "read_idx": "digitcnn._io.mnist_files",
    "to_mnist": "digitcnn._vision.mnist_style",
}
"""Each public name and the private module that defines it."""

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
    "ImageInput",
    "ImageReading",
    "MNISTSplits",
    "NotFittedError",
    "NumberReader",
    "Recipe",
    "TFLiteClassifier",
    "__version__",
    "confusion_matrix",
    "create_app",
    "load_mnist",
    "multi_worker_strategy",
    "plot_confusion_matrix",
    "plot_history",
    "plot_misclassified",
    "preprocess_images",
    "preprocess_labels",
    "read_idx",
    "to_mnist",
]


_NEEDS_KERAS = frozenset(
    {"digitcnn._estimator.classifier", "digitcnn._estimator.number_reader", "digitcnn._serve.app"}
)
"""The homes of public names that load Keras, whose backend is checked first."""


def _require_tensorflow_backend(backend: str) -> None:
    """Raise a clear ImportError unless ``backend`` is Keras's TensorFlow backend."""
    if backend != "tensorflow":
        raise ImportError(
            f"digitcnn needs Keras on the TensorFlow backend (it uses tf.function, tf.data "
            f"and tf.lite), but Keras is set to {backend!r}. Unset KERAS_BACKEND or set it "
            "to 'tensorflow' (and check ~/.keras/keras.json) before importing digitcnn"
        )


def _check_keras_backend() -> None:
    """Load Keras and check the backend it chose (from KERAS_BACKEND or keras.json)."""
    try:
        import keras
    except ImportError as error:  # keras.json names a backend that is not installed
        raise ImportError(
            f"digitcnn needs Keras on the TensorFlow backend, and Keras failed to load "
            f"({error}). Check the backend in ~/.keras/keras.json (or $KERAS_HOME)"
        ) from error

    _require_tensorflow_backend(keras.backend.backend())


# At import, without loading Keras: the environment variable that overrides keras.json.
_require_tensorflow_backend(os.environ.get("KERAS_BACKEND", "tensorflow"))


def __getattr__(name: str) -> Any:
    """Load the public name ``name`` from its home, shown as ``digitcnn.<name>``."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if home in _NEEDS_KERAS:
        _check_keras_backend()
    value = importlib.import_module(home).__dict__[name]
    # Show public names as digitcnn.X (in tracebacks, reprs and the docs), not
    # by the private module that defines them, as httpx does.
    if inspect.isclass(value) or inspect.isfunction(value):
        value.__module__ = __name__
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
