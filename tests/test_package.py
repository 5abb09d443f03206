"""The package as a whole: its public names, what importing it does, the backend it needs."""

from __future__ import annotations

import inspect
import os
from pathlib import Path

import pytest
from conftest import run_python

import digitcnn


def test_public_names_are_listed_and_shown_as_digitcnn() -> None:
    assert sorted(digitcnn.__all__) == sorted([*digitcnn._HOMES, "__version__"])
    for name in digitcnn.__all__:
        value = getattr(digitcnn, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert value.__module__ == "digitcnn", name
    with pytest.raises(AttributeError, match="has no attribute 'DigitClassfier'"):
        digitcnn.DigitClassfier  # noqa: B018


def test_importing_digitcnn_leaves_the_environment_and_tensorflow_alone() -> None:
    script = (
        "import os, sys; import digitcnn; print('tensorflow' in sys.modules); "
        "digitcnn.DigitClassifier; print(os.environ.get('TF_CPP_MIN_LOG_LEVEL'))"
    )
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = run_python("-c", script, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "None"]


def test_the_parts_without_tensorflow_load_none() -> None:
    script = (
        "import sys; from digitcnn import TFLiteClassifier, load_mnist, to_mnist, IMAGE_SIZE; "
        "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))"
    )
    result = run_python("-c", script, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_another_keras_backend_is_refused_at_import(backend: str) -> None:
    env = {**os.environ, "KERAS_BACKEND": backend}
    result = run_python("-c", "import digitcnn", env=env, timeout=120)
    assert result.returncode == 1
    assert "ImportError: digitcnn needs Keras on the TensorFlow backend" in result.stderr
    assert f"but Keras is set to '{backend}'" in result.stderr


def test_a_keras_config_file_naming_another_backend_is_refused(tmp_path: Path) -> None:
    (tmp_path / "keras.json").write_text('{"backend": "numpy"}')
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    env["KERAS_HOME"] = str(tmp_path)
    result = run_python("-c", "from digitcnn import DigitClassifier", env=env, timeout=120)
    assert result.returncode == 1
    assert "ImportError: digitcnn needs Keras on the TensorFlow backend" in result.stderr
    assert "keras.json" in result.stderr
