from __future__ import annotations

from typing import Any

import keras
import numpy as np
import pytest
from conftest import Split
from hypothesis import given
from hypothesis import strategies as st

from digitcnn import DigitClassifier, NotFittedError


def test_constructor_stores_hyperparameters_unchanged() -> None:
    clf = DigitClassifier(epochs=-3, batch_size="x", seed=7)  # type: ignore[arg-type]
    assert clf.get_params() == {
        "recipe": "accurate",
        "epochs": -3,
        "batch_size": "x",
        "learning_rate": None,
        "augment": None,
        "n_models": 1,
        "tta": False,
        "warm_start": False,
        "seed": 7,
        "verbose": 0,
    }
    assert not hasattr(clf, "model_")


def test_set_params_returns_self_and_rejects_unknown_names() -> None:
    clf = DigitClassifier()
    assert clf.set_params(epochs=2, seed=1) is clf
    assert clf.get_params()["epochs"] == 2
    with pytest.raises(ValueError, match="invalid parameter 'epoch'"):
        clf.set_params(epoch=2)


def test_repr_shows_changed_hyperparameters() -> None:
    assert repr(DigitClassifier()) == "DigitClassifier()"
    assert repr(DigitClassifier(epochs=3, seed=0)) == "DigitClassifier(epochs=3, seed=0)"


def test_constructor_takes_keywords_only() -> None:
    with pytest.raises(TypeError):
        DigitClassifier(3)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("method", "args"),
    [("predict", 1), ("predict_proba", 1), ("evaluate", 2), ("score", 2), ("save", 0)],
)
def test_methods_before_fit_raise_not_fitted(method: str, args: int, test_slice: Split) -> None:
    x, y = test_slice
    call_args: list[Any] = [x, y][:args] if args else ["model.keras"]
    with pytest.raises(NotFittedError, match="not fitted yet"):
        getattr(DigitClassifier(), method)(*call_args)


@pytest.mark.parametrize(
    ("params", "error", "message"),
    [
        ({"epochs": 0}, ValueError, "epochs must be at least 1"),
        ({"epochs": 1.5}, TypeError, "epochs must be an int"),
        ({"epochs": True}, TypeError, "epochs must be an int"),
        ({"batch_size": 0}, ValueError, "batch_size must be at least 1"),
        ({"learning_rate": -1.0}, ValueError, "learning_rate must be greater than 0"),
        ({"learning_rate": float("nan")}, ValueError, "learning_rate must be a finite number"),
        ({"learning_rate": "fast"}, TypeError, "learning_rate must be a float"),
        ({"augment": "yes"}, TypeError, "augment must be True, False or None"),
        (
            {"recipe": "slow"},
            ValueError,
            "recipe must be one of \\['accurate', 'classic', 'deep', 'fast', 'robust', 'slim'\\]",
        ),
        ({"recipe": None}, ValueError, "recipe must be one of"),
        ({"seed": -1}, ValueError, "seed must be at least 0"),
        ({"seed": "0"}, TypeError, "seed must be an int"),
        ({"verbose": 3}, ValueError, "verbose must be one of \\[0, 1, 2\\]; got 3"),
        ({"verbose": True}, ValueError, "verbose must be one of \\[0, 1, 2\\]; got True"),
    ],
)
def test_fit_rejects_bad_hyperparameters(
    params: dict[str, Any], error: type[Exception], message: str, train_slice: Split
) -> None:
    x, y = train_slice
    with pytest.raises(error, match=message):
        DigitClassifier(**params).fit(x[:10], y[:10])


def test_fit_rejects_mismatched_labels(train_slice: Split) -> None:
    x, y = train_slice
    with pytest.raises(ValueError, match="got 9 labels for 10 images"):
        DigitClassifier().fit(x[:10], y[:9])


def test_fit_rejects_bad_validation_data_and_callbacks(train_slice: Split) -> None:
    x, y = train_slice
    with pytest.raises(TypeError, match="validation_data must be a tuple"):
        DigitClassifier().fit(x[:10], y[:10], validation_data=x[:10])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="keras.callbacks.Callback"):
        DigitClassifier().fit(x[:10], y[:10], callbacks=[print])  # type: ignore[list-item]


def test_short_training_on_real_digits_beats_chance(
    fitted: DigitClassifier, test_slice: Split
) -> None:
    x, y = test_slice
    metrics = fitted.evaluate(x, y)
    assert set(metrics) == {"loss", "accuracy"}
    assert all(isinstance(value, float) for value in metrics.values())
    assert metrics["accuracy"] > 0.8  # chance is 0.1
    assert metrics["loss"] < 1.0
    assert fitted.score(x, y) == metrics["accuracy"]


def test_fitted_attributes(fitted: DigitClassifier) -> None:
    assert isinstance(fitted.model_, keras.Model)
    np.testing.assert_array_equal(fitted.classes_, np.arange(10))
    assert set(fitted.history_) == {"loss", "accuracy"}
    assert len(fitted.history_["loss"]) == 1


