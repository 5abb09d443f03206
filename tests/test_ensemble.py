"""Ensembles, test-time augmentation, distillation and low-resolution training."""

from __future__ import annotations

import dataclasses
import json
import signal
import zipfile
from pathlib import Path
from typing import Any

import httpx
import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import MNIST_DIR, Split, number, on_paper, run_python, serving
from PIL import Image

from digitcnn import RECIPES, DigitClassifier, NotFittedError, TFLiteClassifier, create_app
from digitcnn._cli import main
from digitcnn._training.low_resolution import low_resolution_copies
from digitcnn._training.networks import build_model, distillation_network, ensemble_members
from digitcnn._training.recipes import recipe_from_dict

FAST: dict[str, Any] = {"recipe": "fast", "epochs": 2}


@pytest.fixture(scope="module")
def ensemble(train_slice: Split) -> DigitClassifier:
    return DigitClassifier(**FAST, n_models=2, seed=0).fit(*train_slice)


@pytest.fixture(scope="module")
def twin() -> DigitClassifier:
    """The pretrained network twice: an ensemble that must read exactly as the network does."""
    pretrained = DigitClassifier.pretrained()
    return DigitClassifier.from_members([pretrained, pretrained])


def forward(network: keras.Model, images: np.ndarray) -> np.ndarray:
    return np.asarray(network(images.astype(np.float32)[..., None] / 255, training=False))


def test_fit_with_n_models_averages_its_members_in_one_network(
    ensemble: DigitClassifier, test_slice: Split
) -> None:
    x, y = test_slice
    members = ensemble_members(ensemble.model_)
    assert len(members) == 2
    alone = [forward(member, x) for member in members]
    assert not np.allclose(alone[0], alone[1], atol=1e-3)  # different seeds, different networks
    np.testing.assert_allclose(ensemble.predict_proba(x), np.mean(alone, axis=0), atol=1e-6)
    assert ensemble.score(x, y) > 0.75
    assert set(ensemble.history_) == {"loss", "accuracy"}
    assert "rotate" not in [layer.name for layer in members[0].layers]  # training-only layers


def test_from_members_gives_the_ensemble_that_fit_trains(
    ensemble: DigitClassifier, train_slice: Split, test_slice: Split
) -> None:
    singles = [DigitClassifier(**FAST, seed=seed).fit(*train_slice) for seed in (0, 1)]
    combined = DigitClassifier.from_members(singles)
    assert combined.get_params() == {**singles[0].get_params(), "n_models": 2}
    x = test_slice[0]
    np.testing.assert_allclose(combined.predict_proba(x), ensemble.predict_proba(x), atol=1e-6)
    nested = DigitClassifier.from_members([ensemble, singles[0]])
    assert nested.n_models == len(ensemble_members(nested.model_)) == 3  # one vote per network


def test_an_ensemble_saves_to_one_file_and_loads_unchanged(
    ensemble: DigitClassifier, test_slice: Split, tmp_path: Path
) -> None:
    path = tmp_path / "ensemble.keras"
    ensemble.save(path)
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == [
            "config.json",
            "digitcnn.json",
            "metadata.json",
            "model.weights.h5",
        ]
    loaded = DigitClassifier.load(path)
    assert loaded.n_models == 2
    x = test_slice[0]
    np.testing.assert_array_equal(loaded.predict_proba(x), ensemble.predict_proba(x))
    plain = keras.saving.load_model(path, compile=False)  # any Keras opens it, without digitcnn
    np.testing.assert_allclose(forward(plain, x), ensemble.predict_proba(x), atol=1e-6)


