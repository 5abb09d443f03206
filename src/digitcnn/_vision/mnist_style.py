"""MNIST-style normalisation: any image of a digit to the 28x28 image MNIST would have.

MNIST's digits were size-normalised to fit a 20x20 box with their aspect
ratio kept, anti-aliased, and placed in a 28x28 frame with their centre of
mass at the centre. :func:`to_mnist` does the same to a photo, a scan or a
drawing, after first finding the ink: it turns the image grey, makes the
digit light on a dark background whatever its polarity, removes uneven
lighting with a morphological top-hat, separates ink from paper with Otsu's
threshold, drops specks, and brings the pen stroke to MNIST's width. A
blurred picture (a low-resolution scan, a distant photo) keeps its strokes'
soft edges down to half the threshold, where the threshold alone would
break its thin strokes into pieces.
:func:`ink_and_traces` separates the ink of a number's picture the same way,
keeping the pieces of a stroke that faded (see ``segmentation.py``).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from numpy.typing import NDArray
from PIL import Image
from scipy import ndimage
from skimage.filters import threshold_otsu
from skimage.morphology import disk, skeletonize

from digitcnn._constants import IMAGE_SIZE
from digitcnn._exceptions import EmptyImageError
from digitcnn._types import ImageInput
from digitcnn._vision.greyscale import read_grey

__all__ = [
    "BOX_SIZE",
    "blob_traces",
    "frame_digit",
    "ink_and_traces",
    "ink_map",
    "median_side",
    "to_mnist",
]

BOX_SIZE = 20
"""Side of the box that MNIST fits each digit into, in pixels."""

_CENTRE = 14.0  # MNIST's mean centre of mass, row and column (measured on the training set)
_STROKE = 2.8  # MNIST's median stroke width at the 20-pixel scale (measured likewise)
_MIN_CONTRAST = 0.15  # ink must stand this far above the background on the [0, 1] scale
_MIN_PART = 0.05  # ink blobs smaller than this fraction of the largest are specks
_FAINT = 0.5  # this fraction of the ink's threshold: traces, and a blurred picture's soft edges
_TOPHAT_FRACTION = 1 / 3  # the background-removal window, as a fraction of the shorter side
_BLURRED = 0.12  # ink edges wider than this fraction of the ink's height: a blurred picture


@dataclasses.dataclass(frozen=True)
class _Separation:
    """A picture light on dark without its background, and the levels that tell its ink."""

    flat: NDArray[np.float64]
    threshold: float  # Otsu's threshold between paper and ink
    strong: float  # the level of strong ink, which becomes 1

    def ink(self, fraction: float = 1.0) -> NDArray[np.float64]:
        """Return the ink above ``fraction`` of the threshold, on [0, 1] up to strong ink."""
        level = fraction * self.threshold
        ink: NDArray[np.float64] = np.clip(
            (self.flat - level) / max(self.strong - level, 1e-6), 0, 1
        )
        return ink


def ink_map(grey: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return the ink of a greyscale image: light strokes on a zero background.

    Ink is what stands above Otsu's threshold between paper and ink, without
    specks. In a blurred picture, whose ink's edges are wide for its height
    (a digit scanned at a low resolution or photographed from afar), the
    strokes keep their soft edges down to half the threshold: a thin stroke
    that fades below it stays whole.

    Parameters
    ----------
    grey : numpy.ndarray of float
        A 2-D greyscale image with values in [0, 1], in either polarity.

    Returns
    -------
    numpy.ndarray of float64
        Same shape, values in [0, 1]; 0 wherever there is no ink.

    Raises
    ------
    EmptyImageError
        If nothing in the image stands out from the background.
    """
    separation = _ink_from_paper(grey)
    ink = separation.ink()
    labels, count = ndimage.label(ink > 0, structure=np.ones((3, 3)))
    kept = _without_specks(ink, labels, np.arange(count + 1))
    rows = np.flatnonzero(kept.any(axis=1))
    edge = _edge_width(separation, kept > 0)
    if edge <= _BLURRED * (rows[-1] - rows[0] + 1):
        return kept
    # the soft edges of the kept strokes, not the faint paper lines or specks further away
    near = ndimage.distance_transform_edt(kept == 0) <= edge
    return np.where(near, separation.ink(_FAINT), 0.0)


def _edge_width(separation: _Separation, ink: NDArray[np.bool_]) -> float:
    """Return how wide the edges of ``ink`` are, in pixels: 1 or 2 if sharp, more if blurred.

    It is how far the picture takes to rise from paper to strong ink at its
    steepest: the strong ink's level over the median gradient on the
    outline of ``ink``.
    """
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    box = np.s_[max(rows[0] - 1, 0) : rows[-1] + 2, max(cols[0] - 1, 0) : cols[-1] + 2]
    inside, flat = ink[box], separation.flat[box]
    outline = inside & ~ndimage.binary_erosion(inside)
    slope = np.hypot(ndimage.sobel(flat, 0), ndimage.sobel(flat, 1)) / 8  # Sobel weighs 8x
    return separation.strong / max(float(np.median(slope[outline])), 1e-6)


