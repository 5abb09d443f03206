"""DigitClassifier: a scikit-learn-style estimator around the digitcnn CNN."""

from __future__ import annotations

import dataclasses
import importlib.resources
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import keras
import numpy as np
import tensorflow as tf
from numpy.typing import ArrayLike
from typing_extensions import Self

from digitcnn._constants import NUM_CLASSES
from digitcnn._estimator.base import BaseDigitClassifier, BatchForward
from digitcnn._estimator.params import ParamsMixin
from digitcnn._forward import compiled_forward
from digitcnn._io.export import export_model
from digitcnn._io.model_file import read_model, write_model
from digitcnn._training.checkpoint import TrainingCheckpoint
from digitcnn._training.networks import compiled_model
from digitcnn._training.pipeline import invalid_element, training_data
from digitcnn._training.recipes import DEFAULT_RECIPE, Recipe, resolve_recipe
from digitcnn._types import ExportFormat
from digitcnn._validation import check_choice, check_scalar

__all__ = ["DigitClassifier"]


class DigitClassifier(ParamsMixin, BaseDigitClassifier):
    """Handwritten digit classifier: a Keras CNN behind a scikit-learn-style API.

    Hyperparameters are stored unchanged by the constructor and checked by
    :meth:`fit`, which builds and trains a new network; everything learned
    ends in an underscore.

    Parameters
    ----------
    recipe : {"accurate", "fast", "classic"}, default "accurate"
        The network and training settings to start from (see
        :data:`~digitcnn.RECIPES`): ``"accurate"`` reaches over 99.5% on the MNIST
        test set in 7 to 11 minutes on 2 CPU cores; ``"fast"`` reaches 99% in
        seconds; ``"classic"`` is the network of the classic community
        tutorials (one 28-filter 3x3 convolution, max-pooling, dense 128,
        dropout 0.2), for comparison.
    epochs : int, optional
        Number of passes over the training images; default: the recipe's.
    batch_size : int, optional
        Number of images per optimisation step; default: the recipe's.
    learning_rate : float, optional
        Peak learning rate of Adam; default: the recipe's. The ``"accurate"``
        and ``"fast"`` recipes warm it up linearly over the first tenth of
        training and then decay it to zero along a cosine.
    augment : bool, optional
        Whether training images are randomly rotated (up to 10 degrees),
        shifted (up to 10%) and zoomed (up to 10%); default: the recipe's.
    seed : int or None, default None
        Seed for weight initialisation, shuffling, dropout and augmentation.
        With a seed, fitting twice on the same data on the same machine gives
        the same predictions. Seeding sets Python's, NumPy's and TensorFlow's
        global random states (:func:`keras.utils.set_random_seed`).
    verbose : int, default 0
        Keras's training output: 0 silent, 1 progress bar, 2 one line per epoch.

    Attributes
    ----------
    recipe_ : Recipe
        The settings the network was trained with: the recipe with the
        explicit arguments applied.
    model_ : keras.Model
        The trained network; maps float32 ``(n, 28, 28, 1)`` images in [0, 1]
        to ``(n, 10)`` probabilities.
    history_ : dict of str to list of float
        Loss and accuracy per epoch (and ``val_loss``, ``val_accuracy`` when
        validation data was given), as in :attr:`keras.callbacks.History.history`.
    classes_ : numpy.ndarray of int64
        The class labels, ``array([0, 1, ..., 9])``.

    Examples
    --------
    >>> from digitcnn import DigitClassifier, load_mnist
    >>> (x_train, y_train), (x_test, y_test) = load_mnist("data/mnist")
    >>> clf = DigitClassifier(epochs=1, seed=0).fit(x_train[:2000], y_train[:2000])
    >>> clf.predict(x_test[:5]).shape
    (5,)
    >>> clf.predict_proba(x_test[:5]).sum(axis=1).round(3)
    array([1., 1., 1., 1., 1.], dtype=float32)
    """

    def __init__(
        self,
        *,
        recipe: str = DEFAULT_RECIPE,
        epochs: int | None = None,
        batch_size: int | None = None,
        learning_rate: float | None = None,
        augment: bool | None = None,
        seed: int | None = None,
        verbose: int = 0,
    ) -> None:
        self.recipe = recipe
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.augment = augment
        self.seed = seed
        self.verbose = verbose

    _estimator_type = "classifier"  # scikit-learn before 1.6 reads this

    def __sklearn_tags__(self) -> Any:
        """Describe the estimator to scikit-learn (1.6 and later), which must be installed.

        Returns
        -------
        sklearn.utils.Tags
            A classifier that needs labels and takes image arrays of 2 or 3 dimensions.
        """
        from sklearn.utils import ClassifierTags, InputTags, Tags, TargetTags

        return Tags(
            estimator_type="classifier",
            target_tags=TargetTags(required=True),
            classifier_tags=ClassifierTags(multi_class=True),
            input_tags=InputTags(two_d_array=True, three_d_array=True),
        )

    def _resolve_recipe(self) -> Recipe:
        """Check the hyperparameters and return the recipe with the explicit ones applied."""
        check_scalar(self.seed, "seed", int, min_val=0, allow_none=True)
        check_choice(self.verbose, "verbose", [0, 1, 2])
        return resolve_recipe(
            self.recipe,
            epochs=self.epochs,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            augment=self.augment,
        )

    # -- training ------------------------------------------------------------

    def fit(
        self,
        x: ArrayLike | tf.data.Dataset,
        y: ArrayLike | None = None,
        *,
        validation_data: tuple[ArrayLike, ArrayLike] | tf.data.Dataset | None = None,
        callbacks: Sequence[keras.callbacks.Callback] | None = None,
        checkpoint_dir: os.PathLike[str] | str | None = None,
    ) -> Self:
        """Train a new network on images ``x`` with labels ``y``.

        Parameters
        ----------
        x : array_like or tf.data.Dataset
            Images, in any layout that :func:`~digitcnn.preprocess_images`
            accepts; or a :class:`tf.data.Dataset` of ``(image, label)``
            pairs, one unbatched image per element, of known size, which
            streams (so it may be larger than memory) and is checked against
            the same contract as it streams. digitcnn shuffles it (in a buffer
            of 10,000 elements), batches and prefetches it.
        y : array_like, optional
            Digit labels 0-9, shape ``(n,)``; ``None`` when ``x`` is a dataset.
        validation_data : tuple of (array_like, array_like) or tf.data.Dataset, optional
            Images and labels (or a dataset like ``x``) evaluated at the end of
            each epoch; their loss and accuracy go into :attr:`history_` as
            ``val_loss`` and ``val_accuracy``.
        callbacks : sequence of keras.callbacks.Callback, optional
            Keras callbacks passed to :meth:`keras.Model.fit`.
        checkpoint_dir : path-like, optional
            A folder for a checkpoint of the training state — weights,
            optimizer state, epoch and history — written at the end of every
            epoch. If training is interrupted (the process killed, the machine
            down), the same call resumes after the last completed epoch and
            ends with the same number of epochs. It must be new, empty, or
            hold the checkpoint of this same training (settings, seed and
            data); it is deleted when training completes. A resumed training
            is not bit-identical to an uninterrupted one: the random state of
            shuffling and augmentation starts afresh.

        Returns
        -------
        DigitClassifier
            ``self``, fitted.

        Raises
        ------
        TypeError, ValueError
            If a hyperparameter, the images, the labels, ``validation_data``,
            ``callbacks`` or ``checkpoint_dir`` are invalid; for a dataset,
            also when an invalid element streams by during training.

        Notes
        -----
        Under a :class:`tf.distribute.MirroredStrategy` scope, the network is
        built and trained on all the strategy's devices::

            with tf.distribute.MirroredStrategy().scope():
                clf.fit(x_train, y_train)
        """
        recipe = self._resolve_recipe()
        data = training_data(x, y, validation_data, batch_size=recipe.batch_size, seed=self.seed)
        callback_list = list(callbacks or [])
        for callback in callback_list:
            if not isinstance(callback, keras.callbacks.Callback):
                raise TypeError(
                    f"callbacks must be keras.callbacks.Callback instances; got {callback!r}"
                )

        checkpoint = None
        if checkpoint_dir is not None:
            settings = {"recipe": dataclasses.asdict(recipe), "seed": self.seed}
            checkpoint = TrainingCheckpoint(checkpoint_dir, {**settings, **data.identity()})
            callback_list = checkpoint.callbacks() + callback_list

        if self.seed is not None:
            keras.utils.set_random_seed(int(self.seed))
        model = compiled_model(recipe, total_steps=recipe.epochs * data.steps(recipe.batch_size))
        try:
            history = model.fit(
                **data.fit_arguments,
                epochs=recipe.epochs,
                verbose=int(self.verbose),
                callbacks=callback_list,
            )
        except Exception as error:
            clear = invalid_element(error)
            if clear is None:
                raise
            raise clear from None
        self.recipe_ = recipe
        self.model_ = model
        self.history_ = (
            checkpoint.history(recipe.epochs)
            if checkpoint is not None
            else {key: [float(v) for v in values] for key, values in history.history.items()}
        )
        self.classes_ = np.arange(NUM_CLASSES, dtype=np.int64)
        return self

    # -- inference -------------------------------------------------------------

    def __sklearn_is_fitted__(self) -> bool:
        """Return whether the classifier has a network: fitted, loaded or pretrained.

        This is scikit-learn's protocol, which
        :func:`sklearn.utils.validation.check_is_fitted` calls.
        """
        return hasattr(self, "model_")

    def _batch_forward(self) -> BatchForward:
        forward = compiled_forward(self.model_)
        return lambda batch: forward(batch).numpy()

    # -- persistence -----------------------------------------------------------

    def save(self, path: os.PathLike[str] | str) -> None:
        """Save the fitted classifier to one ``.keras`` file, atomically.

        The file is a standard Keras archive that also carries digitcnn's
        metadata: library and framework versions, the preprocessing contract,
        the hyperparameters, the training history and the final metrics. It is
        written to a temporary file and renamed into place, so an existing file
        at ``path`` is replaced only by a complete new one.

        Parameters
        ----------
        path : os.PathLike or str
            Destination; must end in ``.keras``; its folder must exist.

        Raises
        ------
        NotFittedError
            If the classifier was neither fitted nor loaded.
        ValueError
            If ``path`` does not end in ``.keras``.
        FileNotFoundError
            If the folder of ``path`` does not exist.
        """
        self._check_fitted()
        write_model(
            path,
            self.model_,
            params=self.get_params(),
            recipe=self.recipe_,
            history=self.history_,
            classes=self.classes_,
        )

    def export(
        self,
        path: os.PathLike[str] | str,
        *,
        format: ExportFormat = "savedmodel",
        quantize: Literal["int8"] | None = None,
        representative_images: ArrayLike | None = None,
    ) -> Path:
        """Export the fitted network for deployment without digitcnn.

        Parameters
        ----------
        path : os.PathLike or str
            Destination: a folder for ``"savedmodel"``, a file (conventionally
            ``.tflite``) for ``"tflite"``. It is replaced only once the export
            is complete.
        format : {"savedmodel", "tflite"}, default "savedmodel"
            A TensorFlow SavedModel, servable by TensorFlow Serving and loadable
            with :func:`tf.saved_model.load` (its ``serve`` signature takes
            float32 ``(n, 28, 28, 1)`` images in [0, 1]), or a TensorFlow Lite
            flatbuffer for mobile and embedded use; open the latter with
            :class:`~digitcnn.TFLiteClassifier`.
        quantize : {None, "int8"}, default None
            With ``"int8"`` (TensorFlow Lite only), weights and activations are
            quantized to 8-bit integers after training; inputs and outputs
            stay float32.
        representative_images : array_like, optional
            Required for ``quantize="int8"``: a few hundred training images
            that calibrate the integer ranges (the first 500 are used).

        Returns
        -------
        pathlib.Path
            The path written.

        Raises
        ------
        NotFittedError
            If the classifier was neither fitted nor loaded.
        ValueError
            If ``format`` or ``quantize`` is unknown, or int8 is asked for
            without representative images.
        FileNotFoundError
            If the folder of ``path`` does not exist.
        """
        self._check_fitted()
        return export_model(
            self.model_,
            path,
            format=format,
            quantize=quantize,
            representative_images=representative_images,
        )

    @classmethod
    def pretrained(cls) -> Self:
        """Load the model that ships with digitcnn, offline.

        It was trained by the default (``"accurate"``) recipe with seed 0 on
        the 60,000 MNIST training images; ``pretrained/mnist.json`` in the
        package records how (command, seed, data checksums, versions) and its
        test accuracy. ``python examples/make_pretrained.py`` in the
        repository makes it again.

        Returns
        -------
        DigitClassifier
            A fitted classifier, ready for :meth:`predict` and :meth:`predict_images`.
        """
        resource = importlib.resources.files("digitcnn") / "pretrained" / "mnist.keras"
        with importlib.resources.as_file(resource) as path:
            return cls.load(path)

    @classmethod
    def load(cls, path: os.PathLike[str] | str) -> Self:
        """Load a classifier saved by :meth:`save`.

        Keras's safe mode stays on: nothing in the file can run code.
        Predictions after a save and load are bit-identical to those before.

        Parameters
        ----------
        path : os.PathLike or str
            A ``.keras`` file written by :meth:`save`.

        Returns
        -------
        DigitClassifier
            A fitted classifier with the saved hyperparameters, history and
            ``recipe_``: the recipe as it was when the network was trained,
            even if a later release retuned the recipe of that name.

        Raises
        ------
        FileNotFoundError
            If ``path`` does not exist.
        ValueError
            If the file is not a digitcnn model, comes from an incompatible
            version, or is corrupted.
        """
        saved = read_model(path)
        # Stored unchanged, as by the constructor: they are checked when the
        # classifier is fitted again, and recipe_ says what this network was trained with.
        classifier = cls._from_saved_params(saved.params, path)
        classifier.recipe_ = saved.recipe  # as trained, even if the recipe was retuned since
        classifier.model_ = saved.model
        classifier.history_ = saved.history
        classifier.classes_ = saved.classes
        return classifier
