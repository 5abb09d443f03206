"""DigitClassifier: a scikit-learn-style estimator around the digitcnn CNN."""

from __future__ import annotations

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

from digitcnn._constants import MAX_MODELS, NUM_CLASSES
from digitcnn._estimator.base import BaseDigitClassifier, BatchForward
from digitcnn._estimator.params import ParamsMixin
from digitcnn._forward import compiled_forward
from digitcnn._io.export import export_model
from digitcnn._io.model_file import read_model, write_model
from digitcnn._training.fitting import continued_history, mean_history, train
from digitcnn._training.networks import ensemble_members, ensemble_network
from digitcnn._training.pipeline import training_data
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
    recipe : {"accurate", "robust", "deep", "slim", "fast", "classic"}, default "accurate"
        The network and training settings to start from (see
        :data:`~digitcnn.RECIPES`): ``"accurate"`` reaches over 99.5% on the MNIST
        test set in 7 to 11 minutes on 2 CPU cores; ``"robust"`` also reads
        digits from low-resolution scans; ``"deep"``, a network of three times
        the arithmetic, reaches about 99.67%, for ensembles; ``"slim"``, the same
        network at half the width and four-fifths of the default's arithmetic,
        is the student to distil an ensemble into; ``"fast"`` reaches 99% in
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
    n_models : int, default 1
        The number of networks trained, each with its own seed (``seed``,
        ``seed + 1``, ...); with more than one, the classifier is their
        ensemble: it predicts the mean of their probabilities, in one
        network that saves to one file. An ensemble of 3 costs 3 times the
        training and the prediction of one network.
    tta : bool, default False
        Test-time augmentation: predict each image and its copies shifted
        by one pixel in the eight directions, and average the nine
        probabilities. It costs 9 times the prediction, in every method
        that predicts; set it on a loaded classifier with
        ``set_params(tta=True)``.
    warm_start : bool, default False
        As in scikit-learn: when True and the classifier is fitted, ``fit``
        goes on training its network (each of an ensemble's members) from
        the weights it has, by the recipe's schedule and epochs, instead of
        training a new one; the recipe must have the same architecture, and
        :attr:`history_` goes on too. So the pretrained model can be
        fine-tuned on a user's own digits::

            clf = DigitClassifier.pretrained()
            clf.set_params(warm_start=True, epochs=3, learning_rate=3e-4)
            clf.fit(my_images, my_labels)

        When False (or the classifier is not fitted), ``fit`` starts afresh.
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
        validation data was given), as in :attr:`keras.callbacks.History.history`;
        for an ensemble, the mean over its members. After a warm start, the
        epochs before it come first; a metric that only one of the trainings
        recorded is NaN for the other's epochs.
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
        n_models: int = 1,
        tta: bool = False,
        warm_start: bool = False,
        seed: int | None = None,
        verbose: int = 0,
    ) -> None:
        self.recipe = recipe
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.augment = augment
        self.n_models = n_models
        self.tta = tta
        self.warm_start = warm_start
        self.seed = seed
        self.verbose = verbose

    _estimator_type = "classifier"  # scikit-learn before 1.6 reads this
    recipe_: Recipe
    model_: keras.Model
    history_: dict[str, list[float]]

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
        check_scalar(self.n_models, "n_models", int, min_val=1, max_val=MAX_MODELS)
        check_scalar(self.tta, "tta", bool)
        check_scalar(self.warm_start, "warm_start", bool)
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
        teacher: DigitClassifier | None = None,
    ) -> Self:
        """Train a new network (or ``n_models`` of them) on images ``x`` with labels ``y``.

        With ``warm_start``, a fitted classifier's networks go on training instead.

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
            shuffling and augmentation starts afresh. An ensemble keeps its
            finished members there, and resumes with the one it was training.
        teacher : DigitClassifier, optional
            A fitted classifier, typically an ensemble, to distil: the new
            network learns the teacher's probabilities (softened by a
            temperature of 4) as well as the labels, half and half (Hinton
            et al., 2015). The teacher reads each training image as the
            student sees it, augmentation included, in the same step, which
            costs its forward pass per step. Its ``tta`` setting is not used.

        Returns
        -------
        DigitClassifier
            ``self``, fitted.

        Raises
        ------
        TypeError, ValueError
            If a hyperparameter, the images, the labels, ``validation_data``,
            ``callbacks``, ``checkpoint_dir`` or ``teacher`` are invalid, or a
            warm start cannot go on by the recipe with ``n_models`` networks; for
            a dataset, also when an invalid element streams by during training.
        NotFittedError
            If ``teacher`` is not fitted.

        Notes
        -----
        Under a :class:`tf.distribute.MirroredStrategy` scope, the network is
        built and trained on all the strategy's devices::

            with tf.distribute.MirroredStrategy().scope():
                clf.fit(x_train, y_train)

        Under a :class:`tf.distribute.MultiWorkerMirroredStrategy` scope
        (see :func:`~digitcnn.multi_worker_strategy`), it is trained across
        all the workers of ``TF_CONFIG``: ``batch_size`` must then be a
        multiple of the number of replicas, ``validation_data`` is not
        supported, and only the chief writes ``checkpoint_dir``, which every
        worker must see.
        """
        recipe = self._resolve_recipe()
        if teacher is not None:
            if not isinstance(teacher, DigitClassifier):
                raise TypeError(f"teacher must be a fitted DigitClassifier; got {teacher!r}")
            teacher._check_fitted()
        start = self._warm_start_networks(recipe)
        data = training_data(
            x,
            y,
            validation_data,
            batch_size=recipe.batch_size,
            seed=self.seed,
            low_resolution=recipe.low_resolution,
        )
        callback_list = list(callbacks or [])
        for callback in callback_list:
            if not isinstance(callback, keras.callbacks.Callback):
                raise TypeError(
                    f"callbacks must be keras.callbacks.Callback instances; got {callback!r}"
                )
        model, history = train(
            recipe,
            data,
            n_models=int(self.n_models),
            seed=None if self.seed is None else int(self.seed),
            verbose=int(self.verbose),
            callbacks=callback_list,
            checkpoint_dir=None if checkpoint_dir is None else Path(checkpoint_dir),
            teacher=None if teacher is None else teacher.model_,
            start=start,
        )
        self.model_ = model
        self.history_ = history if start is None else continued_history(self.history_, history)
        self.recipe_ = recipe
        self.classes_ = np.arange(NUM_CLASSES, dtype=np.int64)
        return self

    def _warm_start_networks(self, recipe: Recipe) -> list[keras.Model] | None:
        """Return the networks a warm start goes on training, one per member, or None.

        Raises
        ------
        ValueError
            If they cannot go on by ``recipe`` with ``n_models`` members.
        """
        if not self.warm_start or not hasattr(self, "model_"):
            return None
        if recipe.architecture != self.recipe_.architecture:
            raise ValueError(
                f"warm_start goes on training the fitted {self.recipe_.architecture!r} "
                f"network, so the recipe must have that architecture; got "
                f"{recipe.name!r}, whose architecture is {recipe.architecture!r}"
            )
        members = ensemble_members(self.model_)
        if len(members) != self.n_models:
            raise ValueError(
                f"warm_start goes on training the fitted {len(members)} network(s), so "
                f"n_models must be {len(members)}; got n_models={self.n_models}"
            )
        return members

    @classmethod
    def from_members(cls, members: Sequence[DigitClassifier]) -> Self:
        """Return the ensemble of fitted classifiers: the mean of their probabilities.

        This is what ``fit`` makes with ``n_models`` greater than 1, for
        classifiers trained separately: on several machines, one a day, or
        to try ensembles of several sizes from the same networks, or to join
        networks of several recipes (the ``"deep"`` recipe's beside the
        default's). An ensemble among the members gives each of its networks
        a vote.

        Parameters
        ----------
        members : sequence of DigitClassifier
            At least two fitted classifiers.

        Returns
        -------
        DigitClassifier
            A fitted classifier whose ``n_models`` is the number of networks,
            with the first member's other hyperparameters and recipe (which a
            clone's ``fit`` trains every member by), and the mean of the
            members' histories.

        Raises
        ------
        TypeError
            If there are fewer than two members, or one is not a
            DigitClassifier.
        NotFittedError
            If a member is not fitted.
        """
        chosen = list(members)
        if len(chosen) < 2 or not all(isinstance(m, DigitClassifier) for m in chosen):
            raise TypeError(
                f"members must be at least two DigitClassifier instances; got {chosen!r}"
            )
        for member in chosen:
            member._check_fitted()
        network = ensemble_network([member.model_ for member in chosen])
        first = chosen[0]
        ensemble = cls(**{**first.get_params(), "n_models": len(ensemble_members(network))})
        ensemble.recipe_ = first.recipe_
        ensemble.model_ = network
        ensemble.history_ = mean_history([member.history_ for member in chosen])
        ensemble.classes_ = first.classes_
        return ensemble

    # -- inference -------------------------------------------------------------

    def __sklearn_is_fitted__(self) -> bool:
        """Return whether the classifier has a network: fitted, loaded or pretrained.

        This is scikit-learn's protocol, which
        :func:`sklearn.utils.validation.check_is_fitted` calls.
        """
        return hasattr(self, "model_")

    def _batch_forward(self) -> BatchForward:
        forward = compiled_forward(self.model_, tta=check_scalar(self.tta, "tta", bool))
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
        the 60,000 MNIST training images, then fine-tuned (``warm_start``)
        for 3 epochs at a learning rate of 0.0003 by the ``"robust"``
        recipe, which adds low-resolution copies of a quarter of them, so
        that it also reads digits from low-resolution scans and distant
        photos. Its hyperparameters are those of the fine-tuning, so that
        ``fit`` fine-tunes it further; ``set_params(warm_start=False)``
        makes ``fit`` start afresh. ``pretrained/mnist.json`` in the
        package records how it was made (command, seed, recipes, data
        checksums, versions) and its test accuracy.
        ``python examples/make_pretrained.py`` in the repository makes it again.

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
