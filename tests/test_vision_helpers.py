"""The fast helpers of the picture code agree with the NumPy and SciPy functions they replace."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import ndimage

from digitcnn._vision.mnist_style import median_side
from digitcnn._vision.paper_lines import _median, _medians, _within

masks = arrays(np.bool_, st.tuples(st.integers(1, 12), st.integers(1, 60)))
# values on a coarse grid, so that ties and values at exactly 0.5 are frequent
grid = st.integers(0, 8).map(lambda k: k / 8)


@given(masks, st.integers(0, 70).map(lambda k: 2 * k + 1))
def test_within_is_scipys_maximum_filter_and_its_complement_the_minimum(
    mask: np.ndarray, size: int
) -> None:
    np.testing.assert_array_equal(_within(mask, size), ndimage.maximum_filter1d(mask, size, axis=1))
    np.testing.assert_array_equal(
        ~_within(~mask, size), ndimage.minimum_filter1d(mask, size, axis=1)
    )


@given(arrays(np.float64, st.integers(1, 40), elements=grid))
def test_median_is_numpys(values: np.ndarray) -> None:
    assert _median(values) == float(np.median(values))


@given(
    # every value drawn (no fill value), so that ties at the level and even counts split
    # in two around it are frequent
    arrays(
        np.float64,
        st.tuples(st.integers(1, 4), st.integers(1, 4)),
        elements=grid,
        fill=st.nothing(),
    ),
    grid,
)
def test_median_side_is_the_sign_of_numpys_median_minus_the_level(
    values: np.ndarray, level: float
) -> None:
    assert median_side(values, level) == np.sign(np.median(values) - level)


@given(
    arrays(np.float64, 50, elements=st.floats(-2, 2)),
    arrays(np.int64, 50, elements=st.integers(0, 4)),
)
def test_medians_of_labels_are_numpys(values: np.ndarray, labels: np.ndarray) -> None:
    count = int(labels.max())
    medians = _medians(values, labels, count)
    assert medians[0] == 0.0
    for label in range(1, count + 1):
        inside = values[labels == label]
        if inside.size:
            # as np.median for an odd count; the lower middle value for an even one
            assert medians[label] == np.sort(inside)[(inside.size - 1) // 2]
