from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from digitcnn import DigitClassifier

ROOT = Path(__file__).resolve().parents[1]


def test_train_mnist_example_runs_end_to_end(tmp_path: Path) -> None:
    output = tmp_path / "mnist.keras"
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "examples" / "train_mnist.py"),
            "--recipe=fast",
            "--epochs=1",
            "--limit=2000",
            f"--output={output}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "test accuracy:" in result.stdout
    assert "reloaded predictions identical: True" in result.stdout
    assert result.stdout.count("predicted ") == 5
    saved = DigitClassifier.load(output)
    assert (saved.recipe, saved.epochs) == ("fast", 1)
