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
from typing import Any, get_args

from digitcnn._types import Architecture, Schedule
from digitcnn._validation import check_choice, check_scalar

__all__ = ["DEFAULT_RECIPE", "RECIPES", "Recipe", "recipe_from_dict", "resolve_recipe"]


@dataclasses.dataclass(frozen=True)
class Recipe:
    """A network architecture and the settings that train it.

    Parameters
    ----------
    name : str
        The recipe's name, as given to ``DigitClassifier(recipe=...)``.
    architecture : {"standard", "small", "classic", "deep", "slim"}
        The network: ``"standard"``, a small VGG-style CNN (three convolutions
        with batch normalisation, a dense layer with dropout); ``"small"``,
        the same design at a sixth of the arithmetic; ``"classic"``, the
        network of the classic community tutorials (one 28-filter 3x3
        convolution, max-pooling, dense 128, dropout 0.2); ``"deep"``, seven
        convolutions with batch normalisation, strided instead of pooled, at
        three times the standard's arithmetic; ``"slim"``, the deep one at
        half the width, at four-fifths of the standard's arithmetic.
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
    low_resolution : float, default 0.0
        How many low-resolution copies of training images to add, as a
        fraction of them: each reduced to 7-16 pixels a side, enlarged and
        normalised by :func:`~digitcnn.to_mnist`, as a low-resolution scan or
        a distant photo of it would be; so that such digits are read well.
    """

    name: str
    architecture: Architecture
    epochs: int
    batch_size: int
    learning_rate: float
    schedule: Schedule
    augment: bool
    summary: str
    low_resolution: float = 0.0


_ACCURATE = Recipe(
    name="accurate",
    architecture="standard",
    epochs=18,
    batch_size=128,
    learning_rate=3e-3,
    schedule="warmup_cosine",
    augment=True,
    summary="The default: over 99.5% on the MNIST test set in 7 to 11 minutes on 2 CPU cores.",
)

_ALL = (
    _ACCURATE,
    dataclasses.replace(
        _ACCURATE,
        name="robust",
        low_resolution=0.25,
        summary=(
            "The default's network and training, plus low-resolution copies of a quarter of "
            "the training images: reads digits from low-resolution scans and distant photos."
        ),
    ),
    dataclasses.replace(
        _ACCURATE,
        name="deep",
        architecture="deep",
        summary=(
            "The default's training of a deeper network, at three times the arithmetic: "
            "the most accurate single network here, for the members of ensembles."
        ),
    ),
    dataclasses.replace(
        _ACCURATE,
        name="slim",
        architecture="slim",
        summary="The deep recipe's network at half the width, below the default's arithmetic.",
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
        summary=(
            "The classic community tutorials' CNN (one 28-filter 3x3 convolution, "
            "max-pooling, dense 128, dropout 0.2), for comparison: about 98.3%."
        ),
    ),
)

RECIPES: Mapping[str, Recipe] = MappingProxyType({recipe.name: recipe for recipe in _ALL})
"""The training recipes by name: ``"accurate"`` (the default), ``"robust"``, ``"deep"``,
``"slim"``, ``"fast"`` and ``"classic"``."""

DEFAULT_RECIPE = "accurate"
"""The name of the recipe that :class:`~digitcnn.DigitClassifier` trains by default."""


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
    check_choice(name, "recipe", sorted(RECIPES))
    settings = _checked_settings(
        epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, augment=augment
    )
    chosen = RECIPES[name]  # type: ignore[index]  # checked above
    given = {key: value for key, value in settings.items() if value is not None}
    return dataclasses.replace(chosen, **given)


def _checked_settings(
    *, epochs: object, batch_size: object, learning_rate: object, augment: object
) -> dict[str, Any]:
    """Return the trainable settings checked; each may be None, meaning "the recipe's"."""
    return {
        "epochs": check_scalar(epochs, "epochs", int, min_val=1, allow_none=True),
        "batch_size": check_scalar(batch_size, "batch_size", int, min_val=1, allow_none=True),
        "learning_rate": check_scalar(
            learning_rate,
            "learning_rate",
            float,
            min_val=0.0,
            include_boundaries="neither",
            allow_none=True,
        ),
        "augment": check_scalar(augment, "augment", bool, allow_none=True),
    }


def recipe_from_dict(fields: object) -> Recipe:
    """Return the recipe that ``dataclasses.asdict`` made ``fields`` of, checked.

    This is how a saved model's recipe comes back: as it was saved, not as a
    recipe of the same name is today.

    Raises
    ------
    TypeError, ValueError
        If ``fields`` is not a dict of exactly the recipe's fields, or a field
        is of the wrong type or range.
    """
    names = [field.name for field in dataclasses.fields(Recipe)]
    optional = {"low_resolution"}  # files saved before it was added have none
    if not isinstance(fields, dict) or not set(names) - optional <= set(fields) <= set(names):
        found = sorted(fields) if isinstance(fields, dict) else type(fields).__name__
        raise ValueError(f"a recipe must have the fields {sorted(names)}; got {found}")
    for key in ("name", "summary"):
        if not isinstance(fields[key], str):
            raise TypeError(f"a recipe's {key} must be a string; got {fields[key]!r}")
    settings = _checked_settings(
        epochs=fields["epochs"],
        batch_size=fields["batch_size"],
        learning_rate=fields["learning_rate"],
        augment=fields["augment"],
    )
    if None in settings.values():
        raise ValueError(f"a saved recipe must set every field; got {fields}")
    return Recipe(
        name=fields["name"],
        architecture=check_choice(fields["architecture"], "architecture", get_args(Architecture)),
        schedule=check_choice(fields["schedule"], "schedule", get_args(Schedule)),
        summary=fields["summary"],
        low_resolution=check_scalar(
            fields.get("low_resolution", 0.0), "low_resolution", float, min_val=0.0, max_val=1.0
        ),
        **settings,
    )
