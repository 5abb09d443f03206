from __future__ import annotations

import dataclasses
import json
import zipfile
from pathlib import Path
from types import MappingProxyType

import keras
import numpy as np
import pytest
from conftest import Split

import digitcnn
from digitcnn import RECIPES, DigitClassifier, NotFittedError
from digitcnn._io.model_file import METADATA_MEMBER
from digitcnn._training import recipes


@pytest.fixture(scope="module")
def saved(fitted: DigitClassifier, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("models") / "mnist.keras"
    fitted.save(path)
    return path


def rewrite_metadata(source: Path, target: Path, **changes: object) -> None:
    """Copy the archive at ``source`` to ``target`` with its digitcnn metadata changed."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for item in old.infolist():
            data = old.read(item.filename)
            if item.filename == METADATA_MEMBER:
                data = json.dumps(json.loads(data) | changes).encode()
            new.writestr(item, data)


def test_round_trip_gives_bit_identical_predictions(
    fitted: DigitClassifier, saved: Path, test_slice: Split
) -> None:
    x, _ = test_slice
    same = DigitClassifier.load(saved)
    np.testing.assert_array_equal(same.predict_proba(x), fitted.predict_proba(x))
    assert same.get_params() == fitted.get_params()
    assert same.history_ == fitted.history_
    np.testing.assert_array_equal(same.classes_, np.arange(10))


def test_load_accepts_str_paths(saved: Path) -> None:
    assert isinstance(DigitClassifier.load(str(saved)), DigitClassifier)


def test_file_carries_digitcnn_metadata(fitted: DigitClassifier, saved: Path) -> None:
    with zipfile.ZipFile(saved) as archive:
        metadata = json.loads(archive.read(METADATA_MEMBER))
    assert metadata["digitcnn_version"] == digitcnn.__version__
    assert metadata["keras_version"] == keras.__version__
    assert metadata["params"] == fitted.get_params()
    assert metadata["preprocessing"]["input_shape"] == [28, 28, 1]
    assert metadata["preprocessing"]["integer_images_divided_by"] == 255
    assert metadata["final_metrics"]["accuracy"] == fitted.history_["accuracy"][-1]


def test_file_holds_the_network_without_optimizer_state(
    fitted: DigitClassifier, saved: Path
) -> None:
    with zipfile.ZipFile(saved) as archive:
        weights = archive.getinfo("model.weights.h5").file_size
    # float32 weights plus HDF5 overhead; Adam's two moments would triple it
    assert weights < 1.3 * 4 * fitted.model_.count_params()


def test_file_opens_as_a_plain_keras_model(
    saved: Path, fitted: DigitClassifier, test_slice: Split
) -> None:
    model = keras.saving.load_model(saved, compile=False)
    x = digitcnn.preprocess_images(test_slice[0][:10])
    np.testing.assert_array_equal(np.asarray(model(x, training=False)), fitted.predict_proba(x))


def test_save_replaces_an_existing_file_and_leaves_no_temporary(
    fitted: DigitClassifier, tmp_path: Path
) -> None:
    path = tmp_path / "model.keras"
    path.write_bytes(b"old content")
    fitted.save(path)
    assert zipfile.is_zipfile(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.keras"]


def test_failed_save_keeps_the_old_file(
    fitted: DigitClassifier, saved: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "model.keras"
    path.write_bytes(saved.read_bytes())
    before = path.read_bytes()

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(keras.Model, "save", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        fitted.save(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.keras"]


@pytest.mark.parametrize(
    ("name", "error", "message"),
    [
        ("model.h5", ValueError, "must end in '.keras'"),
        ("missing-folder/model.keras", FileNotFoundError, "does not exist"),
    ],
)
def test_save_rejects_bad_paths(
    fitted: DigitClassifier, tmp_path: Path, name: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        fitted.save(tmp_path / name)


def test_save_unfitted_raises(tmp_path: Path) -> None:
    with pytest.raises(NotFittedError):
        DigitClassifier().save(tmp_path / "m.keras")


def test_load_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="model file not found"):
        DigitClassifier.load(tmp_path / "absent.keras")


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "not a .keras \\(zip\\) archive"), (b"hello", "not a .keras \\(zip\\) archive")],
    ids=["empty", "text"],
)
def test_load_rejects_files_that_are_not_archives(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "bad.keras"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        DigitClassifier.load(path)


def test_load_rejects_a_plain_keras_model(fitted: DigitClassifier, tmp_path: Path) -> None:
    path = tmp_path / "plain.keras"
    fitted.model_.save(path)
    with pytest.raises(ValueError, match="not a digitcnn model: it has no digitcnn.json"):
        DigitClassifier.load(path)


def test_load_rejects_a_truncated_file(saved: Path, tmp_path: Path) -> None:
    path = tmp_path / "truncated.keras"
    path.write_bytes(saved.read_bytes()[: saved.stat().st_size // 2])
    with pytest.raises(ValueError, match="not a .keras|corrupted"):
        DigitClassifier.load(path)


def test_load_rejects_corrupted_bytes(saved: Path, tmp_path: Path) -> None:
    data = bytearray(saved.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(64)
    path = tmp_path / "corrupted.keras"
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="corrupted"):
        DigitClassifier.load(path)


def test_load_rejects_another_format_version(saved: Path, tmp_path: Path) -> None:
    path = tmp_path / "future.keras"
    rewrite_metadata(saved, path, format_version=99, digitcnn_version="9.0.0")
    with pytest.raises(ValueError, match="format version 99, written by digitcnn 9.0.0"):
        DigitClassifier.load(path)


def test_load_rejects_foreign_metadata(saved: Path, tmp_path: Path) -> None:
    path = tmp_path / "foreign.keras"
    rewrite_metadata(saved, path, format="something-else")
    with pytest.raises(ValueError, match="unknown metadata format"):
        DigitClassifier.load(path)


def test_load_rejects_unknown_hyperparameters(saved: Path, tmp_path: Path) -> None:
    path = tmp_path / "params.keras"
    rewrite_metadata(saved, path, params={"epochs": 1, "wings": 2})
    with pytest.raises(ValueError, match="wings"):
        DigitClassifier.load(path)


def test_files_saved_before_warm_start_existed_load_without_it(
    fitted: DigitClassifier, saved: Path, tmp_path: Path
) -> None:
    path = tmp_path / "old.keras"
    params = {k: v for k, v in fitted.get_params().items() if k != "warm_start"}
    rewrite_metadata(saved, path, params=params)
    assert DigitClassifier.load(path).get_params() == fitted.get_params() | {"warm_start": False}


def test_load_restores_the_saved_recipe_not_todays(
    fitted: DigitClassifier, saved: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    retuned = dataclasses.replace(RECIPES["accurate"], epochs=99, summary="retuned since")
    monkeypatch.setattr(recipes, "RECIPES", MappingProxyType({**RECIPES, "accurate": retuned}))
    assert recipes.resolve_recipe("accurate").summary == "retuned since"  # today's "accurate"
    loaded = DigitClassifier.load(saved)
    assert loaded.recipe_ == fitted.recipe_
    assert loaded.recipe_.summary == RECIPES["accurate"].summary


@pytest.mark.parametrize(
    ("recipe", "message"),
    [
        ({"name": "accurate"}, "a recipe must have the fields"),
        (None, "a recipe must have the fields"),
        ("changes", "epochs must be at least 1; got 0"),
    ],
)
def test_load_rejects_an_invalid_saved_recipe(
    saved: Path, tmp_path: Path, recipe: object, message: str
) -> None:
    if recipe == "changes":
        with zipfile.ZipFile(saved) as archive:
            recipe = {**json.loads(archive.read(METADATA_MEMBER))["recipe"], "epochs": 0}
    path = tmp_path / "recipe.keras"
    rewrite_metadata(saved, path, recipe=recipe)
    with pytest.raises(ValueError, match=f"{path} has invalid metadata: {message}"):
        DigitClassifier.load(path)


def test_load_rejects_wrong_suffix(saved: Path, tmp_path: Path) -> None:
    path = tmp_path / "model.zip"
    path.write_bytes(saved.read_bytes())
    with pytest.raises(ValueError, match="must end in '.keras'"):
        DigitClassifier.load(path)


def with_metadata_of(saved: Path, model: keras.Model, target: Path) -> Path:
    """Save ``model`` to ``target`` with the digitcnn metadata of the file at ``saved``."""
    model.save(target)
    with zipfile.ZipFile(saved) as source, zipfile.ZipFile(target, "a") as archive:
        archive.writestr(METADATA_MEMBER, source.read(METADATA_MEMBER))
    return target


def test_load_never_runs_code_from_a_lambda_layer(saved: Path, tmp_path: Path) -> None:
    marker = tmp_path / "code-ran"
    inputs = keras.Input((28, 28, 1))
    # The path is a constant inside the code, so that the bytecode carries it.
    touch = eval(f"lambda x: (__import__('pathlib').Path({str(marker)!r}).touch(), x)[1]")
    hidden = keras.layers.Lambda(touch)(inputs)
    outputs = keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(hidden))
    model = keras.Model(inputs, outputs)
    path = with_metadata_of(saved, model, tmp_path / "lambda.keras")
    marker.unlink(missing_ok=True)  # building the model above ran the lambda once
    with pytest.raises(ValueError, match="safe_mode"):
        DigitClassifier.load(path)
    assert not marker.exists()


def test_load_rejects_a_network_of_the_wrong_shape(saved: Path, tmp_path: Path) -> None:
    inputs = keras.Input((28, 28, 1))
    outputs = keras.layers.Dense(3, activation="softmax")(keras.layers.Flatten()(inputs))
    path = with_metadata_of(saved, keras.Model(inputs, outputs), tmp_path / "three.keras")
    with pytest.raises(ValueError, match=r"maps \(None, 28, 28, 1\) to \(None, 3\)"):
        DigitClassifier.load(path)


def test_load_rejects_a_zip_that_is_not_a_keras_model(saved: Path, tmp_path: Path) -> None:
    path = tmp_path / "metadata-only.keras"
    with zipfile.ZipFile(saved) as source, zipfile.ZipFile(path, "w") as archive:
        archive.writestr(METADATA_MEMBER, source.read(METADATA_MEMBER))
        archive.writestr("notes.txt", "not a model")
    with pytest.raises(ValueError, match="corrupted or not loadable"):
        DigitClassifier.load(path)
