"""CTC's best path: the digits a number reader's step probabilities spell, and where."""

from __future__ import annotations

import dataclasses

import numpy as np
from numpy.typing import NDArray

from digitcnn._constants import CTC_BLANK

__all__ = ["ReadDigit", "best_path"]


@dataclasses.dataclass(frozen=True)
class ReadDigit:
    """One digit of a best path: its probabilities and the steps that read it."""

    probabilities: NDArray[np.float32]
    """The ten digit probabilities at the step where the digit was surest, renormalised."""
    first: int
    """The first step that read it."""
    stop: int
    """The step after the last that read it."""


def best_path(steps: NDArray[np.float32]) -> list[ReadDigit]:
    """Return the digits of the most likely path through ``(steps, 11)`` probabilities.

    CTC's greedy decoding: the most likely class at each step, repeats
    merged, blanks dropped. Each digit keeps the run of steps that read it
    and the digit probabilities at its surest step.
    """
    best = steps.argmax(axis=1)
    digits: list[ReadDigit] = []
    start = 0
    for stop in range(1, len(best) + 1):
        if stop < len(best) and best[stop] == best[start]:
            continue
        if best[start] != CTC_BLANK:
            surest = start + int(steps[start:stop, best[start]].argmax())
            own = steps[surest, :CTC_BLANK]
            digits.append(ReadDigit(own / own.sum(), start, stop))
        start = stop
    return digits
