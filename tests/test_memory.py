"""Prediction runs in fixed-size batches: its memory does not grow with the input."""

from __future__ import annotations

import gc
import tracemalloc
import weakref
from pathlib import Path

import numpy as np
import pytest
from conftest import Split
from PIL import Image

from digitcnn import DigitClassifier
from digitcnn._constants import PREDICT_BATCH_SIZE

MB = 1 << 20


def numpy_peak(function: object, *args: object) -> int:
    """Return the peak bytes that Python and NumPy allocate while ``function(*args)`` runs."""
    tracemalloc.start()
    try:
        function(*args)  # type: ignore[operator]
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.fixture(scope="module")
def on_disk(test_slice: Split, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Write 16,384 real test digits (the slice, repeated) to a .npy file."""
    x, _ = test_slice
    path = tmp_path_factory.mktemp("memory") / "images.npy"
    np.save(path, x[np.arange(16 * PREDICT_BATCH_SIZE) % len(x)])
    return path


def test_predicting_from_disk_takes_memory_for_the_result_only(
    fitted: DigitClassifier, on_disk: Path
) -> None:
    images = np.load(on_disk, mmap_mode="r")
    assert isinstance(images, np.memmap)
    assert len(images) == 16 * PREDICT_BATCH_SIZE
    fitted.predict_proba(images[:PREDICT_BATCH_SIZE])  # trace the compiled function first
    small = numpy_peak(fitted.predict_proba, images[: 2 * PREDICT_BATCH_SIZE])
    large = numpy_peak(fitted.predict_proba, images)
    whole_input_as_float32 = images.size * 4  # what converting everything at once would take
    result_growth = 14 * PREDICT_BATCH_SIZE * 10 * 4
    assert large - small < result_growth + 1 * MB, (small, large)
    assert large < whole_input_as_float32 / 4


def test_batched_prediction_equals_prediction_of_each_batch(
    fitted: DigitClassifier, on_disk: Path
) -> None:
    images = np.load(on_disk, mmap_mode="r")[: 3 * PREDICT_BATCH_SIZE + 5]
    whole = fitted.predict_proba(images)
    parts = [fitted.predict_proba(images[i : i + 700]) for i in range(0, len(images), 700)]
    np.testing.assert_allclose(whole, np.concatenate(parts), rtol=0, atol=1e-6)


def test_classifiers_that_predicted_are_freed_when_dropped() -> None:
    """A dropped classifier, its network and its compiled forward pass are all freed."""
    image = np.zeros((1, 28, 28), dtype=np.uint8)
    classifiers, networks = [], []
    # The objects of earlier tests are set aside (still alive, still holding what they
    # hold), so that the collection looks at this test's only: seconds less.
    gc.freeze()
    try:
        for _ in range(3):
            clf = DigitClassifier.pretrained()
            clf.predict(image)
            classifiers.append(weakref.ref(clf))
            networks.append(weakref.ref(clf.model_))
            del clf
        gc.collect()
    finally:
        gc.unfreeze()
    alive = sum(ref() is not None for ref in classifiers + networks)
    assert alive == 0, f"{alive} of 6 classifiers and networks still alive"


def test_a_bad_value_anywhere_is_refused_before_any_prediction(fitted: DigitClassifier) -> None:
    images = np.zeros((3 * PREDICT_BATCH_SIZE, 28, 28), dtype=np.float32)
    images[-1, 0, 0] = np.nan
    with pytest.raises(ValueError, match="images must be finite; got 1 NaN or infinite values"):
        fitted.predict_proba(images)


def test_reading_image_files_streams_from_a_generator(
    fitted: DigitClassifier, test_slice: Split, tmp_path: Path
) -> None:
    x, _ = test_slice
    n = PREDICT_BATCH_SIZE + 10
    for i in range(n):
        Image.fromarray(255 - x[i % len(x)]).save(tmp_path / f"{i:05d}.png")
    paths = (tmp_path / f"{i:05d}.png" for i in range(n))
    labels, proba = fitted.predict_images(paths, return_proba=True)
    assert labels.shape == (n,)
    assert proba.shape == (n, 10)
    assert (labels[:10] == labels[len(x) : len(x) + 10]).all()
