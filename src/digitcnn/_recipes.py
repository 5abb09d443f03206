"""Named training recipes: an architecture with the settings that train it well.

A recipe is what :class:`~digitcnn.DigitClassifier` trains when given
``recipe=<name>``; its explicit ``epochs``, ``batch_size``, ``learning_rate``
and ``augment`` arguments override the recipe's values. The figures quoted in
the descriptions were measured on a 2-core CPU (see ``benchmarks/`` and the
README).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType

from digitcnn._model import Architecture, Schedule

__all__ = ["DEFAULT_RECIPE", "RECIPES", "Recipe"]


@dataclasses.dataclass(frozen=True)
class Recipe:
    """A network architecture and the settings that train it.

    Parameters
    ----------
    name : str
        The recipe's name, as given to ``DigitClassifier(recipe=...)``.
    architecture : {"standard", "small", "classic"}
        The network; see :func:`digitcnn._model.build_model`.
    epochs : int
        Passes over the training images.
    batch_size : int
        Images per optimisation step.
    learning_rate : float
        Peak learning rate of Adam.
    schedule : {"warmup_cosine", "constant"}
        How the learning rate changes during training: a linear warm-up over
        the first tenth of training then a cosine decay to zero, or constant.
    augment : bool
        Whether training images are randomly rotated (up to 10 degrees),
        shifted (up to 10%) and zoomed (up to 10%).
    summary : str
        One sentence on what the recipe is for.
    """

    name: str
    architecture: Architecture
    epochs: int
    batch_size: int
    learning_rate: float
    schedule: Schedule
    augment: bool
    summary: str


_ALL = (
    Recipe(
        name="accurate",
        architecture="standard",
        epochs=18,
        batch_size=128,
        learning_rate=3e-3,
        schedule="warmup_cosine",
        augment=True,
        summary="The default: over 99.5% on the MNIST test set in about 12 minutes on 2 CPU cores.",
    ),
    Recipe(
        name="fast",
        architecture="small",
        epochs=1,
        batch_size=64,
        learning_rate=5e-3,
        schedule="warmup_cosine",
        augment=False,
        summary="99% on the MNIST test set in seconds on a laptop CPU.",
    ),
    Recipe(
        name="classic",
        architecture="classic",
        epochs=10,
        batch_size=32,
        learning_rate=1e-3,
        schedule="constant",
        augment=False,
        summary="The TensorFlow beginner tutorial's CNN, for comparison: about 98.3%.",
    ),
)

RECIPES: Mapping[str, Recipe] = MappingProxyType({recipe.name: recipe for recipe in _ALL})
"""The training recipes by name: ``"accurate"`` (the default), ``"fast"`` and ``"classic"``."""

DEFAULT_RECIPE = "accurate"
"""The name of the recipe that :class:`~digitcnn.DigitClassifier` trains by default."""
