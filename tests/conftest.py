"""Shared fixtures: small slices of the real MNIST data and one quickly trained classifier."""

from __future__ import annotations

import contextlib
import gzip
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import settings
from numpy.typing import NDArray
from PIL import Image

from digitcnn import DigitClassifier, load_mnist

# Figures render to files, never to a screen.
os.environ.setdefault("MPLBACKEND", "Agg")

# TensorFlow calls make the first examples slow; deadlines would only measure the machine.
settings.register_profile("default", deadline=None, max_examples=50)
settings.register_profile("ci", deadline=None, max_examples=50, derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")

MNIST_DIR = Path(__file__).resolve().parents[1] / "data" / "mnist"
N_TRAIN = 2000
N_TEST = 500

Split = tuple[NDArray[np.uint8], NDArray[np.uint8]]


def write_idx(path: Path, array: NDArray[np.uint8], *, compress: bool) -> Path:
    """Write ``array`` as an IDX file of unsigned bytes (MNIST's format)."""
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    payload = header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()
    path.write_bytes(gzip.compress(payload) if compress else payload)
    return path


def run_python(
    *args: object, timeout: float = 300, **options: Any
) -> subprocess.CompletedProcess[str]:
    """Run ``python *args`` in a new process and return it, output captured as text.

    ``options`` go to :func:`subprocess.run` (``cwd``, ``env``); ``timeout``
    guards against a hang.
    """
    command = [sys.executable, *(str(arg) for arg in args)]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, check=False, **options
    )


def free_port() -> int:
    """Return a TCP port free on localhost now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def serving(app: Any) -> Iterator[str]:
    """Run the ASGI ``app`` with uvicorn on a free localhost port; yield its URL; then stop it."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "the server stopped as it started"
        assert time.monotonic() < deadline, "the server did not start within 30 s"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        assert not thread.is_alive(), "the server did not stop"


def on_paper(digit: NDArray[np.uint8], scale: int = 4, margin: int = 30) -> NDArray[np.uint8]:
    """Return an MNIST digit enlarged, as dark ink on a light page."""
    big = np.asarray(Image.fromarray(digit).resize((28 * scale, 28 * scale), Image.BILINEAR))
    return 255 - np.pad(big, margin)


def number(digits: list[NDArray[np.uint8]], gap: int = 12) -> NDArray[np.uint8]:
    """Return MNIST digits cropped to their ink and written side by side, dark on light."""
    crops = []
    for digit in digits:
        cols = np.flatnonzero(digit.max(axis=0) > 30)
        crops.append(digit[:, cols[0] : cols[-1] + 1])
    row = np.concatenate([np.pad(c, ((0, 0), (0, gap))) for c in crops], axis=1)
    big = Image.fromarray(row).resize((row.shape[1] * 3, 28 * 3), Image.BILINEAR)
    return 255 - np.pad(np.asarray(big), 40)


@pytest.fixture(scope="session")
def mnist() -> tuple[Split, Split]:
    """Return the full real MNIST data set from the repository's data folder."""
    return load_mnist(MNIST_DIR)


@pytest.fixture(scope="session")
def train_slice(mnist: tuple[Split, Split]) -> Split:
    """Return the first 2,000 real training images and labels."""
    (x_train, y_train), _ = mnist
    return x_train[:N_TRAIN], y_train[:N_TRAIN]


@pytest.fixture(scope="session")
def test_slice(mnist: tuple[Split, Split]) -> Split:
    """Return the first 500 real test images and labels."""
    _, (x_test, y_test) = mnist
    return x_test[:N_TEST], y_test[:N_TEST]


@pytest.fixture(scope="session")
def small_data(
    train_slice: Split, test_slice: Split, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """Return a Keras-style ``.npz`` of the training and test slices, for the command line."""
    path = tmp_path_factory.mktemp("data") / "mnist.npz"
    np.savez(
        path,
        x_train=train_slice[0],
        y_train=train_slice[1],
        x_test=test_slice[0],
        y_test=test_slice[1],
    )
    return path


@pytest.fixture(scope="session")
def fitted(train_slice: Split) -> DigitClassifier:
    """Return a classifier trained for one short epoch on the training slice."""
    x, y = train_slice
    return DigitClassifier(epochs=1, batch_size=32, seed=0).fit(x, y)
