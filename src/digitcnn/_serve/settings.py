"""The server's settings and their defaults, importable without the ``serve`` extra."""

from __future__ import annotations

import dataclasses
import os

__all__ = [
    "DEFAULT_MIN_CONFIDENCE",
    "DEFAULT_WORKERS",
    "IMAGE_THREADS",
    "SETTINGS_ENV",
    "Batching",
    "Limits",
]

DEFAULT_MIN_CONFIDENCE = 0.5
"""Answers below this probability are "unsure", unless a request says otherwise."""

IMAGE_THREADS = 2
"""Threads per server process that decode and normalise pictures.

The work holds Python's GIL most of the time, so more threads only contend
for it: on 2 cores, 2 threads answered 464 requests/s at 32 clients with a
99th percentile of 100 ms, Starlette's default of 40 answered 340 requests/s
and 337 ms. The cores are used by more processes (``digitcnn serve --workers``).
"""

DEFAULT_WORKERS = min(4, os.cpu_count() or 1)
"""Server processes ``digitcnn serve`` starts: one per core, at most 4 (each holds a model)."""

SETTINGS_ENV = "DIGITCNN_SERVE_SETTINGS"
"""The environment variable through which ``digitcnn serve`` hands its settings to its workers."""


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
