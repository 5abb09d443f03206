"""The cluster of a multi-worker training: ``TF_CONFIG`` checked, the workers met, a strategy.

TensorFlow reads the cluster from the ``TF_CONFIG`` environment variable
when a :class:`tf.distribute.MultiWorkerMirroredStrategy` is made, and then
waits, without a limit and deaf to Ctrl-C, until every worker has joined;
a typo in ``TF_CONFIG`` gives a Python traceback from deep inside
TensorFlow, or a wait that never ends. :func:`multi_worker_strategy` checks
``TF_CONFIG`` first and says what is wrong with it, then waits a bounded time
for the other workers to listen on their addresses, and only then makes the
strategy.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import tensorflow as tf

__all__ = ["TF_CONFIG", "Cluster", "multi_worker_strategy", "read_tf_config"]

TF_CONFIG = "TF_CONFIG"
"""The environment variable from which TensorFlow reads the cluster."""

_JOBS = ("chief", "worker")
"""The jobs of a multi-worker training: at most one chief, and workers."""

_EXAMPLE = (
    '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
    '"task": {"type": "worker", "index": 0}}'
)
_RETRY_SECONDS = 0.2


def _every(addresses: dict[str, list[tuple[str, int]]]) -> list[tuple[str, int]]:
    """Return the addresses of every job's tasks, in one list."""
    return [address for job in addresses.values() for address in job]


@dataclasses.dataclass(frozen=True)
class Cluster:
    """The addresses of a multi-worker training, and which of them this process is."""

    addresses: dict[str, list[tuple[str, int]]]
    """Each job's tasks as ``(host, port)``."""
    task_type: str
    """This process's job."""
    task_index: int
    """This process's position among its job's tasks."""

    @property
    def own(self) -> tuple[str, int]:
        """Return this process's ``(host, port)``."""
        return self.addresses[self.task_type][self.task_index]

    @property
    def peers(self) -> list[tuple[str, int]]:
        """Return the ``(host, port)`` of every other task."""
        return [address for address in _every(self.addresses) if address != self.own]


def _address(text: Any, where: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":") if isinstance(text, str) else ("", "", "")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{TF_CONFIG}'s {where} must be a 'host:port' string; got {text!r}")
    return host.strip("[]"), int(port)


def read_tf_config(text: str | None) -> Cluster:
    """Return the cluster that the ``TF_CONFIG`` value ``text`` describes.

    Raises
    ------
    ValueError
        If ``text`` is missing, not JSON, or not a cluster of ``chief`` and
        ``worker`` tasks with this process's task among them.
    """
    if not text:
        raise ValueError(
            f"{TF_CONFIG} must be set in every worker's environment to the cluster and the "
            f"worker's own task, for example {_EXAMPLE}"
        )
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{TF_CONFIG} must be JSON, such as {_EXAMPLE}; {error}") from None
    if not isinstance(config, dict) or not isinstance(config.get("cluster"), dict):
        raise ValueError(f"{TF_CONFIG} must be an object with a 'cluster'; got {text!r}")
    addresses: dict[str, list[tuple[str, int]]] = {}
    for job, tasks in config["cluster"].items():
        if job not in _JOBS:
            raise ValueError(
                f"{TF_CONFIG}'s cluster may hold the jobs {list(_JOBS)} only; got {job!r}"
            )
        if not isinstance(tasks, list) or not tasks:
            raise ValueError(f"{TF_CONFIG}'s {job!r} must be a list of addresses; got {tasks!r}")
        addresses[job] = [_address(task, f"{job!r} address") for task in tasks]
    every = _every(addresses)
    if len(set(every)) < len(every):
        raise ValueError(f"{TF_CONFIG}'s cluster lists an address twice: {config['cluster']}")
    if len(addresses.get("chief", [])) > 1:
        raise ValueError(f"{TF_CONFIG}'s cluster may have one chief; got {addresses['chief']}")
    task = config.get("task")
    if not isinstance(task, dict):
        raise ValueError(f"{TF_CONFIG} must say this worker's 'task', such as {_EXAMPLE}")
    task_type, index = task.get("type"), task.get("index", 0)
    if task_type not in addresses:
        raise ValueError(
            f"{TF_CONFIG}'s task type must be one of the cluster's jobs {list(addresses)}; "
            f"got {task_type!r}"
        )
    if not isinstance(index, int) or isinstance(index, bool):
        raise ValueError(f"{TF_CONFIG}'s task index must be an integer; got {index!r}")
    if not 0 <= index < len(addresses[task_type]):
        raise ValueError(
            f"{TF_CONFIG}'s task index must be 0 to {len(addresses[task_type]) - 1} for the "
            f"{len(addresses[task_type])} {task_type!r} addresses; got {index}"
        )
    return Cluster(addresses, task_type, index)


