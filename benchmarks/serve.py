"""Drive ``digitcnn serve`` from 1, 8, 32 and 64 concurrent clients, beside a hand-written endpoint.

Each server runs alone on the machine, started as a user would on a free
localhost port, one after another:

- *hand-written*: ``handwritten_endpoint.py``, Keras's ``model.predict`` on
  each request, as tutorials show;
- ``digitcnn serve --max-batch-size 1``: our path with one model call per
  request (no batching);
- ``digitcnn serve --workers 1``: one process, batched;
- ``digitcnn serve --batch-timeout-ms 0``: batches of the requests already
  waiting, without waiting for more;
- ``digitcnn serve``: the defaults (one process per core, batches of up to
  64 images gathered for up to 2 ms).

Each client holds one keep-alive HTTP/1.1 connection and sends one 28x28
PNG of an MNIST test digit per request (multipart, as ``curl -F`` does),
for ``--seconds`` at each level, after a second of warm-up. The clients run
in this process, on the same 2 cores as the server. Per server and level:
requests per second, median and 99th-percentile latency, errors (anything
but 200, and broken connections), and, from the server's ``Server-Timing``
header, where a request's time went: normalising the picture (decoding
included), waiting for its batch, the model call, and the rest (HTTP,
FastAPI, the multipart form, JSON). Writes ``results/serve.json`` and
``results/serve.md``::

    python benchmarks/serve.py               # 8 s per level: about 5 minutes
    python benchmarks/serve.py --seconds 3   # quicker
"""

from __future__ import annotations

import argparse
import asyncio
import io
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from _common import DATA, RESULTS, describe, environment, free_port, write_results
from PIL import Image

from digitcnn import load_mnist

HERE = Path(__file__).resolve().parent
LEVELS = (1, 8, 32, 64)
BOUNDARY = "digitcnn-benchmark"

# name: (the command that starts it, less its port; the path it answers on)
SERVERS: dict[str, tuple[list[str], str]] = {
    "hand-written (Keras predict per request)": (
        [sys.executable, str(HERE / "handwritten_endpoint.py")],
        "/predict",
    ),
    "digitcnn serve --max-batch-size 1 (unbatched)": (
        ["digitcnn", "serve", "--max-batch-size", "1"],
        "/api/v1/digits",
    ),
    "digitcnn serve --workers 1": (["digitcnn", "serve", "--workers", "1"], "/api/v1/digits"),
    "digitcnn serve --batch-timeout-ms 0": (
        ["digitcnn", "serve", "--batch-timeout-ms", "0"],
        "/api/v1/digits",
    ),
    "digitcnn serve (default)": (["digitcnn", "serve"], "/api/v1/digits"),
}
DEFAULT, HANDWRITTEN, UNBATCHED = "digitcnn serve (default)", *list(SERVERS)[:2]


@dataclass
class Measured:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    timings: list[dict[str, float]] = field(default_factory=list)


def requests_for(digits: np.ndarray, path: str, port: int) -> list[bytes]:
    """Return ready HTTP requests, one per digit: a multipart form with its 28x28 PNG."""
    requests = []
    for digit in digits:
        png = io.BytesIO()
        Image.fromarray(255 - digit).save(png, format="PNG")
        body = (
            (
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; '
                f'filename="digit.png"\r\nContent-Type: image/png\r\n\r\n'
            ).encode()
            + png.getvalue()
            + f"\r\n--{BOUNDARY}--\r\n".encode()
        )
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        requests.append(head + body)
    return requests


def server_timing(header: str) -> dict[str, float]:
    """Return the durations (ms) and the batch size in a Server-Timing header."""
    found: dict[str, float] = {}
    for metric in header.split(","):
        name, *params = (p.strip() for p in metric.split(";"))
        for param in params:  # dur=1.2 or desc="12": one number each
            found[name] = float(param.partition("=")[2].strip('"'))
    return found


async def one_client(port: int, requests: list[bytes], start: float, stop: float, into: Measured):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sent = 0
    try:
        while (now := time.perf_counter()) < stop:
            request = requests[sent % len(requests)]
            sent += 1
            try:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
                headers = {k.lower(): v for k, v in headers.items()}
                await reader.readexactly(int(headers["content-length"]))
            except (ConnectionError, asyncio.IncompleteReadError):
                into.errors += 1
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                continue
            if now < start:
                continue  # warming up
            into.latencies.append(time.perf_counter() - now)
            if lines[0].split()[1] != "200":
                into.errors += 1
            if "server-timing" in headers:
                into.timings.append(server_timing(headers["server-timing"]))
    finally:
        writer.close()


async def drive(port: int, requests: list[bytes], clients: int, seconds: float) -> Measured:
    measured = Measured()
    start = time.perf_counter() + 1.0
    await asyncio.gather(
        *(
            one_client(port, requests[i::clients] or requests, start, start + seconds, measured)
            for i in range(clients)
        )
    )
    return measured


