"""Requests that arrive together, predicted together: one model call for many requests.

As TensorFlow Serving's batching does: the first request waiting starts a
batch; others join it until it holds ``max_batch_size`` images or
``batch_timeout`` seconds have passed since it started; then one model call
answers them all. A batch waits only while more requests are on their way
(announced with :meth:`MicroBatcher.expecting` while their pictures are
prepared), so a lone request is answered at once. The model runs in a
thread of its own, off the event loop, one call at a time (TensorFlow
spreads each call over the cores), so while it works the next batch gathers.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import time
from collections.abc import Callable, Iterator

import numpy as np
from numpy.typing import NDArray

__all__ = ["Batched", "MicroBatcher"]

Predict = Callable[[NDArray[np.float32]], NDArray[np.float32]]


@dataclasses.dataclass(frozen=True)
class Batched:
    """One request's probabilities, and the model call that gave them."""

    probabilities: NDArray[np.float32]  # (n, 10), for the request's n images
    queued: float  # seconds from the request's arrival to the start of its model call
    model: float  # seconds the model call took
    batch_size: int  # images in that call, from all the requests in it


@dataclasses.dataclass
class _Waiting:
    images: NDArray[np.float32]
    future: asyncio.Future[Batched]
    arrived: float


class MicroBatcher:
    """Collect the images of concurrent requests into batches for one model call each.

    Parameters
    ----------
    predict : callable
        Maps ``(n, 28, 28)`` float32 images to their ``(n, 10)`` probabilities;
        called in a worker thread.
    max_batch_size : int
        A batch is closed once it holds this many images (one request with
        more is predicted whole, in one batch of its own).
    batch_timeout : float
        Seconds a batch waits for more requests after its first; 0 takes the
        requests already waiting and no more.
    """

    def __init__(self, predict: Predict, *, max_batch_size: int, batch_timeout: float) -> None:
        self._predict = predict
        self.max_batch_size = max_batch_size
        self.batch_timeout = batch_timeout
        self._queue: asyncio.Queue[_Waiting] = asyncio.Queue()
        self._model_thread = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="digitcnn-model"
        )
        self._task: asyncio.Task[None] | None = None
        self._on_their_way = 0

    @contextlib.contextmanager
    def expecting(self) -> Iterator[None]:
        """Announce a request whose images are being prepared, so that a batch may wait for it.

        Call :meth:`predict` right after the block, with no ``await`` between.
        """
        self._on_their_way += 1
        try:
            yield
        finally:
            self._on_their_way -= 1

    async def start(self) -> None:
        """Start taking requests (call from the event loop that will serve them)."""
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop, failing the requests still waiting, and free the model's thread."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        while not self._queue.empty():
            waiting = self._queue.get_nowait()
            if not waiting.future.done():
                waiting.future.set_exception(RuntimeError("the server is shutting down"))
        self._model_thread.shutdown(wait=True)

    async def predict(self, images: NDArray[np.float32]) -> Batched:
        """Return the probabilities of ``images``, predicted with other requests' images."""
        if self._task is None or self._task.done():
            raise RuntimeError("the batcher is not running: call start() first")
        future: asyncio.Future[Batched] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Waiting(images, future, time.perf_counter()))
        return await future

    async def _gather(self) -> list[_Waiting]:
        """Wait for a request, then for others until the batch is full or its time is up."""
        batch = [await self._queue.get()]
        size = len(batch[0].images)
        deadline = time.perf_counter() + self.batch_timeout
        while size < self.max_batch_size:
            if self._queue.empty():
                left = deadline - time.perf_counter()
                if left <= 0 or not self._on_their_way:
                    break
                try:
                    waiting = await asyncio.wait_for(self._queue.get(), left)
                except asyncio.TimeoutError:  # TimeoutError itself from Python 3.11
                    break
            else:
                waiting = self._queue.get_nowait()
            batch.append(waiting)
            size += len(waiting.images)
        return batch

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [w for w in await self._gather() if not w.future.done()]  # not cancelled
            if not batch:
                continue
            images = np.concatenate([w.images for w in batch])
            started = time.perf_counter()
            try:
                probabilities = await loop.run_in_executor(
                    self._model_thread, self._predict, images
                )
            except Exception as error:  # the requests fail with it; the server keeps serving
                for waiting in batch:
                    if not waiting.future.done():
                        waiting.future.set_exception(error)
                continue
            took = time.perf_counter() - started
            first = 0
            for waiting in batch:
                n = len(waiting.images)
                if not waiting.future.done():
                    waiting.future.set_result(
                        Batched(
                            probabilities[first : first + n],
                            started - waiting.arrived,
                            took,
                            len(images),
                        )
                    )
                first += n
