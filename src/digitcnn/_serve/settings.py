"""The server's settings and their defaults, importable without the ``serve`` extra."""

from __future__ import annotations

import dataclasses

__all__ = ["DEFAULT_MIN_CONFIDENCE", "Batching", "Limits"]

DEFAULT_MIN_CONFIDENCE = 0.5
"""Answers below this probability are "unsure", unless a request says otherwise."""


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one request may send.

    Attributes
    ----------
    max_upload_bytes : int
        Largest request body, in bytes.
    max_files : int
        Most pictures in one request.
    body_timeout : float
        Seconds a request's body may take to arrive.
    """

    max_upload_bytes: int = 10_000_000
    max_files: int = 64
    body_timeout: float = 30.0


@dataclasses.dataclass(frozen=True)
class Batching:
    """How requests are batched for the model (``benchmarks/serve.py`` measures both).

    Attributes
    ----------
    max_batch_size : int
        Most images predicted in one model call; 1 turns batching off.
    batch_timeout : float
        Seconds a batch waits for more requests after its first.
    """

    max_batch_size: int = 64
    batch_timeout: float = 0.002