def _meet(cluster: Cluster, timeout: float) -> None:
    """Return once every other task accepts connections on its address.

    This process listens on its own address meanwhile, so that the others
    find it (then TensorFlow takes the port over). Raises ``TimeoutError``
    naming the tasks not reached within ``timeout`` seconds, or ``OSError``
    if this process's own address cannot be listened on.
    """
    host, port = cluster.own
    try:
        listener = socket.create_server((host, port))
    except OSError as error:
        raise OSError(
            f"this worker cannot listen on {host}:{port}, its address in {TF_CONFIG} "
            f"({error.strerror or error}); is the port in use, or the host not this machine?"
        ) from None
    listener.settimeout(0)
    waiting = set(cluster.peers)
    deadline = time.monotonic() + timeout
    try:
        while waiting:
            for peer in sorted(waiting):
                try:
                    socket.create_connection(peer, timeout=_RETRY_SECONDS).close()
                    waiting.discard(peer)
                except OSError:
                    pass
            try:  # drop the others' probes, which only check that this address listens
                while True:
                    listener.accept()[0].close()
            except OSError:
                pass
            if waiting and time.monotonic() > deadline:
                missing = ", ".join(f"{h}:{p}" for h, p in sorted(waiting))
                raise TimeoutError(
                    f"{cluster.task_type} {cluster.task_index} could not reach {missing} within "
                    f"{timeout:g} s: start every worker (each with its own task in "
                    f"{TF_CONFIG}), and check the addresses and the firewall"
                )
            if waiting:
                time.sleep(_RETRY_SECONDS)
    finally:
        listener.close()


def multi_worker_strategy(timeout: float = 60.0) -> tf.distribute.MultiWorkerMirroredStrategy:
    """Return the strategy that trains across the workers of ``TF_CONFIG``, once all have joined.

    Every worker runs the same program: it checks the ``TF_CONFIG``
    environment variable, waits up to ``timeout`` seconds for the other
    workers to start, and makes a
    :class:`tf.distribute.MultiWorkerMirroredStrategy`, under whose scope
    :meth:`DigitClassifier.fit` trains one model across all of them::

        strategy = multi_worker_strategy()
        with strategy.scope():
            clf = DigitClassifier(seed=0).fit(x_train, y_train, checkpoint_dir="shared/ckpt")

    Call it first thing in the program, before TensorFlow does any work.

    Parameters
    ----------
    timeout : float, default 60.0
        Seconds to wait for every other worker to listen on its address.

    Returns
    -------
    tf.distribute.MultiWorkerMirroredStrategy
        The strategy, with this worker in the cluster.

    Raises
    ------
    ValueError
        If ``TF_CONFIG`` is missing or malformed, or ``timeout`` is not a
        positive number.
    TimeoutError
        If another worker cannot be reached within ``timeout`` seconds.
    OSError
        If this worker cannot listen on its own address.
    """
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds; got {timeout!r}")
    cluster = read_tf_config(os.environ.get(TF_CONFIG))
    _meet(cluster, float(timeout))
    import tensorflow as tf

    return tf.distribute.MultiWorkerMirroredStrategy()
