from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pytest
from conftest import Split

from digitcnn import RECIPES, DigitClassifier, Recipe
from digitcnn._training.networks import build_model, compiled_model


def test_recipes_are_named_and_the_default_is_accurate() -> None:
    assert set(RECIPES) == {"accurate", "robust", "deep", "slim", "fast", "classic"}
    assert all(isinstance(r, Recipe) and r.name == name for name, r in RECIPES.items())
    assert DigitClassifier().recipe == "accurate"
    with pytest.raises(TypeError):
        RECIPES["mine"] = RECIPES["fast"]  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        RECIPES["fast"].epochs = 3  # type: ignore[misc]


def test_classic_recipe_is_the_tutorial_network() -> None:
    classic = RECIPES["classic"]
    assert (classic.epochs, classic.batch_size, classic.learning_rate) == (10, 32, 1e-3)
    assert (classic.schedule, classic.augment) == ("constant", False)
    model = build_model("classic", augment=False)
    # conv 3x3x28 (280) + dense 13*13*28 -> 128 (605,824) + dense 128 -> 10 (1,290)
    assert model.count_params() == 280 + 605_824 + 1_290
    assert [type(layer).__name__ for layer in model.layers[1:]] == [
        "Conv2D",
        "MaxPooling2D",
        "Flatten",
        "Dense",
        "Dropout",
        "Dense",
    ]


def test_deep_recipe_is_the_all_convolutional_network() -> None:
    deep = RECIPES["deep"]
    assert dataclasses.replace(deep, name="accurate", architecture="standard", summary="") == (
        dataclasses.replace(RECIPES["accurate"], summary="")
    )
    model = build_model("deep", augment=False)
    convolutions = [layer for layer in model.layers if type(layer).__name__ == "Conv2D"]
    assert [(c.filters, c.kernel_size, c.strides) for c in convolutions] == [
        (32, (3, 3), (1, 1)),
        (32, (3, 3), (1, 1)),
        (32, (5, 5), (2, 2)),
        (64, (3, 3), (1, 1)),
        (64, (3, 3), (1, 1)),
        (64, (5, 5), (2, 2)),
        (128, (4, 4), (1, 1)),
    ]
    assert [c.output.shape[1] for c in convolutions] == [26, 24, 12, 10, 8, 4, 1]
    assert not any(type(layer).__name__ == "MaxPooling2D" for layer in model.layers)
    assert model.output.shape == (None, 10)


def test_slim_recipe_is_the_deep_network_at_half_the_width() -> None:
    slim = RECIPES["slim"]
    assert dataclasses.replace(slim, name="deep", architecture="deep", summary="") == (
        dataclasses.replace(RECIPES["deep"], summary="")
    )
    deep, narrow = build_model("deep", augment=False), build_model("slim", augment=False)
    assert [type(layer) for layer in narrow.layers] == [type(layer) for layer in deep.layers]
    for wide, half in zip(deep.layers, narrow.layers, strict=True):
        if isinstance(half, keras.layers.Conv2D):
            assert (half.filters, half.kernel_size) == (wide.filters // 2, wide.kernel_size)
    # fewer weights (and, by the benchmark, less arithmetic) than the default's network
    assert narrow.count_params() < build_model("standard", augment=False).count_params()


def test_build_model_rejects_unknown_architecture() -> None:
    with pytest.raises(ValueError, match="architecture must be one of"):
        build_model("huge")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "epochs"), [("fast", 1), ("classic", 1), ("deep", 3), ("slim", 3)]
)
def test_each_recipe_learns_real_digits(
    name: str, epochs: int, train_slice: Split, test_slice: Split
) -> None:
    x, y = train_slice
    clf = DigitClassifier(recipe=name, epochs=epochs, batch_size=32, seed=0).fit(x, y)
    assert clf.recipe_ == dataclasses.replace(RECIPES[name], epochs=epochs, batch_size=32)
    assert len(clf.history_["loss"]) == epochs
    assert clf.score(*test_slice) > 0.75  # chance is 0.1


def test_explicit_arguments_override_the_recipe(train_slice: Split) -> None:
    x, y = train_slice
    clf = DigitClassifier(recipe="fast", epochs=2, batch_size=500, learning_rate=0.01, augment=True)
    clf.fit(x[:1000], y[:1000])
    assert (clf.recipe_.epochs, clf.recipe_.batch_size) == (2, 500)
    assert (clf.recipe_.learning_rate, clf.recipe_.augment) == (0.01, True)
    assert clf.recipe_.architecture == "small"
    assert "rotate" not in [layer.name for layer in clf.model_.layers]  # training only
    assert np.isfinite(clf.history_["loss"]).all()


@pytest.mark.parametrize("distil", [False, True], ids=["labels", "teacher"])
def test_fit_traces_the_training_step_once(distil: bool, train_slice: Split) -> None:
    """Tracing the step again (variables made in the first trace) costs seconds per fit."""
    x, y = train_slice
    teacher = build_model("small", augment=False) if distil else None
    model = compiled_model(RECIPES["fast"], total_steps=4, teacher=teacher)
    traces = []
    train_step = model.train_step

    def counted_step(data: object) -> object:
        traces.append(1)
        return train_step(data)

    model.train_step = counted_step
    model.fit(x[:128, ..., None] / 255.0, y[:128], batch_size=64, epochs=2, verbose=0)
    assert len(traces) == 1
