"""The same seed and data give bit-identical weights and predictions, in any process."""

from __future__ import annotations

import numpy as np
from conftest import MNIST_DIR, Split, run_python

from digitcnn import DigitClassifier

TRAIN = """
import hashlib, sys
import numpy as np
from digitcnn import DigitClassifier, load_mnist
(x, y), (x_test, _) = load_mnist(sys.argv[1])
clf = DigitClassifier(epochs=1, seed=int(sys.argv[2])).fit(x[:1000], y[:1000])
weights = b"".join(np.asarray(w).tobytes() for w in clf.model_.get_weights())
proba = clf.predict_proba(x_test[:500]).tobytes()
print(hashlib.sha256(weights).hexdigest(), hashlib.sha256(proba).hexdigest())
"""


def train_in_a_new_process(seed: int) -> tuple[str, str]:
    done = run_python("-c", TRAIN, MNIST_DIR, seed)
    assert done.returncode == 0, done.stderr
    weights, proba = done.stdout.split()
    return weights, proba


def test_same_seed_gives_bit_identical_weights_across_processes() -> None:
    # The default recipe: augmentation, dropout and shuffling all draw random numbers.
    first = train_in_a_new_process(0)
    second = train_in_a_new_process(0)
    assert first == second


def test_another_seed_gives_another_network(train_slice: Split) -> None:
    x, y = train_slice
    a = DigitClassifier(recipe="fast", epochs=1, seed=0).fit(x[:1000], y[:1000])
    b = DigitClassifier(recipe="fast", epochs=1, seed=1).fit(x[:1000], y[:1000])
    assert not np.array_equal(a.model_.get_weights()[0], b.model_.get_weights()[0])
