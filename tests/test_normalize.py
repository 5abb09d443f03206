from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from conftest import Split
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray
from PIL import Image
from scipy import ndimage

from digitcnn import EmptyImageError, to_mnist
from digitcnn._vision.greyscale import MAX_IMAGE_PIXELS, read_grey
from digitcnn._vision.mnist_style import _ink_from_paper, ink_map


@pytest.fixture(scope="module")
def digits(test_slice: Split) -> NDArray[np.uint8]:
    """Twenty real MNIST test digits."""
    return test_slice[0][:20]


def page(digit: NDArray[np.uint8], scale: int, top: int, left: int, size: int) -> NDArray[np.uint8]:
    """Return ``digit`` enlarged ``scale`` times, dark on a light ``size``-pixel page."""
    big = np.asarray(Image.fromarray(digit).resize((28 * scale, 28 * scale), Image.BILINEAR))
    canvas = np.zeros((size, size), dtype=np.uint8)
    canvas[top : top + 28 * scale, left : left + 28 * scale] = big
    return 255 - canvas


placements = st.tuples(
    st.integers(0, 19),  # which digit
    st.integers(2, 5),  # scale
    st.integers(0, 60),  # top
    st.integers(0, 60),  # left
)


def similarity(a: NDArray[np.float32], b: NDArray[np.float32]) -> float:
    """Return the correlation of two images, blurred so that a one-pixel shift counts little."""
    a, b = ndimage.gaussian_filter(a, 1.0), ndimage.gaussian_filter(b, 1.0)
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


@given(placements)
def test_output_is_a_centred_28x28_image_in_unit_range(
    digits: NDArray[np.uint8], placement: tuple[int, int, int, int]
) -> None:
    index, scale, top, left = placement
    result = to_mnist(page(digits[index], scale, top, left, 28 * scale + 60))
    assert result.shape == (28, 28)
    assert result.dtype == np.float32
    assert result.min() >= 0.0
    assert result.max() == pytest.approx(1.0)
    row, col = ndimage.center_of_mass(result)
    assert abs(row - 14) <= 1.0
    assert abs(col - 14) <= 1.0
    rows, cols = np.nonzero(result > 0.05)
    assert max(np.ptp(rows), np.ptp(cols)) + 1 in range(18, 23)  # the longer side is about 20 px


@given(placements)
def test_polarity_does_not_matter(
    digits: NDArray[np.uint8], placement: tuple[int, int, int, int]
) -> None:
    index, scale, top, left = placement
    dark_on_light = page(digits[index], scale, top, left, 28 * scale + 60)
    np.testing.assert_allclose(to_mnist(dark_on_light), to_mnist(255 - dark_on_light), atol=1e-6)


@given(placements, st.integers(0, 60), st.integers(0, 60))
def test_translation_does_not_matter(
    digits: NDArray[np.uint8], placement: tuple[int, int, int, int], top: int, left: int
) -> None:
    index, scale, top0, left0 = placement
    size = 28 * scale + 60
    first = to_mnist(page(digits[index], scale, top0, left0, size))
    second = to_mnist(page(digits[index], scale, top, left, size))
    assert similarity(first, second) > 0.97


@given(st.integers(0, 19), st.integers(2, 5), st.integers(2, 5))
def test_scale_does_not_matter_much(digits: NDArray[np.uint8], index: int, a: int, b: int) -> None:
    first = to_mnist(page(digits[index], a, 10, 10, 28 * a + 20))
    second = to_mnist(page(digits[index], b, 10, 10, 28 * b + 20))
    # resampling thin strokes at different scales differs a little; most pairs are above 0.9
    assert similarity(first, second) > 0.75


def test_mnist_digits_stay_nearly_unchanged(digits: NDArray[np.uint8]) -> None:
    for digit in digits:
        assert similarity(to_mnist(digit), digit / 255) > 0.85


def pieces(ink: NDArray[np.floating]) -> int:
    """Return how many connected pieces the ink is in."""
    return int(ndimage.label(ink > 0, structure=np.ones((3, 3)))[1])


def test_a_blurred_digit_keeps_its_faint_strokes(test_slice: Split) -> None:
    # digits scanned at 8 pixels a side and enlarged: their thin strokes fade below the threshold
    scans = [
        read_grey(
            Image.fromarray(255 - digit)
            .resize((8, 8), Image.Resampling.BOX)
            .resize((64, 64), Image.Resampling.BILINEAR)
        )
        for digit in test_slice[0][:100]
    ]
    assert sum(pieces(_ink_from_paper(grey).ink()) > 1 for grey in scans) >= 3
    assert all(pieces(ink_map(grey)) == 1 for grey in scans)


@given(placements)
def test_a_sharp_picture_keeps_only_the_ink_above_the_threshold(
    digits: NDArray[np.uint8], placement: tuple[int, int, int, int]
) -> None:
    index, scale, top, left = placement
    pen = np.where(digits[index] > 127, 255, 0).astype(np.uint8)  # a stroke with crisp edges
    grey = read_grey(page(pen, scale, top, left, 200))
    separation = _ink_from_paper(grey)  # what a faint ruled line would not reach
    assert np.all(separation.flat[ink_map(grey) > 0] > separation.threshold)


@pytest.mark.parametrize("value", [0, 128, 255])
def test_blank_images_are_empty(value: int) -> None:
    with pytest.raises(EmptyImageError, match="no ink"):
        to_mnist(np.full((50, 40), value, dtype=np.uint8))


