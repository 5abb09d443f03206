from __future__ import annotations

import numpy as np
import pytest
from conftest import Split

from digitcnn import DigitClassifier

sklearn = pytest.importorskip("sklearn")
from sklearn.base import clone, is_classifier  # noqa: E402
from sklearn.exceptions import NotFittedError as SklearnNotFittedError  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.utils.validation import check_is_fitted  # noqa: E402


def quick(**params: object) -> DigitClassifier:
    return DigitClassifier(recipe="fast", epochs=3, batch_size=32, seed=0, **params)  # type: ignore[arg-type]


def test_clone_copies_hyperparameters_not_training(train_slice: Split) -> None:
    x, y = train_slice
    fitted = quick(learning_rate=0.01).fit(x[:200], y[:200])
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params()
    assert not hasattr(copy, "model_")
    assert is_classifier(copy)


def test_cross_val_score_trains_and_scores_each_fold(train_slice: Split) -> None:
    x, y = train_slice
    scores = cross_val_score(quick(), x[:1200], y[:1200], cv=2)
    assert scores.shape == (2,)
    assert (scores > 0.5).all()  # chance is 0.1


def test_grid_search_picks_and_refits_the_best(train_slice: Split, test_slice: Split) -> None:
    x, y = train_slice
    search = GridSearchCV(quick(), {"batch_size": [32, 48]}, cv=2).fit(x[:1200], y[:1200])
    assert search.best_params_["batch_size"] in (32, 48)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    np.testing.assert_array_equal(search.best_estimator_.classes_, np.arange(10))
    assert search.score(*test_slice) > 0.5


def test_check_is_fitted_follows_the_classifier(fitted: DigitClassifier) -> None:
    with pytest.raises(SklearnNotFittedError):
        check_is_fitted(DigitClassifier())
    check_is_fitted(fitted)
    assert not DigitClassifier().__sklearn_is_fitted__()
    assert fitted.__sklearn_is_fitted__()
