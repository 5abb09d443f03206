"""Splitting a number's ink into digits: faded strokes, detached bars and specks."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy import ndimage

from digitcnn._vision.mnist_style import ink_and_traces, ink_map
from digitcnn._vision.segmentation import split_digits

Stroke = tuple[slice, slice, float]


def page_with(strokes: list[Stroke]) -> NDArray[np.float64]:
    """Return white paper with dark ``strokes`` (darkness in [0, 1]), soft-edged as a pen's."""
    ink = np.zeros((80, 200))
    for rows, cols, darkness in strokes:
        ink[rows, cols] = darkness
    return 1.0 - ndimage.gaussian_filter(ink, 0.7)


TWO_DIGITS = [(slice(15, 65), slice(20, 26), 0.9), (slice(15, 65), slice(150, 156), 0.9)]
# a third stroke between them that faded where the pen went light: dark only in two
# pieces, each a speck on its own (under a twentieth of a digit's ink), and between them a
# quarter as dark as the ink, which here is below the ink's threshold (about 0.39) and
# above half of it
FADED = [
    (slice(15, 65), slice(86, 90), 0.25),
    (slice(15, 18), slice(86, 90), 0.9),
    (slice(62, 65), slice(86, 90), 0.9),
]


def columns(pieces: list[tuple[slice, slice, NDArray[np.bool_]]]) -> list[tuple[int, int]]:
    return [(int(cols.start), int(cols.stop)) for _, cols, _ in pieces]


def test_the_pieces_of_a_faded_stroke_are_kept_and_are_one_digit() -> None:
    ink, traces = ink_and_traces(page_with(TWO_DIGITS + FADED))
    assert ink[15:18, 86:90].all()  # neither piece is a speck
    assert ink[62:65, 86:90].all()
    assert not ink[25:55, 86:90].any()  # the faint part is not ink
    assert columns(split_digits(ink, traces)) == [(20, 26), (86, 90), (150, 156)]


def test_to_mnists_ink_drops_the_pieces_of_a_faded_stroke_as_specks() -> None:
    # to_mnist reads pictures whose paper's lines are still there, where a faint rule
    # would join what is left of it: its speck rule judges each blob alone
    ink = ink_map(page_with(TWO_DIGITS + FADED))
    assert not ink[:, 80:100].any()
    assert ink[15:65, 20:26].all()


def test_without_their_trace_the_pieces_of_a_faded_stroke_are_specks() -> None:
    pieces = [stroke for stroke in FADED if stroke[2] > 0.5]
    ink, traces = ink_and_traces(page_with(TWO_DIGITS + pieces))
    assert not ink[:, 80:100].any()
    assert columns(split_digits(ink, traces)) == [(20, 26), (150, 156)]


def test_blobs_side_by_side_are_one_digit_only_if_one_trace_joins_them() -> None:
    ink = np.zeros((40, 60))
    ink[5:35, 10:20] = 1.0  # two tall blobs, their columns apart
    ink[5:35, 24:34] = 1.0
    one_trace = np.where(ink > 0, 1, 0).astype(np.int32)
    one_trace[5:35, 20:24] = 1  # the faint stretch between them
    two_traces = np.where(ink > 0, 1, 0).astype(np.int32)
    two_traces[:, 24:] *= 2
    assert columns(split_digits(ink, one_trace)) == [(10, 34)]
    assert columns(split_digits(ink, two_traces)) == [(10, 20), (24, 34)]
    assert columns(split_digits(ink)) == [(10, 20), (24, 34)]
    assert columns(split_digits(ink, np.zeros_like(one_trace))) == [(10, 20), (24, 34)]


@pytest.mark.parametrize(("gap", "owned"), [(4, True), (8, False)])
def test_a_bar_a_gap_parts_from_its_digit_is_that_digits_if_the_gap_is_small(
    gap: int, owned: bool
) -> None:
    # a short piece (under a quarter of the tallest digit, 50 rows) beside a digit is
    # its bar if fewer than half of that many columns (6.25) part them
    start = 26 + gap
    bar = (slice(15, 22), slice(start, start + 20), 0.9)
    ink, traces = ink_and_traces(page_with([*TWO_DIGITS, bar]))
    assert ink[15:22, start : start + 20].all()  # ink, and no speck
    first = (20, start + 20) if owned else (20, 26)
    assert columns(split_digits(ink, traces)) == [first, (150, 156)]


def test_a_short_piece_far_from_every_digit_is_a_speck() -> None:
    speck = (slice(15, 22), slice(70, 90), 0.9)  # over 40 columns from either stroke
    ink, traces = ink_and_traces(page_with([*TWO_DIGITS, speck]))
    assert ink[15:22, 70:90].all()  # ink, but no digit
    assert columns(split_digits(ink, traces)) == [(20, 26), (150, 156)]