def ink_and_traces(grey: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.int32]]:
    """Return the ink of a line-free picture, and the fainter traces that join its pieces.

    A stroke that fades (thin, lightly pressed, blurred) breaks into pieces
    where it falls below the ink's threshold, and its pieces can be as small
    as specks. Traces are where the picture is more than half as dark as the
    ink's threshold: the pieces that one trace joins are judged together,
    kept if together they are not a speck, and are one stroke
    (``segmentation.split_digits``). The picture must be free of the
    paper's lines (``paper_lines.clean_paper``), whose faint stretches would
    join what is left of them.

    Parameters
    ----------
    grey : numpy.ndarray of float
        A 2-D greyscale image with values in [0, 1], in either polarity.

    Returns
    -------
    ink : numpy.ndarray of float64
        Same shape, values in [0, 1]; 0 wherever there is no ink.
    traces : numpy.ndarray of int32
        Same shape: the number of the trace each pixel is in, 0 outside
        them; every pixel of ink is in one.

    Raises
    ------
    EmptyImageError
        If nothing in the image stands out from the background.
    """
    separation = _ink_from_paper(grey)
    ink = separation.ink()
    traces, _ = ndimage.label(
        separation.flat > _FAINT * separation.threshold, structure=np.ones((3, 3))
    )
    labels, count = ndimage.label(ink > 0, structure=np.ones((3, 3)))
    return _without_specks(ink, labels, blob_traces(labels, count, traces)), traces


def blob_traces(
    labels: NDArray[np.integer], count: int, traces: NDArray[np.integer]
) -> NDArray[np.intp]:
    """Return the trace that each blob of ink lies in, by the blob's number.

    Parameters
    ----------
    labels : numpy.ndarray of int
        The blobs of the ink, numbered from 1 (0 is no ink).
    count : int
        How many blobs there are.
    traces : numpy.ndarray of int
        The traces, as :func:`ink_and_traces` returns them with the ink.

    Returns
    -------
    numpy.ndarray of intp
        ``count + 1`` trace numbers: element ``n`` is blob ``n``'s, element
        0 (no ink) is 0.
    """
    found = np.zeros(count + 1, dtype=np.intp)
    found[labels.ravel()] = traces.ravel()  # a blob lies in one trace: any of its pixels tells
    found[0] = 0
    return found


def _ink_from_paper(grey: NDArray[np.float64]) -> _Separation:
    """Return the picture light on dark without its background, and its ink's levels.

    Raises
    ------
    EmptyImageError
        If nothing in the image stands out from the background.
    """
    if median_side(grey, 0.5) > 0:  # most of an image of a digit is background
        grey = 1.0 - grey
    size = max(3, math.ceil(min(grey.shape) * _TOPHAT_FRACTION))
    # float32 halves the cost of the opening's filters; the result is the same to 1e-7
    flat = ndimage.white_tophat(grey.astype(np.float32), size=(size, size)).astype(np.float64)
    if flat.max() < _MIN_CONTRAST:
        raise EmptyImageError("the image has no ink: nothing stands out from the background")
    threshold = max(float(threshold_otsu(flat)), _MIN_CONTRAST / 2)
    return _Separation(flat, threshold, float(np.percentile(flat[flat > threshold], 90)))


def _without_specks(
    ink: NDArray[np.float64], labels: NDArray[np.int32], group_of: NDArray[np.intp]
) -> NDArray[np.float64]:
    """Return ``ink`` without its specks: groups of blobs small compared with the largest blob.

    ``labels`` numbers the blobs of ``ink`` from 1, and ``group_of[n]`` is
    the group of blob ``n`` (``group_of[0]``, the background's, is unused).
    """
    count = len(group_of) - 1
    if count <= 1:
        return ink
    areas = np.bincount(labels.ravel(), minlength=count + 1)[1:]  # pixels of each blob
    groups = group_of[1:]
    joined = np.bincount(groups, weights=areas)[groups]  # the pixels of each blob's group
    keep = np.concatenate([[False], joined >= _MIN_PART * areas.max()])
    return np.where(keep[labels], ink, 0.0)


def median_side(values: NDArray[np.floating], level: float) -> int:
    """Return the sign of ``np.median(values) - level``: 1, 0 or -1.

    Where more than half of the values lie above ``level`` (or below it),
    counting them tells, several times faster than the median of a picture;
    otherwise the median decides.
    """
    above = 2 * int(np.count_nonzero(values > level))
    below = 2 * int(np.count_nonzero(values < level))
    if above > values.size:
        return 1
    if below > values.size:
        return -1
    return int(np.sign(np.median(values) - level))


