"""``NumberReader``: a network that reads a written number whole, trained with CTC."""

from __future__ import annotations

import functools
import importlib.resources
import os

import keras
import numpy as np
from numpy.typing import ArrayLike, NDArray
from typing_extensions import Self

from digitcnn._estimator.params import ParamsMixin
from digitcnn._exceptions import NotFittedError
from digitcnn._forward import compiled_forward
from digitcnn._io.model_file import read_number_reader, write_number_reader
from digitcnn._training.number_training import StripBatches, make_numbers, train_number_network
from digitcnn._validation import check_choice, check_scalar, preprocess_images, preprocess_labels
from digitcnn._vision.number_frame import NumberFrame

__all__ = ["NumberReader", "pretrained_reader"]


class NumberReader(ParamsMixin):
    """Read a handwritten number whole, digits touching or not: a convolutional-recurrent network.

    The network takes the ink of a number scaled to a strip 32 pixels tall
    and gives, for each 4 columns, the probabilities of the ten digits and
    of "no digit here"; it is trained with the connectionist temporal
    classification (CTC) loss on numbers of 1-10 digits that it composes
    from MNIST digits, with random spacing from well apart to overlapping,
    random heights, baseline drift, slant and stroke width. It needs no
    segmentation into digits, so it reads digits that touch or overlap.

    :meth:`DigitClassifier.read_digits <digitcnn.DigitClassifier.read_digits>`
    uses the pretrained reader (:meth:`pretrained`) and checks each digit
    that stands apart with the classifier; this class is for training one's
    own reader.

    Parameters
    ----------
    numbers : int, default 120_000
        How many numbers to compose for training.
    epochs : int, default 3
        Passes over them.
    batch_size : int, default 64
        Numbers per optimisation step.
    learning_rate : float, default 0.003
        Adam's peak learning rate (warm-up, then cosine decay).
    seed : int, default 0
        Seeds the composed numbers and the network's initial weights.
    workers : int, optional
        Processes that compose the numbers; by default one per CPU core.
    verbose : {0, 1, 2}, default 0
        Keras's progress output while training.

    Attributes
    ----------
    model_ : keras.Model
        The trained network (after :meth:`fit` or :meth:`load`).
    history_ : dict of str to list of float
        The loss per epoch.
    """

    def __init__(
        self,
        *,
        numbers: int = 120_000,
        epochs: int = 3,
        batch_size: int = 64,
        learning_rate: float = 0.003,
        seed: int = 0,
        workers: int | None = None,
        verbose: int = 0,
    ) -> None:
        self.numbers = numbers
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.seed = seed
        self.workers = workers
        self.verbose = verbose

    def __sklearn_is_fitted__(self) -> bool:
        """Return whether there is a network to read with (scikit-learn's protocol)."""
        return hasattr(self, "model_")

    def _check_fitted(self) -> None:
        if not self.__sklearn_is_fitted__():
            raise NotFittedError(
                "this NumberReader is not fitted yet: call fit(x, y) first, "
                "or NumberReader.load(path) or NumberReader.pretrained()"
            )

    def fit(self, x: ArrayLike, y: ArrayLike) -> Self:
        """Compose numbers from the digit images ``x`` and train a new network to read them.

        Parameters
        ----------
        x : array_like
            Digit images, as :func:`~digitcnn.preprocess_images` accepts them
            (MNIST's training images: each number draws its digits from these).
        y : array_like
            Their labels 0-9, shape ``(n,)``.

        Returns
        -------
        NumberReader
            ``self``, fitted.

        Raises
        ------
        TypeError, ValueError
            If the images, labels or hyperparameters are invalid.
        """
        numbers = check_scalar(self.numbers, "numbers", int, min_val=1)
        epochs = check_scalar(self.epochs, "epochs", int, min_val=1)
        batch_size = check_scalar(self.batch_size, "batch_size", int, min_val=1)
        learning_rate = check_scalar(
            self.learning_rate, "learning_rate", float, min_val=0.0, include_boundaries="right"
        )
        seed = check_scalar(self.seed, "seed", int, min_val=0)
        workers = check_scalar(self.workers, "workers", int, min_val=1, allow_none=True)
        verbose = check_choice(self.verbose, "verbose", [0, 1, 2])
        images = preprocess_images(x)[..., 0]
        labels = preprocess_labels(y, n_images=len(images))
        digits = np.round(images * 255).astype(np.uint8)
        strips, widths, texts = make_numbers(
            digits, labels, numbers, seed, workers=workers or os.cpu_count() or 1
        )
        keras.utils.set_random_seed(seed)
        self.model_, self.history_ = train_number_network(
            StripBatches(strips, widths, texts, batch_size, seed),
            epochs=epochs,
            learning_rate=learning_rate,
            verbose=verbose,
        )
        return self

    def step_probabilities(self, frame: NumberFrame) -> NDArray[np.float32]:
        """Return the network's ``(steps, 11)`` probabilities for one number's strip.

        Column ``k`` of the result is the probability of digit ``k`` (0-9)
        and, last, of no digit, at each step of ``STEP_WIDTH`` strip columns.
        """
        self._check_fitted()
        forward = compiled_forward(self.model_)
        probabilities: NDArray[np.float32] = forward(frame.pixels[None, :, :, None]).numpy()[0]
        return probabilities

    def save(self, path: os.PathLike[str] | str) -> None:
        """Save the fitted reader to one ``.keras`` file, atomically.

        Parameters
        ----------
        path : os.PathLike or str
            Destination; must end in ``.keras``; its folder must exist.

        Raises
        ------
        NotFittedError
            If the reader was neither fitted nor loaded.
        ValueError
            If ``path`` does not end in ``.keras``.
        FileNotFoundError
            If the folder of ``path`` does not exist.
        """
        self._check_fitted()
        write_number_reader(path, self.model_, params=self.get_params(), history=self.history_)

    @classmethod
    def load(cls, path: os.PathLike[str] | str) -> Self:
        """Load a reader saved by :meth:`save`, with Keras's safe mode on.

        Parameters
        ----------
        path : os.PathLike or str
            A ``.keras`` file written by :meth:`save`.

        Returns
        -------
        NumberReader
            A fitted reader with the saved hyperparameters and history.

        Raises
        ------
        FileNotFoundError
            If ``path`` does not exist.
        ValueError
            If the file is not a digitcnn number reader or is corrupted.
        """
        saved = read_number_reader(path)
        reader = cls._from_saved_params(saved.params, path)
        reader.model_ = saved.model
        reader.history_ = saved.history
        return reader

    @classmethod
    def pretrained(cls) -> Self:
        """Load the number reader that ships with digitcnn, offline.

        ``pretrained/numbers.json`` in the package records how it was made;
        ``python examples/make_number_reader.py`` makes it again.

        Returns
        -------
        NumberReader
            A fitted reader.
        """
        resource = importlib.resources.files("digitcnn") / "pretrained" / "numbers.keras"
        with importlib.resources.as_file(resource) as path:
            return cls.load(path)


@functools.cache
def pretrained_reader() -> NumberReader:
    """Return the pretrained number reader, loaded on the first call and kept for the process."""
    return NumberReader.pretrained()
