"""A process killed while saving never leaves a broken model file behind.

A child process saves two different models over the same file, one after the
other, again and again; the test kills it (SIGKILL) at a random moment and
checks that the file is then one of the two, complete and loadable — never a
mix or a fragment. Set
``DIGITCNN_KILL_TRIALS`` for a longer run (the default keeps the suite fast).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import Split

from digitcnn import DigitClassifier

TRIALS = int(os.environ.get("DIGITCNN_KILL_TRIALS", "3"))

SAVER = """
import sys
from digitcnn import DigitClassifier
models = [DigitClassifier.load(sys.argv[1]), DigitClassifier.load(sys.argv[2])]
print("ready", flush=True)
while True:
    for clf in models:
        clf.save(sys.argv[3])
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_killing_a_save_leaves_the_old_or_the_new_model(
    fitted: DigitClassifier, train_slice: Split, test_slice: Split, tmp_path: Path
) -> None:
    x, y = train_slice
    old = fitted
    new = DigitClassifier(recipe="fast", epochs=1, seed=1).fit(x[:500], y[:500])
    old_file, new_file = tmp_path / "old.keras", tmp_path / "new.keras"
    old.save(old_file)
    new.save(new_file)
    images = test_slice[0][:50]
    expected = {"old": old.predict_proba(images), "new": new.predict_proba(images)}
    assert not np.array_equal(expected["old"], expected["new"])

    target = tmp_path / "model.keras"
    outcomes = []
    mid_write = 0
    rng = random.Random(0)
    for _ in range(TRIALS):
        shutil.copyfile(old_file, target)
        child = subprocess.Popen(
            [sys.executable, "-c", SAVER, str(new_file), str(old_file), str(target)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 1.5))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        staging = list(tmp_path.glob(".model.keras.*"))  # left by a kill during a write
        mid_write += bool(staging)
        for folder in staging:
            shutil.rmtree(folder)
        proba = DigitClassifier.load(target).predict_proba(images)
        found = [name for name, p in expected.items() if np.array_equal(p, proba)]
        assert len(found) == 1, "the file after the kill is neither the old nor the new model"
        outcomes.append(found[0])
    print(
        f"{TRIALS} kills during saving, {mid_write} of them in the middle of a write: "
        f"the file was then the old model {outcomes.count('old')} times and the new one "
        f"{outcomes.count('new')} times, never anything else"
    )
    assert sorted(p.name for p in tmp_path.glob("*.keras")) == [
        "model.keras",
        "new.keras",
        "old.keras",
    ]
