"""The lines of the paper in a picture of handwriting: removed, keeping the ink; form boxes found.

Notebook rules, margin lines, squared grids and the walls of a form's boxes
are long, thin and straight; pen strokes are not. The picture becomes ink
darkness relative to the paper around it (so uneven lighting and tinted
paper drop out). The page's small tilt is measured from projection
profiles; each column (for horizontal lines) or row (for vertical ones) is
shifted by whole pixels so that lines run straight, and a line is a ridge,
darker than the paper beside it, that survives an opening with a long
footprint. A horizontal line spans most of the picture (or runs edge to
edge), or is the top or bottom of a row of boxes (a pair of lines that
start and stop together), or is dashed (the tops and bottoms of boxes that
stand apart: collinear pieces that together span much of the picture). A
line must also be a thin line on clear paper along much of its length (a
row of touching digits is not) and straight. A vertical line must be as
thin as the horizontal ones and either span the picture or be a box's
wall: as dark as the horizontal lines, from one to another, and with a
twin.

Each line's own darkness is measured along it with a low percentile that
crossing strokes miss, and taken out of its pixels, so a dark stroke
crossing a pale rule keeps its contrast; where a stroke crosses a dark line
(a box wall) the gap is filled from the ink on both sides. Colour helps
too: pale blue rules and red margins are strongly tinted for how dark they
are, pens are not, and such tinted pixels are weighted down.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray
from PIL import Image
from scipy import ndimage
from skimage.filters import threshold_otsu

from digitcnn._vision.greyscale import LUMA
from digitcnn._vision.mnist_style import median_side

__all__ = ["Box", "clean_paper"]

Float = NDArray[np.floating[Any]]
Box = tuple[int, int, int, int]
"""A rectangle in a picture: (top, left, bottom, right), bottom and right exclusive."""

_MAX_TILT = 4.0  # degrees of page rotation searched
_TILT_SAMPLE = 5000  # dark pixels, at most, whose projections find the tilt
_ACROSS = 0.6  # horizontal lines span this fraction of the picture's width
_DOWN = 0.6  # vertical lines this fraction of its height (or of the rules' span)
_EDGE = 0.2  # or, if it runs edge to edge (a tilted line may leave by the top), this fraction
_SEGMENT = 0.12  # pieces of a dashed horizontal line are at least this fraction of the width
_DASHED = 0.45  # and together span this fraction of it
_TINT = (1.2, 0.2)  # chroma/darkness above 1.2 is a pale ruling's tint; pens are below 1.0
_SMOOTH = 15  # pixels averaged along a line before looking for it
_SIDE = 6  # a line is darker than the paper this many pixels either side of it
_BRIDGE = 9  # breaks this long in a faint line are bridged
_LOCAL = 41  # pixels along a line over which its darkness is taken
_CORE = 0.2  # a line's pixels are those at least this fraction of its peak darkness
_SUPPORT = 0.4  # a line is a thin dark line on paper along this much of its length at least
_THIN = 5  # with no horizontal lines to compare with, a vertical line is this thin (pixels)
_BOX_TALL = 0.5  # a box standing apart is at least this many times as tall as it is wide
_WOBBLE = 0.6  # a drawn line's centre strays less than this from straight (pixels); strokes more
_BAND = 5  # a run this thick (pixels) that leaves by the picture's top or bottom is a shadow's edge


class _Lines(NamedTuple):
    """The lines found in a picture, in the picture's frame."""

    darkness: Float  # the ink's darkness relative to the paper, in [0, 1]
    weight: Float  # 0 for pixels tinted like a ruling, 1 for pen colours
    across: NDArray[np.bool_]  # pixels of horizontal lines
    down: NDArray[np.bool_]  # pixels of vertical lines
    value: Float  # the darkness of the line through each line pixel
    thickness: float  # of the horizontal lines, in pixels
    rows: list[float]  # where each horizontal line crosses the middle column
    walls: list[tuple[float, int, int]]  # each vertical line: its column halfway along, top, bottom
    height: int  # of the picture


def _as_rgb(pixels: Float) -> Float:
    """Return ``pixels`` (grey or RGB in [0, 1]) as dark-on-light RGB, shape (h, w, 3)."""
    rgb = np.repeat(pixels[..., None], 3, axis=2) if pixels.ndim == 2 else pixels
    if median_side(rgb @ LUMA, 0.5) < 0:  # light ink on a dark ground
        rgb = 1.0 - rgb
    return rgb