def test_predict_and_predict_proba_agree(fitted: DigitClassifier, test_slice: Split) -> None:
    x, _ = test_slice
    proba = fitted.predict_proba(x)
    labels = fitted.predict(x)
    assert proba.shape == (len(x), 10)
    assert proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert labels.shape == (len(x),)
    assert labels.dtype == np.int64
    np.testing.assert_array_equal(labels, proba.argmax(axis=1))


def test_predictions_do_not_depend_on_batching(fitted: DigitClassifier, test_slice: Split) -> None:
    x, _ = test_slice
    whole = fitted.predict_proba(x)
    one_by_one = np.concatenate([fitted.predict_proba(image) for image in x[:20]])
    np.testing.assert_allclose(one_by_one, whole[:20], atol=1e-6)


@given(
    n=st.integers(1, 6),
    layout=st.sampled_from(["square", "channel", "flat"]),
    as_float=st.booleans(),
    start=st.integers(0, 490),
)
def test_predict_accepts_every_layout(
    fitted: DigitClassifier, test_slice: Split, n: int, layout: str, as_float: bool, start: int
) -> None:
    x, _ = test_slice
    images: np.ndarray = x[start : start + n]  # type: ignore[type-arg]
    reference = fitted.predict(images)
    if as_float:
        images = images.astype(np.float32) / 255
    shaped = {"square": images, "channel": images[..., None], "flat": images.reshape(n, -1)}
    result = fitted.predict(shaped[layout])
    assert result.shape == (n,)
    np.testing.assert_array_equal(result, reference)


@pytest.mark.parametrize(
    ("images", "error"),
    [
        (np.zeros((2, 27, 27), np.uint8), ValueError),
        (np.full((1, 28, 28), np.nan), ValueError),
        (np.full((1, 28, 28), 2.0), ValueError),
        (np.full((1, 28, 28), 256), ValueError),
        (np.zeros((0, 28, 28)), ValueError),
        ("digit.png", TypeError),
        (np.zeros((1, 28, 28), dtype=object), TypeError),
    ],
)
def test_predict_rejects_bad_images_before_tensorflow(
    fitted: DigitClassifier, images: Any, error: type[Exception]
) -> None:
    with pytest.raises(error, match="images"):
        fitted.predict(images)


@pytest.mark.parametrize("labels", [[10] * 5, [-1] * 5, [3.5] * 5])
def test_evaluate_rejects_bad_labels(
    fitted: DigitClassifier, test_slice: Split, labels: Any
) -> None:
    x, _ = test_slice
    with pytest.raises(ValueError, match="labels must be whole numbers"):
        fitted.evaluate(x[:5], labels)


def test_evaluate_checks_the_labels_before_predicting(
    fitted: DigitClassifier, test_slice: Split, monkeypatch: pytest.MonkeyPatch
) -> None:
    x, y = test_slice

    def no_prediction() -> None:
        pytest.fail("evaluate predicted before checking the labels")

    monkeypatch.setattr(fitted, "_batch_forward", no_prediction)
    with pytest.raises(ValueError, match="got 4 labels for 5 images"):
        fitted.evaluate(x[:5], y[:4])


def test_fit_records_validation_history_and_calls_callbacks(
    train_slice: Split, test_slice: Split
) -> None:
    x, y = train_slice
    epochs_seen: list[int] = []

    class Recorder(keras.callbacks.Callback):  # type: ignore[misc]
        def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
            epochs_seen.append(epoch)

    clf = DigitClassifier(epochs=2, batch_size=64, seed=1)
    result = clf.fit(x[:500], y[:500], validation_data=test_slice, callbacks=[Recorder()])
    assert result is clf
    assert epochs_seen == [0, 1]
    assert set(clf.history_) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(clf.history_["val_accuracy"]) == 2


def test_same_seed_gives_same_predictions(
    fitted: DigitClassifier, train_slice: Split, test_slice: Split
) -> None:
    x, y = train_slice
    again = DigitClassifier(**fitted.get_params()).fit(x, y)
    np.testing.assert_array_equal(
        again.predict_proba(test_slice[0]), fitted.predict_proba(test_slice[0])
    )


def test_refit_replaces_the_model(train_slice: Split) -> None:
    x, y = train_slice
    clf = DigitClassifier(epochs=1, batch_size=64, seed=3).fit(x[:200], y[:200])
    first = clf.model_
    clf.fit(x[:200], y[:200])
    assert clf.model_ is not first


@pytest.mark.slow
def test_default_training_reaches_state_of_the_art_accuracy(
    mnist: tuple[Split, Split],
) -> None:
    (x_train, y_train), (x_test, y_test) = mnist
    clf = DigitClassifier(seed=0).fit(x_train, y_train)
    assert clf.score(x_test, y_test) >= 0.995
