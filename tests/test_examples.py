from __future__ import annotations

import os
from pathlib import Path

from conftest import run_python
from PIL import Image

from digitcnn import DigitClassifier

ROOT = Path(__file__).resolve().parents[1]


def test_train_mnist_example_runs_end_to_end(tmp_path: Path) -> None:
    output = tmp_path / "mnist.keras"
    result = run_python(
        ROOT / "examples" / "train_mnist.py",
        "--recipe=fast",
        "--epochs=1",
        "--limit=2000",
        f"--output={output}",
    )
    assert result.returncode == 0, result.stderr
    assert "test accuracy:" in result.stdout
    assert "reloaded predictions identical: True" in result.stdout
    assert result.stdout.count("predicted ") == 5
    saved = DigitClassifier.load(output)
    assert (saved.recipe, saved.epochs) == ("fast", 1)


def run_example(name: str, *args: str, cwd: Path) -> str:
    result = run_python(
        ROOT / "examples" / name, *args, cwd=cwd, env={**os.environ, "MPLBACKEND": "Agg"}
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_plot_results_example_writes_three_pngs(tmp_path: Path) -> None:
    out = run_example("plot_results.py", "--limit=500", cwd=tmp_path)
    names = ["history.png", "confusion.png", "misclassified.png"]
    assert out.splitlines() == [f"wrote plots/{name}" for name in names]
    for name in names:
        assert Image.open(tmp_path / "plots" / name).format == "PNG"


def test_export_model_example_checks_its_exports(tmp_path: Path) -> None:
    out = run_example("export_model.py", "--limit=500", cwd=tmp_path)
    lines = out.splitlines()
    assert lines[0] == "SavedModel written to exports/savedmodel"
    assert lines[2].startswith("TFLite float32: ")
    assert "agrees with Keras on 100.00%" in lines[2]
    assert lines[3].startswith("TFLite int8: ")
    assert (tmp_path / "exports" / "savedmodel" / "saved_model.pb").is_file()