def _stroke_width(ink: NDArray[np.float64]) -> float:
    """Return the median width of the strokes in ``ink``, in pixels."""
    solid = ink > 0.5
    skeleton = skeletonize(solid)
    if not skeleton.any():
        return 1.0
    return float(2 * np.median(ndimage.distance_transform_edt(solid)[skeleton]))


def frame_digit(ink: NDArray[np.float64]) -> NDArray[np.float32]:
    """Place the ink of one digit in a 28x28 frame the way MNIST did.

    The ink is cropped to its bounding box, its strokes are thickened or
    thinned to MNIST's width, it is resized so that its longer side is 20
    pixels (aspect ratio kept, anti-aliased), and it is placed so that its
    centre of mass is at the centre of the frame.

    Parameters
    ----------
    ink : numpy.ndarray of float
        Light strokes on a zero background, as :func:`ink_map` returns.

    Returns
    -------
    numpy.ndarray of float32
        Shape ``(28, 28)``, values in [0, 1].

    Raises
    ------
    EmptyImageError
        If ``ink`` is all zero.
    """
    rows, cols = np.nonzero(ink)
    if rows.size == 0:
        raise EmptyImageError("the image has no ink: nothing stands out from the background")
    ink = ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    longer = max(ink.shape)
    target = _STROKE * longer / BOX_SIZE  # MNIST's stroke width at this image's scale
    width = _stroke_width(ink)
    if width < 0.5 * target:
        ink = ndimage.grey_dilation(ink, footprint=disk(max(1, round((target - width) / 2))))
    elif width > 2 * target:
        thinner = ndimage.grey_erosion(ink, footprint=disk(max(1, round((width - target) / 2))))
        ink = thinner if thinner.max() > 0.5 else ink
    height, width_px = ink.shape
    scale = BOX_SIZE / max(height, width_px)
    size = (max(1, round(width_px * scale)), max(1, round(height * scale)))
    small = Image.fromarray(ink.astype(np.float32), mode="F").resize(
        size, Image.Resampling.LANCZOS, reducing_gap=3.0
    )
    digit = np.clip(np.asarray(small, dtype=np.float64), 0.0, 1.0)
    if digit.max() > 0:
        digit /= digit.max()
    row, col = ndimage.center_of_mass(digit)
    top, left = round(_CENTRE - row), round(_CENTRE - col)
    frame = np.zeros((IMAGE_SIZE, IMAGE_SIZE), dtype=np.float32)
    r0, c0 = max(top, 0), max(left, 0)
    r1 = min(top + digit.shape[0], IMAGE_SIZE)
    c1 = min(left + digit.shape[1], IMAGE_SIZE)
    frame[r0:r1, c0:c1] = digit[r0 - top : r1 - top, c0 - left : c1 - left]
    return frame


def to_mnist(image: ImageInput) -> NDArray[np.float32]:
    """Return the 28x28 image MNIST would have made of a picture of one digit.

    Works on photos and scans of digits written on paper (dark ink on light,
    unevenly lit, in colour, off-centre, JPEG-compressed) as well as on
    drawings and on MNIST's own images, which it leaves nearly unchanged.

    Parameters
    ----------
    image : str, os.PathLike, bytes, PIL.Image.Image or numpy.ndarray
        A path to an image file in any format Pillow reads, or the file's
        contents as bytes (an upload, a download); a Pillow image in
        any mode (greyscale, RGB, RGBA, palette, 16-bit); or an array of shape
        ``(height, width)`` or ``(height, width, channels)`` with 1-4 channels
        last. Integer arrays are on the 0-255 scale, or 0-65535 when a value
        exceeds 255; float arrays must be in [0, 1]. Colour becomes luminance;
        transparent pixels become the background that contrasts with the ink.

    Returns
    -------
    numpy.ndarray of float32
        Shape ``(28, 28)``, values in [0, 1]: a light digit on black, its
        longer side 20 pixels, its centre of mass at the centre; ready for
        :meth:`DigitClassifier.predict <digitcnn.DigitClassifier.predict>`.

    Raises
    ------
    EmptyImageError
        If the image has no ink (a blank page, a uniform array).
    FileNotFoundError
        If a path does not exist.
    ValueError
        If the file (or the bytes) is empty, not an image, truncated or corrupted; if the
        image is smaller than 2x2 or larger than 50 million pixels; if an array
        has the wrong shape or out-of-range values.
    TypeError
        If ``image`` is none of the accepted types, or an array of strings or
        objects.

    Examples
    --------
    >>> import numpy as np
    >>> from digitcnn import to_mnist
    >>> page = np.full((120, 90), 230, dtype=np.uint8)   # light paper
    >>> page[30:90, 40:48] = 20                          # a dark stroke: a "1"
    >>> digit = to_mnist(page)
    >>> digit.shape, digit.dtype, float(digit.max())
    ((28, 28), dtype('float32'), 1.0)
    """
    return frame_digit(ink_map(read_grey(image)))