def summary(measured: Measured, seconds: float) -> dict[str, Any]:
    latencies = sorted(measured.latencies)
    result: dict[str, Any] = {
        "requests_per_s": len(latencies) / seconds,
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
        "errors": measured.errors,
        "requests": len(latencies),
    }
    if measured.timings:
        parts = ("threads", "decode", "normalise", "queue", "model")
        mean = {
            name: statistics.fmean(t.get(name, 0.0) for t in measured.timings)
            for name in (*parts, "batch")
        }
        total = 1000 * statistics.fmean(latencies)
        result["time_ms"] = {
            **{name: mean[name] for name in parts},
            "http_and_framework": total - sum(mean[name] for name in parts),
            "total": total,
        }
        result["mean_batch"] = mean["batch"]
    return result


def start_server(command: list[str], port: int) -> subprocess.Popen[bytes]:
    if command[0] == "digitcnn":  # the one installed beside this Python
        command = [str(Path(sys.executable).with_name("digitcnn")), *command[1:]]
    argv = [*command, "--port", str(port)]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server {argv} stopped with status {process.returncode}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/docs", timeout=1)
            time.sleep(3)  # every worker up, not only the first
            return process
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise RuntimeError(f"the server {argv} did not start within 120 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="measured time per level")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--output", type=Path, default=RESULTS, help="folder for the results")
    args = parser.parse_args()
    _, (x_test, _) = load_mnist(args.data)

    rows: list[dict[str, Any]] = []
    for name, (command, path) in SERVERS.items():
        port = free_port()
        requests = requests_for(x_test[:256], path, port)
        process = start_server(command, port)
        try:
            for clients in LEVELS:
                measured = asyncio.run(drive(port, requests, clients, args.seconds))
                row = {"server": name, "clients": clients, **summary(measured, args.seconds)}
                rows.append(row)
                print(
                    f"{name}, {clients} clients: {row['requests_per_s']:.0f} requests/s, "
                    f"p50 {row['p50_ms']:.1f} ms, p99 {row['p99_ms']:.1f} ms, "
                    f"{row['errors']} errors",
                    flush=True,
                )
        finally:
            process.send_signal(signal.SIGINT)  # Ctrl-C: the workers stop too
            process.wait(timeout=60)
    write_results(
        args.output,
        "serve",
        "Serving under load",
        table(rows, args.seconds),
        {"rows": rows, "seconds_per_level": args.seconds, "environment": environment()},
    )


def table(rows: list[dict[str, Any]], seconds: float) -> str:
    names = list(SERVERS)
    at = {(r["server"], r["clients"]): r for r in rows}
    lines = [
        "| server | "
        + " | ".join(f"{c} clients: req/s, p50 / p99 ms" for c in LEVELS)
        + " | errors |",
        "| --- | " + " | ".join("---:" for _ in LEVELS) + " | ---: |",
    ]
    for name in names:
        cells = [
            f"{at[name, c]['requests_per_s']:.0f}, {at[name, c]['p50_ms']:.1f} / "
            f"{at[name, c]['p99_ms']:.1f}"
            for c in LEVELS
        ]
        errors = sum(at[name, c]["errors"] for c in LEVELS)
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {errors} |")

    ours, handwritten, unbatched = DEFAULT, HANDWRITTEN, UNBATCHED
    best = at[ours, 32]
    verdicts = [
        (
            "≥ 500 requests/s at 32 clients",
            best["requests_per_s"] >= 500,
            f"{best['requests_per_s']:.0f}",
        ),
        ("p99 under 150 ms at 32 clients", best["p99_ms"] < 150, f"{best['p99_ms']:.1f} ms"),
        (
            "zero errors",
            all(at[ours, c]["errors"] == 0 for c in LEVELS),
            f"{sum(at[ours, c]['errors'] for c in LEVELS)}",
        ),
        (
            "≥ 10x the hand-written endpoint at 32 clients",
            best["requests_per_s"] >= 10 * at[handwritten, 32]["requests_per_s"],
            f"{best['requests_per_s'] / at[handwritten, 32]['requests_per_s']:.1f}x",
        ),
    ]
    lines += ["", "| target (default server) | measured | |", "| --- | ---: | --- |"]
    lines += [
        f"| {what} | {value} | {'met' if ok else 'not met'} |" for what, ok, value in verdicts
    ]
    gain = best["requests_per_s"] / at[unbatched, 32]["requests_per_s"]
    lines += ["", f"Batching gives {gain:.2f}x the unbatched path's requests/s at 32 clients.", ""]

    lines += [
        "Where a request's time goes (mean ms per request, from the server's Server-Timing "
        "header): waiting for one of the picture threads, decoding the PNG, normalising it "
        "(to_mnist), waiting for the batch to close, the model call, and the rest: HTTP, "
        "FastAPI, the multipart form and JSON, in the server and in this client.",
        "",
        "| server | clients | threads | decode | normalise | batch wait | model | rest | total "
        "| batch |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name in names[1:]:
        for c in LEVELS:
            t = at[name, c]["time_ms"]
            cells = [t[k] for k in ("threads", "decode", "normalise", "queue", "model")]
            cells += [t["http_and_framework"], t["total"]]
            lines.append(
                f"| {name} | {c} | "
                + " | ".join(f"{v:.2f}" for v in cells)
                + f" | {at[name, c]['mean_batch']:.1f} |"
            )
    lines += [
        "",
        f"{seconds:g} s per level after 1 s of warm-up; one 28x28 PNG digit per request; the "
        "clients run in the benchmark's process on the same cores. " + describe(environment()),
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
