from __future__ import annotations

import numpy as np
import pytest
from conftest import Split, number, on_paper
from PIL import Image

from digitcnn import UNREAD, DigitClassifier, NotFittedError, NumberReader
from digitcnn._constants import CTC_BLANK
from digitcnn._estimator.number_reading import read_ink
from digitcnn._vision.number_frame import STEP_WIDTH, NumberFrame


@pytest.fixture(scope="module")
def pictures(test_slice: Split, tmp_path_factory: pytest.TempPathFactory) -> list[object]:
    x, _ = test_slice
    folder = tmp_path_factory.mktemp("pictures")
    png = folder / "digit.png"
    Image.fromarray(on_paper(x[0])).save(png)
    broken = folder / "broken.png"
    broken.write_bytes(b"not an image")
    return [
        png,  # 0: a file
        Image.fromarray(on_paper(x[1])).convert("RGB"),  # 1: a Pillow image
        on_paper(x[2]),  # 2: an array
        np.full((60, 60), 240, dtype=np.uint8),  # 3: blank paper
        folder / "missing.png",  # 4: no such file
        broken,  # 5: not an image
        str(png),  # 6: a str path
    ]


def test_read_images_reports_each_outcome(fitted: DigitClassifier, pictures: list[object]) -> None:
    readings = fitted.read_images(pictures)  # type: ignore[arg-type]
    assert [r.status for r in readings][3:6] == ["empty", "error", "error"]
    assert all(r.status in ("ok", "unsure") for i, r in enumerate(readings) if i not in (3, 4, 5))
    assert readings[0].source.endswith("digit.png")
    assert readings[1].source == "item 1"
    assert "does not exist" in (readings[4].error or "")
    assert "not an image" in (readings[5].error or "")
    assert all(r.label == UNREAD and np.isnan(r.confidence) for r in readings[3:6])
    assert readings[0].label == readings[6].label


