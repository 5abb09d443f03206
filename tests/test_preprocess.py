from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import Split
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from digitcnn import preprocess_images, preprocess_labels

INT_DTYPES = [np.uint8, np.uint16, np.uint32, np.uint64, np.int8, np.int16, np.int32, np.int64]
FLOAT_DTYPES = [np.float16, np.float32, np.float64]


def layouts(n: int) -> st.SearchStrategy[tuple[int, ...]]:
    """The accepted shapes for a batch of n images (n == 1 also allows a single image)."""
    shapes = [(n, 28, 28), (n, 28, 28, 1), (n, 784)]
    if n == 1:
        shapes.append((28, 28))
    return st.sampled_from(shapes)


@st.composite
def valid_images(draw: st.DrawFn) -> np.ndarray:  # type: ignore[type-arg]
    n = draw(st.integers(1, 4))
    shape = draw(layouts(n))
    if draw(st.booleans()):
        dtype = draw(st.sampled_from(INT_DTYPES))
        elements = st.integers(0, 127 if dtype == np.int8 else 255)
    else:
        dtype = draw(st.sampled_from(FLOAT_DTYPES))
        elements = st.floats(0.0, 1.0, width=np.dtype(dtype).itemsize * 8)
    return draw(hnp.arrays(dtype, shape, elements=elements))


@given(images=valid_images())
def test_valid_images_become_float32_batches_in_unit_range(images: np.ndarray) -> None:  # type: ignore[type-arg]
    result = preprocess_images(images)
    n = 1 if images.shape == (28, 28) else images.shape[0]
    assert result.shape == (n, 28, 28, 1)
    assert result.dtype == np.float32
    assert result.min() >= 0.0
    assert result.max() <= 1.0
    assert result.flags.c_contiguous


@given(images=valid_images())
def test_preprocessing_keeps_pixel_values(images: np.ndarray) -> None:  # type: ignore[type-arg]
    result = preprocess_images(images).ravel()
    expected = images.astype(np.float64).ravel()
    if images.dtype.kind in "iu":
        expected = expected / 255
    np.testing.assert_allclose(result, expected, rtol=1e-6, atol=1e-7)


def test_layouts_of_real_images_agree(train_slice: Split) -> None:
    x, _ = train_slice
    x = x[:8]
    reference = preprocess_images(x)
    for variant in (x[..., None], x.reshape(8, 784), x.astype(np.float32) / 255, x.tolist()):
        np.testing.assert_allclose(preprocess_images(variant), reference, atol=1e-7)
    np.testing.assert_array_equal(preprocess_images(x[0]), reference[:1])


def test_input_is_not_modified(train_slice: Split) -> None:
    x, _ = train_slice
    images = x[:4].astype(np.float64) / 255
    before = images.copy()
    preprocess_images(images)
    np.testing.assert_array_equal(images, before)


@given(
    shape=hnp.array_shapes(min_dims=0, max_dims=5, min_side=0, max_side=30).filter(
        lambda s: (
            not (
                s == (28, 28)
                or (len(s) == 3 and s[1:] == (28, 28))
                or (len(s) == 4 and s[1:] == (28, 28, 1))
            )
        )
    )
)
def test_wrong_shapes_are_rejected_with_the_shape_named(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="images must have shape") as info:
        preprocess_images(np.zeros(shape, dtype=np.uint8))
    assert str(shape) in str(info.value)


@pytest.mark.parametrize("shape", [(0, 28, 28), (0, 784), (0, 28, 28, 1)])
def test_empty_batches_are_rejected(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="at least one image"):
        preprocess_images(np.zeros(shape, dtype=np.uint8))


@given(
    bad=st.sampled_from([np.nan, np.inf, -np.inf]),
    dtype=st.sampled_from(FLOAT_DTYPES),
    index=st.integers(0, 2 * 784 - 1),
)
def test_nan_and_infinity_are_rejected(bad: float, dtype: type, index: int) -> None:
    images = np.zeros((2, 784), dtype=dtype)
    images.flat[index] = bad
    with pytest.raises(ValueError, match="finite"):
        preprocess_images(images)


