"""fit on a tf.data.Dataset, and on several devices at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tensorflow as tf
from conftest import MNIST_DIR, Split, run_python

from digitcnn import DigitClassifier

SETTINGS: dict[str, Any] = {"recipe": "fast", "epochs": 3, "seed": 0}


def test_fit_streams_a_dataset_from_disk(
    train_slice: Split, test_slice: Split, tmp_path: Path
) -> None:
    x, y = train_slice
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)

    def from_disk() -> Any:
        images = np.load(tmp_path / "x.npy", mmap_mode="r")  # read as it streams
        labels = np.load(tmp_path / "y.npy", mmap_mode="r")
        for i in range(len(images)):
            yield images[i], labels[i]

    spec = (tf.TensorSpec((28, 28), tf.uint8), tf.TensorSpec((), tf.uint8))
    dataset = tf.data.Dataset.from_generator(from_disk, output_signature=spec)
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(len(x)))
    validation = tf.data.Dataset.from_tensor_slices(test_slice)
    clf = DigitClassifier(**SETTINGS).fit(dataset, validation_data=validation)
    assert len(clf.history_["val_accuracy"]) == 3
    assert clf.score(*test_slice) > 0.85


@pytest.mark.parametrize(
    "layout", [lambda x: x, lambda x: x[..., None], lambda x: x.reshape(len(x), -1) / 255]
)
def test_fit_takes_every_image_layout_from_a_dataset(train_slice: Split, layout: Any) -> None:
    x, y = train_slice
    dataset = tf.data.Dataset.from_tensor_slices((layout(x[:256]), y[:256]))
    clf = DigitClassifier(recipe="fast", epochs=1, seed=0).fit(dataset)
    assert len(clf.history_["loss"]) == 1


def slices(images: Any, labels: Any) -> tf.data.Dataset:
    return tf.data.Dataset.from_tensor_slices((images, labels))


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda x, y: tf.data.Dataset.from_tensor_slices(x), TypeError, r"\(image, label\) pairs"),
        (lambda x, y: slices(x, y).batch(32), ValueError, "one image per element"),
        (lambda x, y: slices(x[:, :27], y), ValueError, r"got \(27, 28\)"),
        (lambda x, y: slices(x.astype(bool), y), TypeError, "integers or floats; got bool"),
        (lambda x, y: slices(x, y[:, None]), ValueError, "labels must be scalars"),
        (lambda x, y: slices(x, y).repeat(), ValueError, "known, finite number"),
        (lambda x, y: slices(x, y).filter(lambda a, b: True), ValueError, "assert_cardinality"),
        (lambda x, y: slices(x, y).take(0), ValueError, "it is empty"),
    ],
)
def test_fit_refuses_a_bad_dataset_before_training(
    train_slice: Split, make: Any, error: type[Exception], message: str
) -> None:
    x, y = train_slice
    with pytest.raises(error, match=message):
        DigitClassifier(**SETTINGS).fit(make(x[:64], y[:64]))


@pytest.mark.parametrize(
    ("images", "labels"),
    [
        (np.full((64, 28, 28), 300, np.int32), np.zeros(64, np.int64)),
        (np.full((64, 28, 28), np.nan, np.float32), np.zeros(64, np.int64)),
        (np.full((64, 28, 28), 2.0, np.float32), np.zeros(64, np.int64)),
        (np.zeros((64, 28, 28), np.uint8), np.full(64, 10, np.int64)),
        (np.zeros((64, 28, 28), np.uint8), np.full(64, 3.5, np.float32)),
    ],
    ids=["int-over-255", "nan", "float-over-1", "label-10", "label-3.5"],
)
def test_fit_refuses_bad_values_as_they_stream(images: Any, labels: Any) -> None:
    with pytest.raises(ValueError, match="the dataset holds an invalid element"):
        DigitClassifier(recipe="fast", epochs=1, seed=0).fit(slices(images, labels))


def test_fit_refuses_labels_beside_a_dataset(train_slice: Split) -> None:
    x, y = train_slice
    with pytest.raises(TypeError, match="y must be None when x is a tf.data.Dataset"):
        DigitClassifier(**SETTINGS).fit(slices(x[:64], y[:64]), y[:64])
    with pytest.raises(TypeError, match="y, the labels, is required"):
        DigitClassifier(**SETTINGS).fit(x[:64])


MIRRORED = """
import json, sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
devices = [tf.config.LogicalDeviceConfiguration()] * int(sys.argv[2])
tf.config.set_logical_device_configuration(cpu, devices)
from digitcnn import DigitClassifier, load_mnist
(x, y), (x_test, y_test) = load_mnist(sys.argv[1])
strategy = tf.distribute.MirroredStrategy([d.name for d in tf.config.list_logical_devices("CPU")])
with strategy.scope():
    clf = DigitClassifier(recipe="fast", epochs=3, seed=0).fit(x[:2000], y[:2000])
print(json.dumps({
    "replicas": strategy.num_replicas_in_sync,
    "mirrored": type(clf.model_.trainable_weights[0].value).__name__,
    "accuracy": clf.score(x_test[:500], y_test[:500]),
}))
"""


def train_mirrored(devices: int) -> dict[str, Any]:
    done = run_python("-c", MIRRORED, MNIST_DIR, devices)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = __import__("json").loads(done.stdout.splitlines()[-1])
    return result


def test_mirrored_training_on_two_devices_matches_one(
    train_slice: Split, test_slice: Split
) -> None:
    x, y = train_slice
    one = DigitClassifier(recipe="fast", epochs=3, seed=0).fit(x, y).score(*test_slice)
    two = train_mirrored(2)
    assert two["replicas"] == 2
    assert two["mirrored"] == "MirroredVariable"
    assert two["accuracy"] > 0.85
    assert abs(two["accuracy"] - one) < 0.05, (one, two)