def test_predict_images_returns_labels_and_probabilities(
    fitted: DigitClassifier, pictures: list[object], test_slice: Split
) -> None:
    labels, proba = fitted.predict_images(pictures, return_proba=True)  # type: ignore[arg-type]
    assert labels.shape == (7,)
    assert labels.dtype == np.int64
    assert proba.shape == (7, 10)
    assert proba.dtype == np.float32
    assert (labels[3:6] == UNREAD).all()
    assert np.isnan(proba[3:6]).all()
    readable = [0, 1, 2, 6]
    np.testing.assert_allclose(proba[readable].sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(labels[readable], proba[readable].argmax(axis=1))
    np.testing.assert_array_equal(fitted.predict_images(pictures), labels)  # type: ignore[arg-type]


def test_strict_mode_raises_the_first_error(
    fitted: DigitClassifier, pictures: list[object]
) -> None:
    with pytest.raises(FileNotFoundError, match="missing.png does not exist"):
        fitted.predict_images(pictures, strict=True)  # type: ignore[arg-type]


@pytest.mark.parametrize("threshold", [0.0, 0.5, 0.9, 1.0])
def test_confidence_threshold_rejects_unsure_answers(
    fitted: DigitClassifier, test_slice: Split, threshold: float
) -> None:
    x, _ = test_slice
    readings = fitted.read_images(list(x[:40]), min_confidence=threshold)
    for reading in readings:
        assert (reading.status == "ok") == (reading.confidence >= threshold)
        assert (reading.label == UNREAD) == (reading.status == "unsure")


@pytest.mark.parametrize(
    ("value", "error"), [(-0.1, ValueError), (1.5, ValueError), ("high", TypeError)]
)
def test_bad_confidence_thresholds_are_refused(
    fitted: DigitClassifier, test_slice: Split, value: object, error: type[Exception]
) -> None:
    with pytest.raises(error, match="min_confidence"):
        fitted.predict_images([test_slice[0][0]], min_confidence=value)  # type: ignore[arg-type]


def test_read_digits_finds_each_digit_left_to_right(
    fitted: DigitClassifier, test_slice: Split
) -> None:
    x, y = test_slice
    result = fitted.read_digits(number([x[0], x[1], x[2], x[3]]))
    assert result.digits == tuple(int(d) for d in y[:4])
    assert result.text == "".join(str(d) for d in y[:4])
    assert len(result.confidences) == len(result.boxes) == 4
    assert all(type(edge) is int for box in result.boxes for edge in box)
    lefts = [box[1] for box in result.boxes]
    assert lefts == sorted(lefts)
    assert all(0 <= c <= 1 for c in result.confidences)


def test_read_digits_merges_a_broken_stroke(fitted: DigitClassifier, test_slice: Split) -> None:
    x, _ = test_slice
    broken = x[0].copy()
    broken[12:14] = 0  # a gap across the digit splits it into two blobs
    assert len(fitted.read_digits(number([broken, x[1]], gap=14)).digits) == 2


def test_read_digits_of_a_blank_page_is_empty(fitted: DigitClassifier) -> None:
    result = fitted.read_digits(np.full((80, 200), 250, dtype=np.uint8))
    assert (result.text, result.digits) == ("", ())


def test_an_empty_list_gives_empty_results(fitted: DigitClassifier) -> None:
    assert fitted.predict_images([]).shape == (0,)
    assert fitted.read_images([]) == []


def test_reading_before_fit_raises() -> None:
    blank = np.full((28, 28), 255, dtype=np.uint8)
    with pytest.raises(NotFittedError, match="not fitted"):
        DigitClassifier().predict_images([blank])
    with pytest.raises(NotFittedError, match="not fitted"):
        DigitClassifier().read_digits(blank)


def test_reading_ink_without_any_gives_an_empty_number(fitted: DigitClassifier) -> None:
    reader = NumberReader.pretrained()
    result = read_ink(fitted.predict_proba, reader.step_probabilities, np.zeros((40, 90)), 0.0)
    assert (result.text, result.digits, result.boxes) == ("", (), ())


def _reads_two_digits(frame: NumberFrame, doubled: int = 0, sure: float = 1.0) -> np.ndarray:
    """A stand-in for a number reader: a 9 in each blob of ink, but "41" in blob ``doubled``.

    It reads each digit with probability ``sure`` (the rest on a 0).
    """
    steps = frame.pixels.shape[1] // STEP_WIDTH
    probabilities = np.zeros((steps, CTC_BLANK + 1), dtype=np.float32)
    probabilities[:, CTC_BLANK] = 1.0
    inked = np.flatnonzero(frame.pixels.any(axis=0))
    runs = np.split(inked, np.flatnonzero(np.diff(inked) > 1) + 1)
    for index, run in enumerate(runs):
        thirds = (run[0] + (run[-1] - run[0]) * np.array([1, 2]) / 3).astype(int)
        read = zip(thirds, (4, 1), strict=True) if index == doubled else [(int(run.mean()), 9)]
        for column, digit in read:
            one_hot = np.eye(CTC_BLANK + 1)
            probabilities[column // STEP_WIDTH] = sure * one_hot[digit] + (1 - sure) * one_hot[0]
    return probabilities


def test_one_digit_the_reader_reads_as_two_is_one_digit_in_a_number_written_apart(
    test_slice: Split,
) -> None:
    x, y = test_slice
    clf = DigitClassifier.pretrained()
    zero = next(i for i in range(len(y)) if y[i] == 0)  # a round digit, as wide as tall
    digits = [x[i] for i in (1, 2, zero, 4, 5)]
    ink = np.concatenate([np.pad(d, ((10, 10), (6, 6))) for d in digits], axis=1) / 255
    # a reader unsure of the two digits it read (0.9 each) where the classifier is sure of one
    result = read_ink(clf.predict_proba, lambda f: _reads_two_digits(f, 2, 0.9), ink, 0.0)
    assert len(result.text) == 5
    assert result.text[2] == "0"
    # a reader sure of them: two digits that touch, whatever the classifier makes of them
    result = read_ink(clf.predict_proba, lambda f: _reads_two_digits(f, 2), ink, 0.0)
    assert result.text[2:4] == "41"


def test_digits_that_touch_keep_the_readers_count(test_slice: Split) -> None:
    x, _ = test_slice
    clf = DigitClassifier.pretrained()
    pair = np.zeros((28, 42))
    pair[:, :28] = x[0]
    pair[:, 14:] = np.maximum(pair[:, 14:], x[1])  # "7" and "2", overlapping
    ink = np.pad(pair / 255, 10)
    result = read_ink(clf.predict_proba, _reads_two_digits, ink, 0.0)
    assert result.text == "41"  # not written apart: the reader says how many digits a blob holds