@given(value=st.floats(allow_nan=False, allow_infinity=False).filter(lambda v: v < 0 or v > 1))
def test_float_values_outside_unit_range_are_rejected(value: float) -> None:
    images = np.zeros((1, 28, 28), dtype=np.float64)
    images[0, 5, 5] = value
    with pytest.raises(ValueError, match=r"scaled to \[0, 1\]"):
        preprocess_images(images)


@given(
    value=st.one_of(
        st.integers(min_value=-(2**62), max_value=-1), st.integers(min_value=256, max_value=2**62)
    )
)
def test_integer_values_outside_byte_range_are_rejected(value: int) -> None:
    images = np.zeros((1, 28, 28), dtype=np.int64)
    images[0, 3, 3] = value
    with pytest.raises(ValueError, match=r"0\.\.255"):
        preprocess_images(images)


@pytest.mark.parametrize(
    "images",
    [
        "a string",
        b"bytes",
        None,
        np.zeros((1, 28, 28), dtype=bool),
        np.zeros((1, 28, 28), dtype=np.complex64),
        np.full((1, 28, 28), "x"),
        np.empty((1, 28, 28), dtype=object),
        [[object()] * 28] * 28,
    ],
    ids=["str", "bytes", "None", "bool", "complex", "unicode", "object", "object-list"],
)
def test_non_numeric_images_raise_type_error(images: Any) -> None:
    with pytest.raises(TypeError, match="images must"):
        preprocess_images(images)


def test_ragged_lists_raise_value_error() -> None:
    with pytest.raises(ValueError, match="uniform shape"):
        preprocess_images([np.zeros((28, 28)), np.zeros((27, 28))])


@given(
    labels=hnp.arrays(st.sampled_from(INT_DTYPES), st.integers(1, 50), elements=st.integers(0, 9))
)
def test_valid_labels_become_int64(labels: np.ndarray) -> None:  # type: ignore[type-arg]
    result = preprocess_labels(labels, n_images=len(labels))
    assert result.dtype == np.int64
    np.testing.assert_array_equal(result, labels.astype(np.int64))


def test_whole_float_labels_are_accepted() -> None:
    np.testing.assert_array_equal(preprocess_labels(np.array([1.0, 9.0])), [1, 9])


@given(
    bad=st.one_of(
        st.integers(min_value=-(2**62), max_value=-1),
        st.integers(min_value=10, max_value=2**62),
        st.floats(0, 9).filter(lambda v: v != int(v)),
        st.sampled_from([np.nan, np.inf]),
    )
)
def test_labels_outside_digits_are_rejected(bad: float) -> None:
    with pytest.raises(ValueError, match="whole numbers from 0 to 9"):
        preprocess_labels(np.array([3, bad]))


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (np.eye(10)[[1, 2]], "one-hot"),
        (np.array([[1], [2]]), r"labels\.ravel"),
        (np.array(3), r"shape \(n,\); got \(\)"),
        (np.array([], dtype=np.int64), "at least one label"),
    ],
)
def test_labels_of_wrong_shape_are_rejected(labels: np.ndarray, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError, match=message):
        preprocess_labels(labels)


def test_label_count_must_match_images() -> None:
    with pytest.raises(ValueError, match="got 2 labels for 3 images"):
        preprocess_labels([1, 2], n_images=3)


@pytest.mark.parametrize(
    "labels",
    [["1", "2"], None, np.array([True, False]), "7"],
    ids=["strings", "None", "bool", "str"],
)
def test_non_numeric_labels_raise_type_error(labels: Any) -> None:
    with pytest.raises(TypeError, match="labels must"):
        preprocess_labels(labels)