def test_faint_noise_is_empty() -> None:
    noise = np.random.default_rng(0).normal(200, 3, (100, 100)).clip(0, 255).astype(np.uint8)
    with pytest.raises(EmptyImageError):
        to_mnist(noise)


def test_modes_and_depths_read_alike(digits: NDArray[np.uint8]) -> None:
    grey = page(digits[0], 3, 20, 30, 150)
    rgb = np.stack([grey, grey, grey], axis=2)
    reference = to_mnist(grey)
    variants: list[object] = [
        Image.fromarray(grey),
        Image.fromarray(rgb),
        Image.fromarray(grey).convert("P"),
        grey.astype(np.uint16) * 257,  # 16-bit
        Image.fromarray(grey.astype(np.uint16) * 257),
        grey / 255.0,
        rgb,
    ]
    for variant in variants:
        np.testing.assert_allclose(to_mnist(variant), reference, atol=0.02)  # type: ignore[arg-type]


def test_transparent_canvas_shows_the_ink_whatever_its_colour(digits: NDArray[np.uint8]) -> None:
    alpha = 255 - page(digits[1], 3, 10, 10, 110)  # the digit is opaque, the rest transparent
    reference = to_mnist(alpha)
    for ink in (0, 255):
        rgba = np.zeros((*alpha.shape, 4), dtype=np.uint8)
        rgba[..., :3] = ink
        rgba[..., 3] = alpha
        assert similarity(to_mnist(Image.fromarray(rgba, "RGBA")), reference) > 0.98


def test_files_read_like_arrays(digits: NDArray[np.uint8], tmp_path: Path) -> None:
    grey = page(digits[2], 4, 5, 5, 130)
    path = tmp_path / "digit.png"
    Image.fromarray(grey).save(path)
    np.testing.assert_array_equal(to_mnist(path), to_mnist(grey))
    np.testing.assert_array_equal(to_mnist(str(path)), to_mnist(grey))
    np.testing.assert_array_equal(to_mnist(path.read_bytes()), to_mnist(grey))


def test_a_phone_photo_is_read_upright_as_its_orientation_tag_says(
    digits: NDArray[np.uint8],
) -> None:
    upright = page(digits[2], 4, 5, 5, 130)
    # the camera stored the picture turned a quarter, and a tag saying how to show it
    stored = Image.fromarray(np.rot90(upright, k=1))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: turn 90 degrees clockwise to show it
    buffer = io.BytesIO()
    stored.save(buffer, format="PNG", exif=exif)
    np.testing.assert_array_equal(to_mnist(buffer.getvalue()), to_mnist(upright))


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def png_bytes(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", size, 255).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda d: d / "missing.png", FileNotFoundError, "does not exist"),
        (lambda d: d, ValueError, "is a folder"),
        (lambda d: write(d / "empty.png", b""), ValueError, "empty"),
        (lambda d: write(d / "text.png", b"not an image at all"), ValueError, "not an image"),
        (
            lambda d: write(d / "cut.png", png_bytes((60, 60))[:60]),
            ValueError,
            "truncated or corrupted",
        ),
        (lambda d: write(d / "dot.png", png_bytes((1, 1))), ValueError, "at least 2x2"),
    ],
)
def test_bad_files_get_clear_errors(
    make: object, error: type[Exception], message: str, tmp_path: Path
) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    with pytest.raises(error, match=message):
        to_mnist(path)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty \\(0 bytes\\)"),
        (b"not an image at all", "not an image"),
        (png_bytes((60, 60))[:60], "truncated or corrupted"),
        (png_bytes((1, 1)), "at least 2x2"),
    ],
)
def test_bad_bytes_get_clear_errors(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        to_mnist(data)


def test_huge_images_in_bytes_are_refused_before_decoding() -> None:
    side = int(MAX_IMAGE_PIXELS**0.5) + 10
    data = png_bytes((side, side))  # a decompression bomb: a few kB of PNG, 50 M pixels
    assert len(data) < 1_000_000
    with pytest.raises(ValueError, match="more than the"):
        to_mnist(data)


def test_huge_images_are_refused_before_decoding() -> None:
    side = int(MAX_IMAGE_PIXELS**0.5) + 10
    with pytest.raises(ValueError, match="more than the"):
        read_grey(Image.new("L", (side, side)))


@pytest.mark.parametrize(
    ("image", "error", "message"),
    [
        (
            None,
            TypeError,
            "must be a file path, the bytes of an image file, a PIL.Image.Image or a numpy array",
        ),
        ([[0, 1], [1, 0]], TypeError, "got list"),
        (np.array([["a", "b"], ["c", "d"]]), TypeError, "dtype <U1"),
        (np.zeros((5, 5, 7)), ValueError, "1, 2, 3 or 4 channels"),
        (np.zeros((2, 5, 5, 1)), ValueError, "expected \\(height, width"),
        (np.full((5, 5), np.nan), ValueError, "NaN"),
        (
            np.full((5, 5), 2.0),
            ValueError,
            "must be scaled to \\[0, 1\\]; got values in \\[2, 2\\]",
        ),
        (
            np.full((5, 5), -1, dtype=np.int16),
            ValueError,
            "0\\.\\.65535; got values in \\[-1, -1\\]",
        ),
        (
            np.full((5, 5), 70000, dtype=np.int32),
            ValueError,
            "0\\.\\.65535; got values in \\[70000",
        ),
    ],
)
def test_bad_arrays_and_types_get_clear_errors(
    image: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        to_mnist(image)  # type: ignore[arg-type]
