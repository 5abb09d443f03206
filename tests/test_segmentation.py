"""Splitting a number's ink into digits: faded strokes, detached bars and specks."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from digitcnn._vision.mnist_style import ink_and_traces
from digitcnn._vision.segmentation import split_digits


def page_with(strokes: list[tuple[slice, slice, float]]) -> NDArray[np.float64]:
    """Return a white page (light on dark is the ink's polarity) with grey ``strokes``."""
    page = np.ones((80, 200))
    for rows, cols, darkness in strokes:
        page[rows, cols] = 1.0 - darkness
    return page


TWO_DIGITS = [(slice(15, 65), slice(20, 26), 0.9), (slice(15, 65), slice(150, 156), 0.9)]
# a third stroke between them, dark in two pieces (each a speck: under a twentieth of a
# stroke's ink) and faint between them (a third of the ink's darkness): a stroke that
# faded where the pen went light
FADED = [
    (slice(15, 65), slice(86, 90), 0.3),
    (slice(15, 18), slice(86, 90), 0.9),
    (slice(62, 65), slice(86, 90), 0.9),
]


def columns(pieces: list[tuple[slice, slice, NDArray[np.bool_]]]) -> list[tuple[int, int]]:
    return [(int(cols.start), int(cols.stop)) for _, cols, _ in pieces]


def test_the_pieces_of_a_faded_stroke_are_kept_and_are_one_digit() -> None:
    ink, traces = ink_and_traces(page_with(TWO_DIGITS + FADED))
    assert ink[15:18, 86:90].all()  # neither piece is a speck
    assert ink[62:65, 86:90].all()
    assert not ink[30:50, 86:90].any()  # the faint part is not ink
    assert columns(split_digits(ink, traces)) == [(20, 26), (86, 90), (150, 156)]


def test_without_their_trace_the_pieces_of_a_faded_stroke_are_specks() -> None:
    pieces = [(rows, cols, darkness) for rows, cols, darkness in FADED if darkness > 0.5]
    ink, traces = ink_and_traces(page_with(TWO_DIGITS + pieces))
    assert not ink[:, 80:100].any()
    assert columns(split_digits(ink, traces)) == [(20, 26), (150, 156)]


def test_a_bar_a_gap_parts_from_its_digit_is_that_digits() -> None:
    bar = (slice(15, 22), slice(30, 50), 0.9)  # 4 columns right of the first stroke
    ink, traces = ink_and_traces(page_with([*TWO_DIGITS, bar]))
    assert columns(split_digits(ink, traces)) == [(20, 50), (150, 156)]


def test_a_short_piece_far_from_every_digit_is_a_speck() -> None:
    speck = (slice(15, 22), slice(70, 90), 0.9)  # over 40 columns from either stroke
    ink, traces = ink_and_traces(page_with([*TWO_DIGITS, speck]))
    assert ink[15:22, 70:90].all()  # ink, but no digit
    assert columns(split_digits(ink, traces)) == [(20, 26), (150, 156)]
