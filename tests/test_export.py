from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from conftest import Split

from digitcnn import DigitClassifier, NotFittedError, TFLiteClassifier, preprocess_images


@pytest.fixture(scope="module")
def exports(
    fitted: DigitClassifier, train_slice: Split, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("exports")
    return {
        "savedmodel": fitted.export(folder / "saved"),
        "float": fitted.export(folder / "digits.tflite", format="tflite"),
        "int8": fitted.export(
            folder / "digits-int8.tflite",
            format="tflite",
            quantize="int8",
            representative_images=train_slice[0][:200],
        ),
    }


def test_savedmodel_serves_the_same_probabilities(
    exports: dict[str, Path], fitted: DigitClassifier, test_slice: Split
) -> None:
    images = preprocess_images(test_slice[0][:50])
    loaded = tf.saved_model.load(str(exports["savedmodel"]))  # keep it alive while serving
    served = loaded.serve(images)
    np.testing.assert_allclose(np.asarray(served), fitted.predict_proba(images), atol=1e-5)


def test_float_tflite_agrees_with_keras(
    exports: dict[str, Path], fitted: DigitClassifier, test_slice: Split
) -> None:
    x, _ = test_slice
    lite = TFLiteClassifier(exports["float"])
    np.testing.assert_allclose(lite.predict_proba(x), fitted.predict_proba(x), atol=1e-4)
    np.testing.assert_array_equal(lite.predict(x), fitted.predict(x))
    np.testing.assert_array_equal(lite.classes_, fitted.classes_)
    assert lite.__sklearn_is_fitted__()
    assert lite.score(x, test_slice[1]) == fitted.score(x, test_slice[1])


def test_int8_tflite_is_small_and_close(
    exports: dict[str, Path], fitted: DigitClassifier, test_slice: Split
) -> None:
    x, _ = test_slice
    assert exports["int8"].stat().st_size * 3 <= exports["float"].stat().st_size
    lite = TFLiteClassifier(exports["int8"])
    proba = lite.predict_proba(x)
    assert proba.shape == (len(x), 10)
    assert (lite.predict(x) == fitted.predict(x)).mean() >= 0.97


def test_export_replaces_an_existing_savedmodel(fitted: DigitClassifier, tmp_path: Path) -> None:
    target = tmp_path / "saved"
    target.mkdir()
    (target / "stale.txt").write_text("old export")
    fitted.export(target)
    assert not (target / "stale.txt").exists()
    assert (target / "saved_model.pb").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["saved"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"format": "onnx"}, "format must be one of"),
        ({"format": "tflite", "quantize": "int4"}, "quantize must be one of \\[None, 'int8'\\]"),
        ({"format": "savedmodel", "quantize": "int8"}, "applies to format='tflite' only"),
        ({"format": "tflite", "quantize": "int8"}, "needs representative_images"),
    ],
)
def test_export_rejects_bad_options(
    fitted: DigitClassifier, tmp_path: Path, kwargs: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        fitted.export(tmp_path / "out", **kwargs)  # type: ignore[arg-type]


def test_export_needs_an_existing_folder_and_a_fitted_model(
    fitted: DigitClassifier, tmp_path: Path
) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        fitted.export(tmp_path / "missing" / "saved")
    with pytest.raises(NotFittedError):
        DigitClassifier().export(tmp_path / "saved")


def test_tflite_loader_rejects_bad_files(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        TFLiteClassifier(tmp_path / "absent.tflite")
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"not a flatbuffer")
    with pytest.raises(ValueError, match="not a readable TensorFlow Lite model"):
        TFLiteClassifier(bad)
