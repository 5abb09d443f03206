from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from conftest import MNIST_DIR, Split, write_idx
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from digitcnn import DATA_ENV_VAR, DataUnavailableError, load_mnist, read_idx

IDX_NAMES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


@pytest.fixture
def small_folder(tmp_path: Path, mnist: tuple[Split, Split]) -> Path:
    """A folder of the four IDX files holding the first 100/50 real records, gzipped."""
    (x_train, y_train), (x_test, y_test) = mnist
    arrays = {"x_train": x_train[:100], "y_train": y_train[:100]}
    arrays |= {"x_test": x_test[:50], "y_test": y_test[:50]}
    for key, stem in IDX_NAMES.items():
        write_idx(tmp_path / f"{stem}.gz", arrays[key], compress=True)
    return tmp_path


def test_load_mnist_matches_keras_layout(mnist: tuple[Split, Split]) -> None:
    (x_train, y_train), (x_test, y_test) = mnist
    assert x_train.shape == (60000, 28, 28)
    assert y_train.shape == (60000,)
    assert x_test.shape == (10000, 28, 28)
    assert y_test.shape == (10000,)
    for array in (x_train, y_train, x_test, y_test):
        assert array.dtype == np.uint8
        assert array.flags.writeable
    assert y_train[:5].tolist() == [5, 0, 4, 1, 9]
    assert y_test[:5].tolist() == [7, 2, 1, 0, 4]
    assert x_train.max() == 255
    assert set(np.unique(y_train)) == set(range(10))


def test_read_idx_gzipped_and_plain_agree(tmp_path: Path) -> None:
    packed = MNIST_DIR / "t10k-labels-idx1-ubyte.gz"
    plain = tmp_path / "t10k-labels-idx1-ubyte"
    plain.write_bytes(gzip.decompress(packed.read_bytes()))
    np.testing.assert_array_equal(read_idx(packed), read_idx(plain))


def test_load_mnist_reads_uncompressed_folder(tmp_path: Path, small_folder: Path) -> None:
    for stem in IDX_NAMES.values():
        (tmp_path / stem).write_bytes(gzip.decompress((small_folder / f"{stem}.gz").read_bytes()))
        (small_folder / f"{stem}.gz").unlink()
    (x_train, _), (x_test, _) = load_mnist(tmp_path)
    assert x_train.shape == (100, 28, 28)
    assert x_test.shape == (50, 28, 28)


