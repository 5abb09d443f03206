"""Training the number reader: numbers made in parallel, batched by width, the CTC loss."""

from __future__ import annotations

import concurrent.futures
import multiprocessing
from collections.abc import Iterator
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from numpy.typing import NDArray

from digitcnn._training.networks import build_optimizer, compile_for_training
from digitcnn._training.number_network import build_number_network, ctc_loss
from digitcnn._training.number_sets import number_examples
from digitcnn._vision.number_frame import STEP_WIDTH

__all__ = ["StripBatches", "make_numbers", "train_number_network"]

_CHUNK = 2_000  # numbers made by one task of the worker pool
_BUCKET = 64  # batch widths are multiples of this: a few shapes, so Keras traces a few graphs


def make_numbers(
    images: NDArray[np.uint8],
    labels: NDArray[np.int64],
    count: int,
    seed: int,
    *,
    workers: int,
) -> tuple[NDArray[np.uint8], NDArray[np.int64], NDArray[np.int64]]:
    """Return ``count`` training numbers (as ``number_examples``), made by ``workers`` processes.

    The numbers depend on ``seed`` only, not on the number of workers: each
    chunk of 2,000 has its own child of the seed.
    """
    chunks = [min(_CHUNK, count - start) for start in range(0, count, _CHUNK)]
    seeds = np.random.SeedSequence(seed).spawn(len(chunks))
    if workers <= 1:
        parts = [number_examples(images, labels, n, s) for n, s in zip(chunks, seeds, strict=True)]
    else:
        context = multiprocessing.get_context("spawn")  # TensorFlow's threads do not fork
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
            parts = list(
                pool.map(
                    number_examples,
                    *zip(
                        *[(images, labels, n, s) for n, s in zip(chunks, seeds, strict=True)],
                        strict=True,
                    ),
                )
            )
    strips, widths, texts = (np.concatenate(p) for p in zip(*parts, strict=True))
    return strips, widths, texts


class StripBatches:
    """Batches of training numbers of similar width, each as wide as its widest number.

    Sorting by width before batching spares the network most of the blank
    columns that one common width would add. Each epoch reshuffles which
    numbers share a batch (among neighbours in width) and the order of the
    batches, and places each number at a random column of its batch.
    """

    def __init__(
        self,
        strips: NDArray[np.uint8],
        widths: NDArray[np.int64],
        texts: NDArray[np.int64],
        batch_size: int,
        seed: int,
    ) -> None:
        self.strips, self.widths, self.texts = strips, widths, texts
        self.batch_size = batch_size
        self.rng = np.random.default_rng(seed)
        self.batches: list[NDArray[np.int64]] = []
        self.on_epoch_end()

    def on_epoch_end(self) -> None:
        """Regroup the numbers into batches and shuffle them."""
        jitter = self.rng.uniform(0, 2 * STEP_WIDTH, len(self.widths))
        order = np.argsort(self.widths + jitter)
        self.batches = [
            order[start : start + self.batch_size]
            for start in range(0, len(order), self.batch_size)
        ]
        self.rng.shuffle(self.batches)

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, index: int) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
        chosen = self.batches[index]
        widths = self.widths[chosen]
        width = -(-int(widths.max()) // _BUCKET) * _BUCKET
        batch = np.zeros((len(chosen), self.strips.shape[1], width, 1), dtype=np.float32)
        for row, (number, own) in enumerate(zip(chosen, widths, strict=True)):
            left = int(self.rng.integers(0, width - own + 1))
            batch[row, :, left : left + own, 0] = self.strips[number, :, :own] / 255.0
        return batch, self.texts[chosen]


def train_number_network(
    data: StripBatches,
    *,
    epochs: int,
    learning_rate: float,
    verbose: int,
) -> tuple[keras.Model, dict[str, Any]]:
    """Train a new number-reading network on ``data``; return it and its loss history."""
    model = build_number_network()
    compile_for_training(model, build_optimizer(learning_rate, epochs * len(data)), ctc_loss)
    history = model.fit(_as_dataset(data), epochs=epochs, shuffle=False, verbose=verbose)
    return model, history.history


def _as_dataset(data: StripBatches) -> tf.data.Dataset:
    """Return ``data`` as a dataset whose batches may have any width.

    Keras infers a ``PyDataset``'s shapes from its first two batches, so two
    batches of one width would fix the width of every batch; here the width
    is declared free. The batches are regrouped after each pass.
    """

    def batches() -> Iterator[tuple[NDArray[np.float32], NDArray[np.int64]]]:
        for index in range(len(data)):
            yield data[index]
        data.on_epoch_end()

    return tf.data.Dataset.from_generator(
        batches,
        output_signature=(
            tf.TensorSpec((None, data.strips.shape[1], None, 1), tf.float32),
            tf.TensorSpec((None, data.texts.shape[1]), tf.int64),
        ),
    ).apply(tf.data.experimental.assert_cardinality(len(data)))
