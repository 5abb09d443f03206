"""Named training recipes: an architecture with the settings that train it well.

A recipe is what :class:`~digitcnn.DigitClassifier` trains when given
``recipe=<name>``; its explicit ``epochs``, ``batch_size``, ``learning_rate``
and ``augment`` arguments override the recipe's values. The figures quoted in
the descriptions were measured on a 2-core CPU (see ``benchmarks/`` and the
README).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from digitcnn._model import Architecture, Schedule

__all__ = ["DEFAULT_RECIPE", "RECIPES", "Recipe", "check_int", "resolve_recipe"]


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
        summary="The default: over 99.5% on the MNIST test set in 7 to 11 minutes on 2 CPU cores.",
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


def check_int(name: str, value: object, minimum: int) -> int:
    """Return ``value`` as an int if it is an integer (not a bool) of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int; got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}; got {value}")
    return int(value)


def resolve_recipe(
    name: object,
    *,
    epochs: object = None,
    batch_size: object = None,
    learning_rate: object = None,
    augment: object = None,
) -> Recipe:
    """Return the recipe called ``name`` with the given (checked) settings applied.

    Raises
    ------
    TypeError, ValueError
        If ``name`` is not a recipe or a setting is of the wrong type or range.
    """
    if not isinstance(name, str) or name not in RECIPES:
        raise ValueError(f"recipe must be one of {sorted(RECIPES)}; got {name!r}")
    overrides: dict[str, Any] = {}
    for key, value in (("epochs", epochs), ("batch_size", batch_size)):
        if value is not None:
            overrides[key] = check_int(key, value, 1)
    if learning_rate is not None:
        if isinstance(learning_rate, bool) or not isinstance(
            learning_rate, (int, float, np.floating, np.integer)
        ):
            raise TypeError(f"learning_rate must be a float; got {learning_rate!r}")
        if not (math.isfinite(learning_rate) and learning_rate > 0):
            raise ValueError(f"learning_rate must be positive and finite; got {learning_rate}")
        overrides["learning_rate"] = float(learning_rate)
    if augment is not None:
        if not isinstance(augment, (bool, np.bool_)):
            raise TypeError(f"augment must be True, False or None; got {augment!r}")
        overrides["augment"] = bool(augment)
    return dataclasses.replace(RECIPES[name], **overrides)