def test_load_mnist_reads_keras_npz(tmp_path: Path, small_folder: Path) -> None:
    (x_train, y_train), (x_test, y_test) = load_mnist(small_folder)
    npz = tmp_path / "mnist.npz"
    np.savez(npz, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    (a, b), (c, d) = load_mnist(npz)
    for got, want in zip((a, b, c, d), (x_train, y_train, x_test, y_test), strict=True):
        np.testing.assert_array_equal(got, want)


def test_load_mnist_uses_environment_variable(
    small_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DATA_ENV_VAR, str(small_folder))
    (x_train, _), _ = load_mnist()
    assert x_train.shape == (100, 28, 28)


def test_load_mnist_without_data_explains_how_to_point_at_files(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from keras.datasets import mnist

    def offline() -> None:
        raise Exception("URL fetch failure: no network")

    monkeypatch.delenv(DATA_ENV_VAR, raising=False)
    monkeypatch.setattr(mnist, "load_data", offline)
    with pytest.raises(DataUnavailableError, match=DATA_ENV_VAR) as info:
        load_mnist()
    assert "load_mnist('path/to/folder')" in str(info.value)
    assert isinstance(info.value, OSError)


def test_load_mnist_missing_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not found"):
        load_mnist(tmp_path / "nowhere")


def test_load_mnist_folder_missing_a_file(small_folder: Path) -> None:
    (small_folder / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte"):
        load_mnist(small_folder)


def test_load_mnist_rejects_mismatched_counts(small_folder: Path) -> None:
    write_idx(small_folder / "t10k-labels-idx1-ubyte.gz", np.zeros(49, np.uint8), compress=True)
    with pytest.raises(ValueError, match="got 49 labels for 50 images"):
        load_mnist(small_folder)


def test_load_mnist_rejects_labels_above_nine(small_folder: Path) -> None:
    write_idx(small_folder / "t10k-labels-idx1-ubyte.gz", np.full(50, 10, np.uint8), compress=True)
    with pytest.raises(ValueError, match="labels must be whole numbers from 0 to 9; got 10"):
        load_mnist(small_folder)


def test_load_mnist_rejects_images_of_wrong_size(small_folder: Path) -> None:
    write_idx(
        small_folder / "t10k-images-idx3-ubyte.gz", np.zeros((50, 27, 27), np.uint8), compress=True
    )
    with pytest.raises(ValueError, match=r"shape \(50, 27, 27\)"):
        load_mnist(small_folder)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not an IDX file"),
        (b"\x01\x00\x08\x01\x00\x00\x00\x01\x05", "not an IDX file"),
        (b"\x00\x00\x0d\x01\x00\x00\x00\x01\x05\x00\x00\x00", "unsupported IDX value type 0x0d"),
        (b"\x00\x00\x08\x00", "0 dimensions"),
        (b"\x00\x00\x08\x03\x00\x00\x00\x02", "truncated IDX header"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x03\x01\x02", "truncated IDX data"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x01\x01\x02", "1 unexpected trailing bytes"),
    ],
)
def test_read_idx_rejects_malformed_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad-idx"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_read_idx_rejects_truncated_real_file(tmp_path: Path) -> None:
    raw = gzip.decompress((MNIST_DIR / "t10k-images-idx3-ubyte.gz").read_bytes())
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(raw[: len(raw) - 784])
    with pytest.raises(ValueError, match=r"truncated IDX data.*\(10000, 28, 28\)"):
        read_idx(path)


def test_read_idx_rejects_truncated_gzip(tmp_path: Path) -> None:
    packed = (MNIST_DIR / "t10k-labels-idx1-ubyte.gz").read_bytes()
    path = tmp_path / "labels.gz"
    path.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(ValueError, match="corrupted or truncated gzip") as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_read_idx_rejects_corrupted_gzip(tmp_path: Path) -> None:
    packed = bytearray((MNIST_DIR / "t10k-labels-idx1-ubyte.gz").read_bytes())
    packed[len(packed) // 2] ^= 0xFF
    path = tmp_path / "labels.gz"
    path.write_bytes(bytes(packed))
    with pytest.raises(ValueError, match="gzip"):
        read_idx(path)


def test_read_idx_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="IDX file not found"):
        read_idx(tmp_path / "absent.gz")


@pytest.mark.parametrize(
    "content", [b"not a zip at all", b"PK\x03\x04 truncated zip"], ids=["text", "truncated-zip"]
)
def test_load_mnist_rejects_unreadable_npz(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "mnist.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="not a readable .npz"):
        load_mnist(path)


def test_load_mnist_rejects_npz_missing_arrays(tmp_path: Path) -> None:
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=np.zeros((1, 28, 28), np.uint8))
    with pytest.raises(ValueError, match="expected the arrays"):
        load_mnist(path)


@given(
    array=hnp.arrays(np.uint8, hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=6)),
    compress=st.booleans(),
)
def test_read_idx_round_trips_any_array(array: np.ndarray, compress: bool) -> None:  # type: ignore[type-arg]
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = write_idx(Path(folder) / "data.idx", array, compress=compress)
        result = read_idx(path)
    assert result.shape == array.shape
    np.testing.assert_array_equal(result, array)


@given(content=st.binary(max_size=64))
def test_read_idx_on_arbitrary_bytes_returns_or_raises_value_error(content: bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz"
        path.write_bytes(content)
        try:
            result = read_idx(path)
        except ValueError as exc:
            assert str(path) in str(exc)
        else:
            assert result.dtype == np.uint8
            assert len(content) == 4 + 4 * result.ndim + result.size
