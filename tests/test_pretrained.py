from __future__ import annotations

import hashlib
import importlib.resources
import json
from pathlib import Path

import pytest
from conftest import Split, number, on_paper, run_python
from PIL import Image

from digitcnn import DigitClassifier

ROOT = Path(__file__).resolve().parents[1]
FOLDER = importlib.resources.files("digitcnn") / "pretrained"


@pytest.fixture(scope="module")
def pretrained() -> DigitClassifier:
    return DigitClassifier.pretrained()


def test_pretrained_model_is_small_and_documented() -> None:
    model = FOLDER / "mnist.keras"
    data = model.read_bytes()
    assert len(data) <= 2_000_000
    provenance = json.loads((FOLDER / "mnist.json").read_text())
    assert provenance["model_sha256"] == hashlib.sha256(data).hexdigest()
    assert provenance["command"].startswith("python examples/make_pretrained.py")
    assert provenance["recipe"]["name"] == "accurate"
    assert provenance["fine_tuning"]["name"] == "robust"
    assert provenance["fine_tuning"]["low_resolution"] > 0
    assert provenance["seed"] == 0
    assert provenance["test_metrics"]["accuracy"] >= 0.995
    sums = (ROOT / "data" / "mnist" / "SHA256SUMS").read_text().split()
    assert dict(zip(sums[1::2], sums[::2], strict=True)) == provenance["data"]["sha256"]


def test_pretrained_model_reads_mnist(pretrained: DigitClassifier, test_slice: Split) -> None:
    assert pretrained.score(*test_slice) >= 0.99
    assert pretrained.recipe_.name == "robust"  # the fine-tuning's
    assert pretrained.get_params()["warm_start"]


def test_pretrained_model_reads_digits_on_paper(
    pretrained: DigitClassifier, test_slice: Split
) -> None:
    x, y = test_slice
    pictures = [Image.fromarray(on_paper(x[i], scale=2 + i % 4)).convert("RGB") for i in range(30)]
    assert (pretrained.predict_images(pictures) == y[:30]).mean() >= 0.95


def test_pretrained_model_reads_a_number(pretrained: DigitClassifier, test_slice: Split) -> None:
    x, y = test_slice
    assert pretrained.read_digits(number([x[i] for i in range(4)])).text == "".join(
        str(d) for d in y[:4]
    )


def test_read_images_example_runs(test_slice: Split, tmp_path: Path) -> None:
    x, y = test_slice
    Image.fromarray(on_paper(x[0])).save(tmp_path / "a.png")
    Image.fromarray(on_paper(x[1])).convert("RGB").save(tmp_path / "b.jpg")
    (tmp_path / "c.png").write_bytes(b"broken")
    result = run_python(ROOT / "examples" / "read_images.py", tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{tmp_path / 'a.png'} ok {y[0]} ")
    assert lines[1].startswith(f"{tmp_path / 'b.jpg'} ok {y[1]} ")
    assert lines[2].startswith(f"{tmp_path / 'c.png'} error -1 nan ")