def test_every_entry_point_reads_with_an_ensemble(
    twin: DigitClassifier, test_slice: Split, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pretrained = DigitClassifier.pretrained()
    x = test_slice[0]
    photos = [on_paper(digit) for digit in x[:20]]
    np.testing.assert_array_equal(twin.predict_images(photos), pretrained.predict_images(photos))
    picture = number([x[0], x[1], x[2]])
    assert twin.read_digits(picture).text == pretrained.read_digits(picture).text

    path = tmp_path / "twin.keras"
    twin.save(path)
    lite = TFLiteClassifier(twin.export(tmp_path / "twin.tflite", format="tflite"))
    np.testing.assert_allclose(lite.predict_proba(x), twin.predict_proba(x), atol=1e-4)

    Image.fromarray(photos[0]).save(tmp_path / "photo.png")
    assert main(["predict", str(tmp_path / "photo.png"), "--model", str(path), "--json"]) == 0
    [result] = json.loads(capsys.readouterr().out)
    assert result["label"] == pretrained.predict_images(photos[:1])[0]


def test_the_server_reads_with_an_ensemble(
    twin: DigitClassifier, test_slice: Split, tmp_path: Path
) -> None:
    path = tmp_path / "twin.keras"
    twin.save(path)
    Image.fromarray(on_paper(test_slice[0][0])).save(tmp_path / "photo.png")
    with serving(create_app(model=path)) as url:
        upload = {"files": (tmp_path / "photo.png").read_bytes()}
        answer = httpx.post(f"{url}/api/v1/digits", files=upload)
    assert answer.status_code == 200
    expected = DigitClassifier.pretrained().predict_images([tmp_path / "photo.png"])[0]
    assert answer.json()["results"][0]["label"] == expected


def test_the_command_line_trains_an_ensemble(
    tmp_path: Path, small_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "ensemble.keras"
    argv = ["train", "--data", str(small_data), "--recipe", "fast", "--epochs", "1", "--quiet"]
    assert main([*argv, "--n-models", "2", "--output", str(output)]) == 0  # 1 epoch: a smoke test
    assert DigitClassifier.load(output).n_models == 2
    with pytest.raises(SystemExit):
        main([*argv, "--n-models", "0"])
    assert "n_models must be" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("n_models", "error"),
    [(0, ValueError), (21, ValueError), (2.5, TypeError), ("2", TypeError), (True, TypeError)],
)
def test_n_models_is_checked_by_fit(
    n_models: object, error: type[Exception], train_slice: Split
) -> None:
    with pytest.raises(error, match="n_models"):
        DigitClassifier(n_models=n_models).fit(*train_slice)  # type: ignore[arg-type]


def test_from_members_needs_two_fitted_members(ensemble: DigitClassifier) -> None:
    with pytest.raises(TypeError, match="at least two"):
        DigitClassifier.from_members([ensemble])
    with pytest.raises(TypeError, match="at least two"):
        DigitClassifier.from_members([ensemble, "model"])  # type: ignore[list-item]
    with pytest.raises(NotFittedError):
        DigitClassifier.from_members([ensemble, DigitClassifier()])


def test_members_of_several_recipes_join_and_save_as_one_network(
    ensemble: DigitClassifier, twin: DigitClassifier, test_slice: Split, tmp_path: Path
) -> None:
    mixed = DigitClassifier.from_members([ensemble, twin])  # "fast" networks and the default's
    assert (mixed.n_models, mixed.recipe_) == (4, ensemble.recipe_)
    x = test_slice[0]
    both = (ensemble.predict_proba(x) + twin.predict_proba(x)) / 2  # two votes each
    np.testing.assert_allclose(mixed.predict_proba(x), both, atol=1e-6)
    mixed.save(tmp_path / "mixed.keras")
    loaded = DigitClassifier.load(tmp_path / "mixed.keras")
    np.testing.assert_allclose(loaded.predict_proba(x), both, atol=1e-6)


KILLED_IN_THE_SECOND_MEMBER = f"""
import os, signal, sys
import keras
from digitcnn import DigitClassifier, load_mnist

class Kill(keras.callbacks.Callback):
    trainings = 0
    def on_train_begin(self, logs=None):
        Kill.trainings += 1
    def on_epoch_end(self, epoch, logs=None):
        if Kill.trainings == 2:
            os.kill(os.getpid(), signal.SIGKILL)

(x, y), _ = load_mnist(sys.argv[1])
DigitClassifier(**{FAST!r}, n_models=2, seed=0).fit(
    x[:1000], y[:1000], checkpoint_dir=sys.argv[2], callbacks=[Kill()]
)
"""


class Trainings(keras.callbacks.Callback):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.epochs: list[int] = []

    def on_epoch_begin(self, epoch: int, logs: object = None) -> None:
        self.epochs.append(epoch)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_a_killed_ensemble_resumes_with_the_member_it_was_training(
    train_slice: Split, tmp_path: Path
) -> None:
    folder = tmp_path / "checkpoint"
    child = run_python("-c", KILLED_IN_THE_SECOND_MEMBER, MNIST_DIR, folder)
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert (folder / "member-0.keras").is_file()
    run = Trainings()
    x, y = train_slice
    clf = DigitClassifier(**FAST, n_models=2, seed=0)
    clf.fit(x[:1000], y[:1000], checkpoint_dir=folder, callbacks=[run])
    assert run.epochs == [1]  # member 1's second epoch; member 0 was kept, not trained again
    assert len(ensemble_members(clf.model_)) == 2
    assert len(clf.history_["loss"]) == 2
    assert not folder.exists()


def shifted_views(images: np.ndarray) -> list[np.ndarray]:
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    return [padded[:, 1 + dy : 29 + dy, 1 + dx : 29 + dx] for dy in (-1, 0, 1) for dx in (-1, 0, 1)]


def test_tta_averages_the_nine_one_pixel_shifts(
    fitted: DigitClassifier, test_slice: Split, tmp_path: Path
) -> None:
    x = test_slice[0][:50]
    views = np.mean([forward(fitted.model_, view) for view in shifted_views(x)], axis=0)
    augmented = DigitClassifier.load(_saved(fitted, tmp_path)).set_params(tta=True)
    np.testing.assert_allclose(augmented.predict_proba(x), views, atol=1e-5)
    assert not np.allclose(views, fitted.predict_proba(x), atol=1e-4)
    augmented.save(tmp_path / "tta.keras")
    assert DigitClassifier.load(tmp_path / "tta.keras").tta is True  # a saved setting
    with pytest.raises(TypeError, match="tta must be"):
        augmented.set_params(tta="yes").predict(x)


def _saved(clf: DigitClassifier, folder: Path) -> Path:
    clf.save(folder / "model.keras")
    return folder / "model.keras"


def test_the_command_line_evaluates_with_tta(
    fitted: DigitClassifier,
    small_data: Path,
    test_slice: Split,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = _saved(fitted, tmp_path)
    assert main(["evaluate", str(path), "--data", str(small_data), "--tta"]) == 0
    expected = fitted.set_params(tta=True).score(*test_slice)
    fitted.set_params(tta=False)
    assert capsys.readouterr().out.startswith(f"accuracy {expected:.4f}")


def test_a_student_learns_from_its_teacher(
    ensemble: DigitClassifier, train_slice: Split, test_slice: Split
) -> None:
    x, y = train_slice
    student = DigitClassifier(**FAST, seed=0).fit(
        x, y, teacher=ensemble, validation_data=test_slice
    )
    assert set(student.history_) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert student.score(*test_slice) > 0.75
    assert student.predict_proba(test_slice[0]).shape == (len(test_slice[0]), 10)


def test_a_teacher_must_be_a_fitted_classifier(
    ensemble: DigitClassifier, train_slice: Split
) -> None:
    x, y = train_slice
    with pytest.raises(TypeError, match="teacher must be a fitted DigitClassifier"):
        DigitClassifier(**FAST).fit(x, y, teacher="ensemble")  # type: ignore[arg-type]
    with pytest.raises(NotFittedError):
        DigitClassifier(**FAST).fit(x, y, teacher=DigitClassifier())


def test_the_teacher_reads_the_images_the_student_sees(ensemble: DigitClassifier) -> None:
    student = build_model("small", augment=False)
    network = distillation_network(student, ensemble.model_, augment=True)
    images = np.random.default_rng(0).random((8, 28, 28, 1), dtype=np.float32)
    frozen = network.get_layer("teacher")
    assert not frozen.trainable
    assert [w.shape for w in frozen.weights] == [w.shape for w in ensemble.model_.weights]
    seen = network(images, training=False)  # no augmentation: both read the images as given
    np.testing.assert_allclose(seen[:, 10:], ensemble.model_(images, training=False), atol=1e-6)
    augmented = np.asarray(network(images, training=True))
    assert not np.allclose(augmented[:, 10:], seen[:, 10:], atol=1e-3)  # saw augmented images
    np.testing.assert_allclose(augmented[:, 10:].sum(axis=1), 1, atol=1e-5)
    plain = distillation_network(
        build_model("small", augment=False), ensemble.model_, augment=False
    )
    in_training = plain(images, training=True)  # the teacher stays in inference mode (no dropout)
    np.testing.assert_allclose(
        in_training[:, 10:], ensemble.model_(images, training=False), atol=1e-6
    )


def test_low_resolution_copies_are_what_to_mnist_makes_of_a_low_resolution_scan(
    test_slice: Split,
) -> None:
    x, y = test_slice
    images = x[:200, ..., None].astype(np.float32) / 255
    more, targets = low_resolution_copies(images, y[:200], 0.25, seed=0)
    assert more.shape == (250, 28, 28, 1)
    assert more.dtype == np.float32
    np.testing.assert_array_equal(more[:200], images)
    copies = more[200:, :, :, 0]
    assert copies.min() >= 0
    assert copies.max() <= 1
    assert not any(np.array_equal(copy, image[:, :, 0]) for copy in copies for image in images)
    pretrained = DigitClassifier.pretrained()
    assert (pretrained.predict(more[:200]) == targets[:200]).mean() > 0.95
    assert (pretrained.predict(copies) == targets[200:]).mean() > 0.5  # hard, but digits still
    again, _ = low_resolution_copies(images, y[:200], 0.25, seed=None)
    np.testing.assert_array_equal(again, low_resolution_copies(images, y[:200], 0.25, seed=0)[0])


def test_the_robust_recipe_needs_arrays(train_slice: Split) -> None:
    dataset = tf.data.Dataset.from_tensor_slices(train_slice)
    with pytest.raises(TypeError, match="low_resolution needs x as arrays"):
        DigitClassifier(recipe="robust", epochs=1).fit(dataset)


def test_the_robust_recipe_trains_at_low_resolution_and_old_files_still_load() -> None:
    robust = RECIPES["robust"]
    assert robust.low_resolution == 0.25
    assert dataclasses.replace(robust, name="accurate", summary="", low_resolution=0.0) == (
        dataclasses.replace(RECIPES["accurate"], summary="")
    )
    saved = dataclasses.asdict(RECIPES["accurate"])
    del saved["low_resolution"]  # as files saved before the field was added
    assert recipe_from_dict(saved) == RECIPES["accurate"]
