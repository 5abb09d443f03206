"""warm_start: a fitted classifier's networks go on training instead of starting afresh."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import Split

from digitcnn import DigitClassifier
from digitcnn._training.networks import ensemble_members

FAST: dict[str, Any] = {"recipe": "fast", "epochs": 1, "seed": 0}
STILL = 1e-12  # a learning rate at which training leaves the weights where they are


def kernels(clf: DigitClassifier) -> list[np.ndarray]:
    """Return the convolution and dense kernels of each of the classifier's networks."""
    return [
        np.asarray(w)
        for member in ensemble_members(clf.model_)
        for w in member.trainable_weights
        if "kernel" in w.path
    ]


@pytest.mark.parametrize("n_models", [1, 2])
def test_warm_start_goes_on_from_the_fitted_weights_and_history(
    n_models: int, train_slice: Split, test_slice: Split
) -> None:
    x, y = train_slice[0][:500], train_slice[1][:500]
    clf = DigitClassifier(**FAST, n_models=n_models).fit(x, y)
    trained, history = kernels(clf), clf.history_
    clf.set_params(warm_start=True, learning_rate=STILL)
    clf.fit(x, y, validation_data=test_slice)
    for before, after in zip(trained, kernels(clf), strict=True):
        np.testing.assert_allclose(after, before, atol=1e-6)
    assert clf.history_["loss"][0] == history["loss"][0]
    assert len(clf.history_["loss"]) == 2
    assert np.isnan(clf.history_["val_loss"][0])  # the first training had no validation
    assert not np.isnan(clf.history_["val_loss"][1])
    clf.set_params(warm_start=False).fit(x, y)  # afresh: the initial weights again
    assert not any(np.allclose(a, b, atol=1e-3) for a, b in zip(trained, kernels(clf), strict=True))
    assert len(clf.history_["loss"]) == 1


def test_the_pretrained_model_fine_tunes_on_a_few_digits(
    train_slice: Split, test_slice: Split
) -> None:
    x, y = train_slice
    pretrained = DigitClassifier.pretrained()
    clf = DigitClassifier.pretrained().set_params(
        warm_start=True, epochs=1, learning_rate=3e-4, seed=0
    )
    clf.fit(x[:256], y[:256])
    assert clf.recipe_.epochs == 1
    pairs = zip(kernels(pretrained), kernels(clf), strict=True)
    assert all(not np.array_equal(a, b) for a, b in pairs)
    # a network trained afresh for one epoch on 256 digits reads far fewer than this
    assert clf.score(*test_slice) >= pretrained.score(*test_slice) - 0.01
    fresh = DigitClassifier(**FAST).fit(x[:256], y[:256])
    assert fresh.score(*test_slice) < 0.9


def test_warm_start_on_an_unfitted_classifier_starts_afresh(train_slice: Split) -> None:
    x, y = train_slice[0][:256], train_slice[1][:256]
    warm = DigitClassifier(**FAST, warm_start=True).fit(x, y)
    cold = DigitClassifier(**FAST).fit(x, y)
    for a, b in zip(kernels(warm), kernels(cold), strict=True):
        np.testing.assert_array_equal(a, b)


def test_warm_start_needs_the_same_architecture_and_number_of_networks(
    train_slice: Split,
) -> None:
    x, y = train_slice
    clf = DigitClassifier(**FAST).fit(x[:64], y[:64])
    model = clf.model_
    with pytest.raises(ValueError, match="the recipe must have that architecture; got 'classic'"):
        clf.set_params(warm_start=True, recipe="classic").fit(x[:64], y[:64])
    with pytest.raises(ValueError, match="n_models must be 1; got n_models=2"):
        clf.set_params(recipe="fast", n_models=2).fit(x[:64], y[:64])
    with pytest.raises(TypeError, match="warm_start"):
        clf.set_params(n_models=1, warm_start="yes").fit(x[:64], y[:64])
    assert clf.model_ is model  # a refused call keeps the fitted network
