"""Fuzzing every public entry point: whatever comes in, only a clear error comes out.

Hypothesis generates arbitrary inputs — any dtype and shape, NaN and
infinity, huge and tiny values, object arrays, ragged lists, strings, None —
and each entry point must either succeed or raise ``ValueError`` or
``TypeError`` with a message (``OSError`` too where a file is named). The
suite runs ``DIGITCNN_FUZZ_EXAMPLES`` examples per entry point (300 by
default); set it higher for a long run, with ``--hypothesis-show-statistics``
to see the counts.
"""

from __future__ import annotations

import gzip
import os
import re
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import Split
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from digitcnn import (
    UNREAD,
    DigitClassifier,
    preprocess_images,
    preprocess_labels,
    read_idx,
    to_mnist,
)

EXAMPLES = int(os.environ.get("DIGITCNN_FUZZ_EXAMPLES", "300"))
fuzz = settings(
    max_examples=EXAMPLES,
    deadline=timedelta(seconds=30),  # a hang guard, not a speed test
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
CLEAR = (ValueError, TypeError)

# Shapes near and far from the contract: 28x28 layouts, flat 784, and anything small.
shapes = st.one_of(
    st.sampled_from([(28, 28), (1, 28, 28), (2, 28, 28, 1), (3, 784), (1, 28, 28, 3), (0, 28, 28)]),
    hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=6),
)
numbers = st.one_of(
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True),
    st.complex_numbers(),
    st.booleans(),
)
arrays = st.one_of(
    hnp.arrays(hnp.scalar_dtypes(), shapes),  # bool, ints, floats, complex, datetimes
    hnp.arrays(hnp.integer_dtypes() | hnp.floating_dtypes(), shapes),
    hnp.arrays(st.sampled_from([np.dtype("U3"), np.dtype("S3")]), shapes),
    hnp.arrays(np.dtype(object), shapes, elements=numbers | st.none() | st.text(max_size=3)),
)
anything = st.one_of(
    arrays,
    numbers,
    st.none(),
    st.text(max_size=10),
    st.binary(max_size=10),
    st.lists(numbers, max_size=5),
    st.lists(st.lists(numbers, max_size=3), max_size=3),  # ragged
    st.dictionaries(st.text(max_size=3), numbers, max_size=2),
)


def only_clear_errors(function: Any, *args: Any, **kwargs: Any) -> None:
    """Call ``function``; an error is allowed only if it is ValueError/TypeError with a message."""
    try:
        function(*args, **kwargs)
    except CLEAR as error:
        assert str(error), f"{type(error).__name__} without a message"


@fuzz
@given(anything)
def test_preprocess_images_fuzz(value: Any) -> None:
    only_clear_errors(preprocess_images, value)


@fuzz
@given(anything, st.one_of(st.none(), st.integers(-2, 10)))
def test_preprocess_labels_fuzz(value: Any, n_images: int | None) -> None:
    only_clear_errors(preprocess_labels, value, n_images)


@fuzz
@given(value=anything)
def test_predict_fuzz(fitted: DigitClassifier, value: Any) -> None:
    only_clear_errors(fitted.predict, value)


@fuzz
@given(x=anything, y=anything)
def test_fit_fuzz(x: Any, y: Any) -> None:
    # Valid inputs train for real: one epoch of a few images, which is quick.
    only_clear_errors(DigitClassifier(recipe="fast", epochs=1, seed=0).fit, x, y)


@fuzz
@given(x=anything, y=anything)
def test_fit_fuzz_with_valid_images(train_slice: Split, x: Any, y: Any) -> None:
    images = train_slice[0][:8]
    only_clear_errors(DigitClassifier(recipe="fast", epochs=1, seed=0).fit, images, y)
    only_clear_errors(DigitClassifier(recipe="fast", epochs=1, seed=0).fit, x, train_slice[1][:8])


pictures = st.one_of(
    anything,
    hnp.arrays(
        hnp.integer_dtypes() | hnp.floating_dtypes() | hnp.boolean_dtypes(),
        hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=64),
    ),
    st.builds(
        Image.new,
        st.sampled_from(["1", "L", "P", "RGB", "RGBA", "I", "F", "I;16", "LA", "CMYK"]),
        st.tuples(st.integers(1, 80), st.integers(1, 80)),
    ),
    st.just("no-such-file.png"),
)


@fuzz
@given(items=st.lists(pictures, max_size=4))
def test_predict_images_fuzz(fitted: DigitClassifier, items: list[Any]) -> None:
    readings = fitted.read_images(items)  # never raises: each picture gets its status
    assert len(readings) == len(items)
    for reading in readings:
        classified = reading.status in ("ok", "unsure")
        assert reading.status in ("ok", "unsure", "empty", "error")
        assert (reading.probabilities is not None) == classified
        assert (reading.error is not None) == (reading.status == "error")
        assert (reading.label == UNREAD) == (reading.status != "ok")
    for item in items:
        try:
            to_mnist(item)
        except (*CLEAR, OSError) as error:
            assert str(error)
    try:
        fitted.predict_images(items, strict=True)
    except (*CLEAR, OSError) as error:
        assert str(error)


@fuzz
@given(
    data=st.one_of(
        st.binary(max_size=64),
        st.builds(
            lambda dims, extra: (
                bytes([0, 0, 8, len(dims)]) + np.asarray(dims, ">u4").tobytes() + extra
            ),
            st.lists(st.integers(0, 6), max_size=4),
            st.binary(max_size=300),
        ),
    ),
    compress=st.booleans(),
)
def test_read_idx_fuzz(data: bytes, compress: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("data.gz" if compress else "data")
        path.write_bytes(gzip.compress(data) if compress else data)
        try:
            read_idx(path)
        except ValueError as error:
            assert str(path) in str(error)


@pytest.mark.parametrize("truncate", [1, 10, 100])
def test_read_idx_fuzz_truncated_gzip(tmp_path: Path, truncate: int) -> None:
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(bytes([0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3]))[:-truncate])
    with pytest.raises(ValueError, match=str(path)):
        read_idx(path)


@pytest.mark.parametrize("dtype", ["timedelta64[s]", "datetime64[D]", "complex64", "U2", "O"])
def test_pictures_of_non_pixel_dtypes_are_refused(dtype: str) -> None:
    expected = re.escape(
        f"must hold integers, floating-point numbers or booleans; got dtype {np.dtype(dtype)}"
    )
    with pytest.raises(TypeError, match=expected):
        to_mnist(np.zeros((30, 30), dtype=dtype))
