"""What the benchmark scripts share: paths, the environment record, the results writer, a port."""

from __future__ import annotations

import json
import os
import platform
import socket
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

import digitcnn

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "mnist"
RESULTS = Path(__file__).resolve().parent / "results"


def environment() -> dict[str, Any]:
    """Return the versions and machine that a measurement belongs to."""
    return {
        "digitcnn": digitcnn.__version__,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
    }


def describe(env: dict[str, Any]) -> str:
    """Return one sentence naming the machine and versions of ``env``."""
    return (
        f"Measured on {env['cpus']} CPU cores with digitcnn {env['digitcnn']}, "
        f"TensorFlow {env['tensorflow']} and Keras {env['keras']}."
    )


def free_port() -> int:
    """Return a TCP port free on localhost now, for a server or worker the benchmark starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def write_results(folder: Path, name: str, title: str, table: str, data: Any) -> None:
    """Print ``table`` and write ``name.md`` (titled) and ``name.json`` into ``folder``."""
    print(table)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(data, indent=2) + "\n")
    (folder / f"{name}.md").write_text(f"# {title}\n\n{table}")
