"""TensorFlow loaded without its start-up lines, for programs: the command line, its servers.

A library must not change its process's environment or file descriptors;
a program may, before TensorFlow loads. TensorFlow's C++ start-up lines
(oneDNN, the CUDA drivers it looks for, absl's "All log messages before
absl::InitializeLog()") are written before ``TF_CPP_MIN_LOG_LEVEL`` takes
effect, so they are hidden at the descriptor.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

__all__ = ["load_tensorflow_quietly"]


@contextlib.contextmanager
def _native_stderr_hidden() -> Iterator[None]:
    """Send what C++ code writes to the process's standard error (descriptor 2) to nowhere."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as nowhere:
            os.dup2(nowhere.fileno(), 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def load_tensorflow_quietly() -> None:
    """Load TensorFlow and find its devices, hiding its start-up lines.

    Python's own errors are raised once standard error is back. Later C++
    messages below warnings are silenced by ``TF_CPP_MIN_LOG_LEVEL=2``,
    unless the user set it.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with _native_stderr_hidden():
        import tensorflow as tf

        tf.config.list_physical_devices()