def _paper(plane: Float) -> Float:
    """Return the paper's brightness under ``plane``: a closing and a blur a fifth of its size wide.

    The paper varies slowly, so this is worked out on the plane shrunk by up
    to 4 times (Pillow's box filter) and enlarged back.
    """
    height, width = plane.shape
    size = max(9, round(min(height, width) / 5))
    shrink = max(1, min(4, size // 8))
    small = Image.fromarray(plane.astype(np.float32), mode="F")
    if shrink > 1:
        small = small.reduce(shrink)
    closed = ndimage.grey_closing(np.asarray(small), size=round(size / shrink))
    blurred: Float = ndimage.uniform_filter(closed, round(size / shrink))
    if shrink == 1:
        return blurred
    enlarged = Image.fromarray(blurred, mode="F").resize((width, height), Image.Resampling.BILINEAR)
    return np.asarray(enlarged, dtype=np.float32)


def _absorbance(rgb: Float) -> tuple[Float, Float]:
    """Return each pixel's darkness relative to the paper around it, and its ink weight."""
    paper = np.stack([_paper(rgb[..., k]) for k in range(3)], axis=-1)
    absorbed = np.clip(1.0 - rgb / np.maximum(paper, 1e-3), 0.0, 1.0)
    darkness = absorbed @ LUMA
    smooth = list(np.moveaxis(ndimage.uniform_filter(absorbed, (3, 3, 1)), -1, 0))
    spread = np.maximum(np.maximum(*smooth[:2]), smooth[2]) - np.minimum(
        np.minimum(*smooth[:2]), smooth[2]
    )
    tint = spread / np.maximum(sum(w * c for w, c in zip(LUMA, smooth, strict=True)), 1e-3)
    weight = np.clip((_TINT[0] - tint) / _TINT[1], 0.0, 1.0)
    return darkness, weight


def _slope(darkness: Float, threshold: float) -> float:
    """Return the page's tilt as a slope: horizontal lines run along row = r0 + slope * col."""
    rows, cols = np.nonzero(darkness > threshold)
    if rows.size < 10:
        return 0.0
    step = -(-rows.size // _TILT_SAMPLE)
    rows, cols = rows[::step], cols[::step]
    reach = int(sum(darkness.shape) * np.tan(np.radians(_MAX_TILT))) + 2

    bins = 2 * reach + int(sum(darkness.shape)) + 2

    def sharpest(degrees: NDArray[np.float64]) -> float:
        """Return the angle among ``degrees`` whose projections are most peaked."""
        # every dark pixel counts alike, so a long thin line outweighs a bold digit
        slopes = np.tan(np.radians(degrees))[:, None]
        shift = (np.arange(len(degrees)) * bins)[:, None] + reach  # one histogram per angle
        sharpness = np.zeros(len(degrees))
        for position in (rows - cols * slopes, cols + rows * slopes):  # across, then down
            counts = np.bincount(
                (np.round(position).astype(int) + shift).ravel(), minlength=len(degrees) * bins
            )
            sharpness += (counts.reshape(len(degrees), bins).astype(np.float64) ** 2).sum(axis=1)
        return float(degrees[np.argmax(sharpness)])

    best = sharpest(np.arange(-_MAX_TILT, _MAX_TILT + 1e-9, 0.25))
    return float(np.tan(np.radians(sharpest(np.arange(best - 0.25, best + 0.25 + 1e-9, 0.05)))))


def _column_groups(offsets: NDArray[np.int_]) -> list[tuple[int, int, int]]:
    """Return each run of columns with the same offset: (offset, first column, stop column)."""
    breaks = np.flatnonzero(np.diff(offsets)) + 1
    starts = np.concatenate([[0], breaks])
    stops = np.concatenate([breaks, [offsets.size]])
    return [(int(offsets[a]), int(a), int(b)) for a, b in zip(starts, stops, strict=True)]


def _straighten(image: Float, offsets: NDArray[np.int_], pad: int, fill: float = 0.0) -> Float:
    """Shift each column: ``out[i, c] = image[i - pad + offsets[c], c]``, ``fill`` outside."""
    height = image.shape[0]
    out = np.full((height + 2 * pad, image.shape[1]), fill, dtype=image.dtype)
    for offset, first, stop in _column_groups(offsets):
        out[pad - offset : pad - offset + height, first:stop] = image[:, first:stop]
    return out


def _bend(straight: NDArray[Any], offsets: NDArray[np.int_], pad: int) -> NDArray[Any]:
    """Undo :func:`_straighten`."""
    height = straight.shape[0] - 2 * pad
    out = np.empty((height, straight.shape[1]), dtype=straight.dtype)
    for offset, first, stop in _column_groups(offsets):
        out[:, first:stop] = straight[pad - offset : pad - offset + height, first:stop]
    return out


class _Segment(NamedTuple):
    """A straight run found by :func:`_runs`, in the straightened frame."""

    intercept: float  # where it crosses position 0 along, in the picture's frame
    start: int  # where it starts and stops along
    stop: int
    rows: slice  # the rows across that it darkens
    pixels: Float  # the straightened picture there, shape (rows, stop - start)
    paper: float  # the paper's darkness beside it
    typical: Float  # its darkness over the paper in each row, typically along it
    thickness: float  # width across, in pixels
    darkness: float  # at its darkest across, typically along, over the paper
    wobble: float  # how far its centre strays from straight, in pixels
    support: float  # the fraction of its length where it is a thin line on paper

    def value(self) -> Float:
        """Return its own darkness over the paper at each of its pixels.

        A running low percentile along it, which crossing strokes miss, no
        darker than typical (strokes that run along it a while). Worked out
        only for the runs kept as lines.
        """
        local = _running_quartile(self.pixels)
        own: Float = np.clip(local - self.paper, 0.0, 1.5 * self.typical[:, None] + 0.05)
        return own


class _Runs(NamedTuple):
    """Runs found along axis 1 of a picture, straightened, and how to bend them back."""

    shape: tuple[int, int]  # of the straightened picture
    offsets: NDArray[np.int_]
    pad: int
    slope: float
    segments: list[_Segment]

    def edge_to_edge(self, segment: _Segment) -> bool:
        """Return whether ``segment`` runs from one edge of the picture to another.

        A tilted line may leave through the top or bottom rather than the side.
        """
        across, along = self.shape[0] - 2 * self.pad, self.shape[1]

        def out(position: int) -> bool:
            row = segment.intercept + self.slope * position
            return row < 3 or row > across - 4

        near = max(2, 0.05 * along)  # a crossing stroke or faint paper may hide its last bit
        return (segment.start <= near or out(segment.start)) and (
            segment.stop >= along - near or out(segment.stop)
        )

    def bend(self, keep: list[_Segment]) -> tuple[NDArray[np.bool_], Float]:
        """Return the pixels of the ``keep`` runs and their darkness, in the picture's frame."""
        mask = np.zeros(self.shape, dtype=bool)
        value = np.zeros(self.shape)
        for segment in keep:
            mask[segment.rows, segment.start : segment.stop] = True
            block = value[segment.rows, segment.start : segment.stop]
            np.maximum(block, segment.value(), out=block)
        return _bend(mask, self.offsets, self.pad), _bend(value, self.offsets, self.pad)


class _Ridges(NamedTuple):
    """A picture straightened along a slope, and how much darker each pixel is than beside it."""

    straight: Float  # the picture, each column shifted so that lines along the slope run level
    ridge: Float  # darkness averaged along, over the paper ``_SIDE`` pixels across
    faint: float  # the faintest ridge told from the paper's grain
    offsets: NDArray[np.int_]
    pad: int
    slope: float


def _level_and_noise(values: Float) -> tuple[float, float]:
    """Return the median of ``values`` and their spread about it (the scaled median deviation).

    Taken over every fourth pixel: a quarter of them tell the paper's level
    and grain as well as all of them.
    """
    sample = values.ravel()[::4]
    level = float(np.median(sample))
    return level, 1.4826 * float(np.median(np.abs(sample - level)))


def _median(values: Float) -> float:
    """Return the median of the few ``values`` of one run, as ``np.median`` does, but faster.

    Sorting a run's hundred values costs a tenth of ``np.median``'s overhead.
    """
    ordered = np.sort(values, axis=None)
    return 0.5 * float(ordered[(ordered.size - 1) // 2] + ordered[ordered.size // 2])


def _ridges(darkness: Float, slope: float, paper: float) -> _Ridges:
    """Return the ridges of ``darkness`` along axis 1, following ``slope``.

    The straightened picture is padded with ``paper``, its typical darkness.

    A line is a ridge: darker, averaged along its run, than the paper
    ``_SIDE`` pixels to one side of it or the other.
    """
    offsets = np.round(np.arange(darkness.shape[1]) * slope).astype(int)
    pad = int(np.abs(offsets).max()) + 1
    straight = _straighten(darkness, offsets, pad, fill=paper)
    along = ndimage.uniform_filter1d(straight, _SMOOTH, axis=1)
    beside = np.minimum(np.roll(along, _SIDE, axis=0), np.roll(along, -_SIDE, axis=0))
    ridge = along - beside
    level, noise = _level_and_noise(ridge)
    faint = level + max(0.02, 3 * noise)
    return _Ridges(straight, ridge, faint, offsets, pad, slope)


def _runs(ridges: _Ridges, length: int, dark: float, floor: float) -> _Runs:
    """Find straight runs along the ridges at least ``length`` long.

    Ridges, and pixels darker than ``dark`` (ink crossing a line), are found
    with a threshold, short breaks are bridged, and what an opening with a
    ``length``-long footprint keeps is a run. Runs no darker than ``floor``
    are dropped.
    """
    straight, ridge, faint, offsets, pad, slope = ridges
    core = (ridge > faint) | (straight > dark)
    found = core.copy()  # a pixel up or down too: the straightening is good to a pixel
    found[1:] |= core[:-1]
    found[:-1] |= core[1:]
    found = ~_within(~_within(found, _BRIDGE), _BRIDGE)  # a closing: short breaks bridged
    length |= 1
    found = _within(~_within(~found, length), length)  # an opening: runs this long
    labels, count = ndimage.label(found, structure=np.ones((3, 3)))
    # the run's typical ridge over its own pixels, not the pixel beside it that the
    # widening added (half of a 2-pixel line's widened run)
    values = _medians(ridge, np.where(core, labels, 0), count)
    run_value = values[labels]
    labels = np.where(found & (ridge > 0.35 * run_value) & (run_value > 0), labels, 0)
    height = straight.shape[0] - 2 * pad
    segments: list[_Segment] = []
    clear: list[tuple[float, float, float]] = []  # each line's support, both sides and each
    for number, span in enumerate(ndimage.find_objects(labels), start=1):
        if span is None:
            continue
        piece = labels[span] == number
        profile = np.where(piece, straight[span], 0.0).max(axis=0)
        present = np.flatnonzero(profile > 0.5 * _median(profile))  # its ends, unsmoothed
        start, stop = span[1].start + present[0], span[1].start + present[-1] + 1
        cores, paper = _layers(straight, span)
        wobble = _wobble(piece, straight[span])
        for rows, layer in cores:  # one line, or twin lines close together (boxes apart)
            across = np.arange(rows.start, rows.stop)
            intercept = float((across * layer).sum() / layer.sum()) - pad  # straight, so at 0
            # how dark the line is: typically, along it; and its profile across, scaled to that
            peak = _median(straight[rows, start:stop].max(axis=0)) - paper
            if peak < max(faint, floor):
                continue  # the paper's grain, or its edge
            typical = layer * max(1.0, peak / layer.max())
            width = float(np.count_nonzero(layer > layer.max() / 2))
            ends = (intercept + slope * start, intercept + slope * stop)
            if width >= _BAND and not width / 2 < min(ends) <= max(ends) < height - 1 - width / 2:
                continue  # the edge of a shadow across the picture, not a line of the paper
            clear.append(_support(straight[:, start:stop], rows, paper + layer.max() / 2))
            segments.append(
                _Segment(
                    intercept,
                    start,
                    stop,
                    rows,
                    straight[rows, start:stop],
                    paper,
                    typical,
                    width,
                    peak,
                    wobble,
                    0.0,
                )
            )
    return _Runs(straight.shape, offsets, pad, slope, _with_twins(segments, clear))


def _within(mask: NDArray[np.bool_], size: int) -> NDArray[np.bool_]:
    """Return where ``mask`` has a pixel within ``size // 2`` along axis 1 (``size`` odd).

    As ``ndimage.maximum_filter1d(mask, size, axis=1)`` (and ``~_within(~mask)``
    as its minimum filter), from running counts, several times faster on a
    picture's masks.
    """
    half, length = size // 2, mask.shape[1]
    # counts[:, k]: how many pixels of a row lie before column k - half; the window
    # of column p holds counts[:, p + size] - counts[:, p] of them
    counts = np.zeros((mask.shape[0], length + 2 * half + 1), dtype=np.int32)
    np.cumsum(mask, axis=1, out=counts[:, half + 1 : half + 1 + length])
    counts[:, half + 1 + length :] = counts[:, half + length : half + length + 1]
    found: NDArray[np.bool_] = counts[:, 2 * half + 1 :] > counts[:, :length]
    return found


def _running_quartile(values: Float) -> Float:
    """Return the lower quartile of ``values`` over ``_LOCAL`` pixels around each, along axis 1.

    As ``ndimage.percentile_filter(values, 25, size=(1, _LOCAL), mode="nearest")``.
    """
    half = _LOCAL // 2
    padded = np.pad(values, ((0, 0), (half, half)), mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, _LOCAL, axis=1)
    rank = _LOCAL * 25 // 100
    return np.partition(windows, rank, axis=-1)[..., rank]


def _medians(values: Float, labels: NDArray[np.int_], count: int) -> Float:
    """Return the median of ``values`` over each label 1..count, with 0 for label 0 (fast)."""
    medians = np.zeros(count + 1)
    inside = labels > 0
    if count:
        label, value = labels[inside], values[inside]
        # sorted by label, then value, as np.lexsort((value, label)) but several times
        # faster: by value, then stably by label (a radix sort in the labels' least type)
        order = np.argsort(value)
        order = order[np.argsort(label[order].astype(np.min_scalar_type(count)), kind="stable")]
        label, value = label[order], value[order]
        first = np.searchsorted(label, np.arange(1, count + 1))
        last = np.searchsorted(label, np.arange(1, count + 1), side="right")
        medians[1:] = value[(first + last - 1) // 2]
    return medians


def _quartile(values: Float) -> Float:
    """Return the lower quartile of each row of ``values``, as ``np.percentile`` gives it."""
    ordered = np.sort(values, axis=1)
    position = 0.25 * (values.shape[1] - 1)
    below = int(position)
    above = min(below + 1, values.shape[1] - 1)
    share = position - below
    quartile: Float = ordered[:, below] * (1.0 - share) + ordered[:, above] * share
    return quartile


def _layers(straight: Float, span: tuple[slice, slice]) -> tuple[list[tuple[slice, Float]], float]:
    """Return the lines in a run: the rows each covers and its darkness over the paper in them.

    The darkness is a low percentile along the run, so ink crossing it, even
    ink that runs along part of it, does not count. A run is one line, or
    two or more close together, each at least half as dark as the darkest.
    Also returns the paper's darkness.
    """
    top = max(0, span[0].start - _SIDE)  # the run and the paper either side
    profile = _quartile(straight[top : span[0].stop + _SIDE, span[1]])
    layer = profile - profile.min()
    free = np.zeros(layer.size, dtype=bool)
    free[span[0].start - top : span[0].stop - top] = True  # this run's lines, not a neighbour's
    cores: list[tuple[slice, Float]] = []
    darkest = 0.0
    while free.any():
        peak = int(np.flatnonzero(free)[np.argmax(layer[free])])
        if layer[peak] <= 0 or layer[peak] < 0.5 * darkest:
            break
        darkest = max(darkest, float(layer[peak]))
        first, last = peak, peak + 1  # down either side, to the paper or to a valley
        floor = _CORE * layer[peak]
        while first > 0 and floor < layer[first - 1] <= layer[first] + 0.01:
            first -= 1
        while last < layer.size and floor < layer[last] <= layer[last - 1] + 0.01:
            last += 1
        free[first:last] = False
        if all(first >= c.stop - top or last <= c.start - top for c, _ in cores):
            cores.append((slice(top + first, top + last), layer[first:last]))
    return cores, float(profile.min())


def _support(straight: Float, rows: slice, level: float) -> tuple[float, float, float]:
    """Return the fractions of a run's length where it is dark and the paper beside it is not.

    A line of the paper is, except where strokes cross it; a run through a
    row of touching digits is not. The fractions are for the paper on both
    sides, above only and below only (a twin line may be on the other side).
    """
    gap = 2
    inside = straight[rows].max(axis=0) > level
    above = straight[max(0, rows.start - gap - 2) : max(0, rows.start - gap)]
    below = straight[rows.stop + gap : rows.stop + gap + 2]
    clear_above = above.max(axis=0) <= level if above.size else np.ones_like(inside)
    clear_below = below.max(axis=0) <= level if below.size else np.ones_like(inside)
    length = inside.size
    return (
        np.count_nonzero(inside & clear_above & clear_below) / length,
        np.count_nonzero(inside & clear_above) / length,
        np.count_nonzero(inside & clear_below) / length,
    )


def _with_twins(
    segments: list[_Segment], sides: list[tuple[float, float, float]]
) -> list[_Segment]:
    """Return the segments, each with its support on the side away from its twin, if it has one.

    Twin lines (the walls of neighbouring boxes that stand apart) run close
    together, side by side along most of their length.
    """
    found = []
    for segment, (both, above, below) in zip(segments, sides, strict=True):
        support = both
        for other in segments:
            overlap = min(segment.stop, other.stop) - max(segment.start, other.start)
            apart = other.intercept - segment.intercept
            close = 0 < abs(apart) <= 2 * (segment.thickness + other.thickness) + 6
            if other is not segment and close and overlap >= 0.5 * (segment.stop - segment.start):
                support = max(support, below if apart < 0 else above)
        found.append(segment._replace(support=support))
    return found


def _wobble(piece: NDArray[np.bool_], darkness: Float) -> float:
    """Return how far a run's centre strays from straight: the median distance, in pixels.

    ``piece`` runs along axis 1; its centre at each step is the mean position
    across it, weighted by ``darkness``.
    """
    weights = np.where(piece, darkness, 0.0)
    total = weights.sum(axis=0)
    centres = (np.arange(piece.shape[0])[:, None] * weights).sum(axis=0)[total > 0] / total[
        total > 0
    ]
    return _median(np.abs(centres - _median(centres)))


def _alike(runs: Iterable[_Segment]) -> bool:
    """Return whether ``runs`` are drawn alike: none more than twice as dark as another."""
    darkness = [run.darkness for run in runs]
    return max(darkness) <= 2 * min(darkness)


def _dashed(runs: _Runs, width: int, taken: list[_Segment]) -> list[_Segment]:
    """Return the pieces of dashed horizontal lines: the tops and bottoms of boxes apart.

    The pieces are straight, thin lines on paper, at the same height as each
    other or as lines already ``taken`` (but not along them), and together
    span much of the picture (``_DASHED`` of its width). A piece that is a
    thin line on paper along only half as much of its length as a line must
    be (digits written along it) counts if its group spans as much of the
    picture as a line must (``_ACROSS``) and its pieces are alike, none more
    than twice as dark as another: a line broken by the digits on it, not a
    pale ruling beside the pen strokes that lie along it.
    """

    def along(piece: _Segment, line: _Segment) -> bool:
        overlap = min(piece.stop, line.stop) - max(piece.start, line.start)
        return abs(piece.intercept - line.intercept) <= 2 and overlap > 0

    pieces = [
        s
        for s in runs.segments
        if s.wobble <= _WOBBLE and s.support >= _SUPPORT / 2 and not any(along(s, t) for t in taken)
    ]

    def spans(group: list[_Segment]) -> bool:
        length = sum(p.stop - p.start for p in group)
        if all(p.support >= _SUPPORT for p in group):
            return length >= _DASHED * width
        # not a pale ruling and the pen strokes along it
        return length >= _ACROSS * width and _alike(group)

    groups: list[list[_Segment]] = []
    for piece in sorted(pieces + taken, key=lambda s: s.intercept):
        if groups and piece.intercept - groups[-1][-1].intercept <= 2.0:
            groups[-1].append(piece)
        else:
            groups.append([piece])
    return [p for g in groups if len(g) >= 2 and spans(g) for p in g if any(p is q for q in pieces)]


def _framed(
    runs: _Runs, taken: list[_Segment], partners: list[_Segment], tall: float
) -> list[_Segment]:
    """Return the horizontal runs, not ``taken``, framing a row of boxes with one of ``partners``.

    A row of boxes is framed by its top and bottom lines (the top and bottom
    of one box, for boxes apart). The two start and stop together, at least
    ``tall`` times their length apart (and 10 pixels), both thin for how far
    apart they are (unlike the tops and bottoms of a row of touching
    digits) and drawn alike (neither twice as dark); one at least is
    straight and a thin line on paper along most of its length (digits may
    cross the other for much of its), or both are straighter still (half
    the wobble a line may have: pale thin lines, which a blur leaves dark
    enough along only part of their length), or the partner is a line
    already ``taken`` and the run is straight.
    """

    def strong(run: _Segment) -> bool:
        return run.wobble <= _WOBBLE and run.support >= 1.5 * _SUPPORT

    def straight(run: _Segment) -> bool:
        return run.wobble <= _WOBBLE / 2

    free = [s for s in runs.segments if all(s is not t for t in taken)]
    framed = []
    for s in free:
        if s.support < _SUPPORT / 4:
            continue
        length = s.stop - s.start
        near = max(6.0, 0.05 * length)
        for t in partners:
            apart = abs(t.intercept - s.intercept)
            if (
                t is not s
                and t.support >= _SUPPORT / 4
                and (
                    strong(s)
                    or strong(t)
                    or (straight(s) and straight(t))
                    or (s.wobble <= _WOBBLE and any(t is u for u in taken))
                )
                and abs(t.start - s.start) <= near
                and abs(t.stop - s.stop) <= near
                and apart >= max(10.0, tall * length)
                and max(t.thickness, s.thickness) <= 0.08 * apart + 2
                and abs(t.thickness - s.thickness) <= 2
                and _alike((t, s))
            ):
                framed.append(s)
                break
    return framed


def _down(
    runs: _Runs, width: int, slope: float, rows: list[float], across: list[_Segment]
) -> list[_Segment]:
    """Return the vertical runs that are lines of the paper.

    A line is as thin as the horizontal ones, ``across`` (if none, thin and
    straight), and either spans the picture (a margin or grid line) or is a
    box's wall, as dark as they are and with another wall like it: reaching
    from one horizontal line to another, it ends on both and is paper-clear
    over part of its length, or ends on one and is straight and clear over
    much of it.
    """
    if not across:
        return [
            s
            for s in runs.segments
            if runs.edge_to_edge(s)
            and s.support >= _SUPPORT
            and s.wobble <= _WOBBLE
            and s.thickness <= _THIN
        ]
    thickness = float(np.median([s.thickness for s in across]))
    darkness = float(np.median([s.darkness for s in across]))
    reach = thickness + 3
    full, walls = [], []
    for segment in runs.segments:
        if segment.thickness > 1.5 * thickness + 1.0:
            continue
        if runs.edge_to_edge(segment) and segment.support >= _SUPPORT:
            full.append(segment)
            continue
        column = segment.intercept - slope * (segment.start + segment.stop) / 2
        crossed = [row + slope * (column - width / 2) for row in rows]
        crossed = [row for row in crossed if segment.start - reach <= row <= segment.stop + reach]
        if len(crossed) < 2:
            continue
        ends = sum(
            min(abs(end - row) for row in crossed) <= reach for end in (segment.start, segment.stop)
        )
        if not 0.6 * darkness <= segment.darkness <= 1.6 * darkness:
            continue  # a wall is drawn like the lines it joins: a pale rule's are not walls
        straight = segment.wobble <= _WOBBLE and segment.support >= _SUPPORT
        if (ends == 2 and segment.support >= _SUPPORT / 2) or (ends == 1 and straight):
            walls.append(segment)
    paired = [
        w
        for w in walls
        if any(
            v is not w and abs(v.start - w.start) <= 2 * reach and abs(v.stop - w.stop) <= 2 * reach
            for v in walls
        )
    ]
    return full + paired


def _analyse(pixels: Float) -> _Lines:
    rgb = _as_rgb(pixels.astype(np.float32))
    darkness, weight = _absorbance(rgb)
    height, width = darkness.shape
    paper, noise = _level_and_noise(darkness)
    slope = _slope(darkness, paper + 2 * noise)
    dark = max(float(threshold_otsu(darkness)), paper + 4 * noise)

    # horizontal lines: across most of the picture, framing a row of boxes, or dashed
    ridges = _ridges(darkness, slope, paper)
    runs = _runs(ridges, int(_EDGE * width), dark, 3 * noise)
    long = [
        s
        for s in runs.segments
        if s.support >= _SUPPORT
        and s.wobble <= 2.5 * _WOBBLE  # digits cross it, but it is straight
        and (s.stop - s.start >= _ACROSS * width or runs.edge_to_edge(s))
    ]
    long += _framed(runs, long, runs.segments, 0.1)
    across, value = runs.bend(long)
    short = _runs(ridges, max(9, int(_SEGMENT * width)), dark, 3 * noise)
    dashed = _dashed(short, width, long)
    dashed += _framed(short, long + dashed, dashed, _BOX_TALL)  # a top or bottom not found
    pieces, value_pieces = short.bend(dashed)
    across, value = across | pieces, np.maximum(value, value_pieces)
    lines = long + dashed
    rows: list[float] = []  # at the middle column; the pieces of a dashed line are one line
    for row in sorted(s.intercept + slope * width / 2 for s in lines):
        if not rows or row - rows[-1] > 2.0:
            rows.append(row)
    thickness = float(np.median([s.thickness for s in lines])) if lines else 1.0

    # vertical lines
    length = _DOWN * height
    if len(rows) >= 2:
        length = min(length, 0.8 * (rows[-1] - rows[0]))
    runs_t = _runs(
        _ridges(np.ascontiguousarray(darkness.T), -slope, paper),
        max(9, int(length)),
        dark,
        3 * noise,
    )
    lines_t = _down(runs_t, width, slope, rows, lines)
    down_t, value_t = runs_t.bend(lines_t)
    down, value = down_t.T, np.maximum(value, value_t.T)
    walls = sorted((s.intercept - slope * (s.start + s.stop) / 2, s.start, s.stop) for s in lines_t)
    return _Lines(darkness, weight, across, down, value, thickness, rows, walls, height)


def _ink(lines: _Lines) -> Float:
    ink = lines.darkness * lines.weight
    on_line = lines.across | lines.down
    # ink over a pale line darkens it as one filter over another: take the line's share out
    unmixed = np.clip(
        (lines.darkness - lines.value) / (1.0 - np.minimum(lines.value, 0.5)), 0.0, 1.0
    )
    ink = np.where(on_line, lines.weight * unmixed, ink)
    # fill back the strokes that cross a dark line: line pixels with ink on both sides
    gap = 2 * int(np.ceil(lines.thickness)) + 3
    full = lines.darkness * lines.weight
    for mask, size in (
        (lines.across & ~lines.down, (gap, 1)),
        (lines.down & ~lines.across, (1, gap)),
    ):
        if not mask.any():
            continue
        bridged = np.minimum(ndimage.grey_closing(ink, size=size), full)
        ink = np.where(mask, np.maximum(ink, bridged), ink)
    return ink


def _boxes(lines: _Lines) -> list[Box]:
    walls = [w for w in lines.walls if w[1] > 2 and w[2] < lines.height - 2]  # not a grid's
    if len(walls) < 2 or len(lines.rows) < 2:
        return []
    top = float(np.median([w[1] for w in walls]))
    bottom = float(np.median([w[2] for w in walls]))
    margin = 0.15 * (bottom - top)
    if any(top + margin < row < bottom - margin for row in lines.rows):
        return []  # a grid, not a comb
    centres = [walls[0][0]]
    for centre, _, _ in walls[1:]:  # one wall may come out as two pieces
        if centre - centres[-1] > 3 * lines.thickness + 2:
            centres.append(centre)
    widths = np.diff(centres)
    if widths.size == 0:
        return []
    typical = float(np.median(widths[widths >= 0.5 * np.median(widths)]))  # boxes, not the gaps
    half = lines.thickness / 2 + 1
    return [
        (int(top), int(np.ceil(left + half)), int(np.ceil(bottom)), int(np.floor(right - half)) + 1)
        for left, right in itertools.pairwise(centres)
        if right - left >= 0.6 * typical
    ]


def clean_paper(pixels: Float) -> tuple[NDArray[np.float64], list[Box]]:
    """Return the strokes of a picture of handwriting without the paper's lines, and its form boxes.

    Removes notebook rules, margin lines, squared grids and the walls of
    form boxes (long, thin, straight lines) but not the pen strokes that
    cross them. What is left is each pixel's darkness over the paper:
    ``mnist_style.ink_map`` of it (of all of it, or of one box) separates
    the ink from the paper's grain, and the dots of a dot grid are too small
    to count as ink and go as specks.

    A comb field is a row of boxes, sharing their walls or standing apart:
    vertical walls that stop at a top and a bottom line, with no other
    horizontal line between (unlike a grid). Gaps between boxes that stand
    apart are not boxes.

    Parameters
    ----------
    pixels : numpy.ndarray of float
        A greyscale ``(h, w)`` or RGB ``(h, w, 3)`` picture in [0, 1], as
        ``greyscale.read_pixels`` returns it; dark ink on light paper or
        light on dark.

    Returns
    -------
    strokes : numpy.ndarray of float64
        The darkness of the pen strokes over the paper, values in [0, 1],
        the picture's height and width.
    boxes : list of Box
        The inside of each box of a comb field, left to right (its columns
        at the boxes' mid-height, its rows those of the walls; the page may
        be tilted a little); empty if the picture has none.
    """
    lines = _analyse(pixels)
    return _ink(lines).astype(np.float64), _boxes(lines)
