"""The HTTP API of ``digitcnn serve``, against a real server on a free localhost port."""

from __future__ import annotations

import asyncio
import base64
import io
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import numpy as np
import pytest
from conftest import Split, number, on_paper, serving
from numpy.typing import NDArray
from PIL import Image

from digitcnn import DigitClassifier, create_app, to_mnist
from digitcnn._serve.batching import MicroBatcher
from digitcnn._vision.greyscale import MAX_IMAGE_PIXELS

LIMIT = 2_000_000  # the test server's upload limit, bytes


def png(pixels: NDArray[np.uint8]) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    """Serve the pretrained model on a free port for the module's tests, then stop."""
    with serving(create_app(max_upload_bytes=LIMIT, max_files=16, batch_timeout=0.02)) as url:
        yield url


def digits(url: str, *pictures: bytes, **params: Any) -> httpx.Response:
    files = [("files", (f"{i}.png", p, "image/png")) for i, p in enumerate(pictures)]
    return httpx.post(f"{url}/api/v1/digits", files=files, params=params, timeout=30)


def test_health_says_which_model(url: str) -> None:
    answer = httpx.get(f"{url}/healthz").json()
    assert answer["status"] == "ok"
    assert answer["model"] == "pretrained"


def test_digits_are_read_in_the_order_sent(url: str, test_slice: Split) -> None:
    images, labels = test_slice
    answer = digits(url, *(png(255 - images[i]) for i in range(6)))
    assert answer.status_code == 200
    results = answer.json()["results"]
    assert [r["name"] for r in results] == [f"{i}.png" for i in range(6)]
    assert [r["label"] for r in results] == labels[:6].tolist()
    for result in results:
        assert result["status"] == "ok"
        assert sum(result["probabilities"]) == pytest.approx(1.0, abs=1e-4)
        assert result["confidence"] == max(result["probabilities"])


def test_a_raw_image_body_and_the_image_the_model_saw(url: str, test_slice: Split) -> None:
    images, labels = test_slice
    answer = httpx.post(
        f"{url}/api/v1/digits",
        content=png(on_paper(images[0])),
        headers={"Content-Type": "image/png"},
        params={"image": "true"},
    )
    result = answer.json()["results"][0]
    assert (result["name"], result["label"]) == ("body", labels[0])
    seen = np.asarray(Image.open(io.BytesIO(base64.b64decode(result["image"]))))
    expected = np.round(to_mnist(on_paper(images[0])) * 255).astype(np.uint8)
    np.testing.assert_array_equal(seen, expected)


def test_empty_and_unsure_pictures_say_so(url: str, test_slice: Split) -> None:
    blank = png(np.full((50, 50), 255, dtype=np.uint8))
    two_in_one = png(255 - np.maximum(test_slice[0][0], test_slice[0][1]))  # a 7 over a 2
    empty, unsure = digits(url, blank, two_in_one, min_confidence=1.0).json()["results"]
    assert (empty["status"], empty["label"], empty["probabilities"]) == ("empty", None, None)
    assert unsure["status"] == "unsure"
    assert unsure["label"] is None
    assert len(unsure["probabilities"]) == 10


def test_numbers_are_read_as_read_digits_reads_them(url: str, test_slice: Split) -> None:
    images, labels = test_slice
    picture = number([images[i] for i in range(4)])
    answer = httpx.post(
        f"{url}/api/v1/numbers", files=[("files", ("n.png", png(picture), "image/png"))]
    )
    assert answer.status_code == 200
    result = answer.json()["results"][0]
    expected = DigitClassifier.pretrained().read_digits(picture, min_confidence=0.5)
    assert result["text"] == expected.text == "".join(map(str, labels[:4]))
    assert [tuple(b) for b in result["boxes"]] == list(expected.boxes)
    assert (result["height"], result["width"]) == picture.shape


def bomb() -> bytes:
    side = int(MAX_IMAGE_PIXELS**0.5) + 10
    return png(np.zeros((side, side), dtype=np.uint8))  # a few kB of PNG, 50 M pixels


def test_bad_and_hostile_requests_get_json_errors_and_the_server_keeps_answering(
    url: str, test_slice: Split
) -> None:
    api = f"{url}/api/v1/digits"
    image = {"Content-Type": "image/png"}

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit must count the bytes
        for _ in range(LIMIT // 100_000 + 2):
            yield b"\0" * 100_000

    cases: list[tuple[httpx.Response, int, str]] = [
        (httpx.post(api, content=b"\0" * (LIMIT + 1), headers=image), 413, "at most 2,000,000"),
        (httpx.post(api, content=chunks(), headers=image), 413, "at most 2,000,000"),
        (httpx.post(api, content=bomb(), headers=image), 400, "more than the 50,000,000"),
        (digits(url, b"this is not a picture"), 400, "0.png: the image data"),
        (digits(url, png(np.zeros((60, 60), np.uint8))[:60]), 400, "truncated or corrupted"),
        (httpx.post(api, headers=image), 400, "the request has no body"),
        (
            httpx.post(api, files=[("image", ("a.png", png(255 - test_slice[0][0])))]),
            400,
            "form field 'image' is not read",
        ),
        (digits(url, *[b"x"] * 1000), 400, "at most 16 pictures"),
        (httpx.post(api, content=b"{}", headers={"Content-Type": "application/json"}), 415, ""),
        (digits(url, png(255 - test_slice[0][0]), min_confidence=2), 422, "min_confidence"),
        (httpx.get(f"{url}/api/v1/nothing"), 404, "Not Found"),
        (httpx.get(api), 405, "Method Not Allowed"),
    ]
    for response, status, message in cases:
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/json"
        assert message in response.json()["detail"]
    assert digits(url, png(255 - test_slice[0][0])).json()["results"][0]["label"] == 7


def test_a_slow_or_vanished_client_holds_up_no_one(url: str, test_slice: Split) -> None:
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as slow:
        slow.sendall(
            b"POST /api/v1/digits HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
            b"Content-Length: 100000\r\n\r\n" + b"\x89PNG"
        )
        start = time.monotonic()
        answer = digits(url, png(255 - test_slice[0][0]))
        assert answer.status_code == 200
        assert time.monotonic() - start < 5
    # the slow client has gone, mid-body
    assert digits(url, png(255 - test_slice[0][0])).status_code == 200


def test_requests_that_arrive_together_share_a_model_call(url: str, test_slice: Split) -> None:
    images, labels = test_slice
    pictures = [png(255 - images[i]) for i in range(24)]
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(lambda p: digits(url, p), pictures))
    assert [a.json()["results"][0]["label"] for a in answers] == labels[:24].tolist()
    sizes = [int(a.headers["server-timing"].split('batch;desc="')[1].rstrip('"')) for a in answers]
    assert max(sizes) > 1


def test_the_page_and_its_files_are_served(url: str) -> None:
    page = httpx.get(url)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    for asset in ("/static/page.js", "/static/page.css"):
        assert asset in page.text
        assert httpx.get(url + asset).status_code == 200
    schema = httpx.get(f"{url}/openapi.json").json()
    assert {"/api/v1/digits", "/api/v1/numbers", "/healthz"} <= set(schema["paths"])
    docs = httpx.get(f"{url}/docs").text  # Swagger UI, with its files from this server: offline
    assert "/openapi.json" in docs
    assert "http" not in docs.replace("http-equiv", "")
    for asset in ("/swagger-ui/swagger-ui-bundle.js", "/swagger-ui/swagger-ui.css"):
        assert asset in docs
        assert httpx.get(url + asset).status_code == 200


class TestMicroBatcher:
    @staticmethod
    def run(coroutine: Any) -> Any:
        return asyncio.run(coroutine)

    def test_concurrent_requests_are_one_call_and_each_gets_its_rows(self) -> None:
        calls: list[int] = []

        def predict(images: NDArray[np.float32]) -> NDArray[np.float32]:
            calls.append(len(images))
            return np.repeat(images[:, :1, 0], 10, axis=1)  # each row: its image's first pixel

        async def main() -> list[Any]:
            batcher = MicroBatcher(predict, max_batch_size=64, batch_timeout=0.05)
            await batcher.start()
            try:
                sizes = [1, 3, 2, 1]
                requests = [np.full((n, 28, 28), float(i), np.float32) for i, n in enumerate(sizes)]
                return await asyncio.gather(*(batcher.predict(r) for r in requests))
            finally:
                await batcher.stop()

        answers = self.run(main())
        assert calls == [7]
        for i, (answer, n) in enumerate(zip(answers, [1, 3, 2, 1], strict=True)):
            assert answer.probabilities.shape == (n, 10)
            assert (answer.probabilities == i).all()
            assert answer.batch_size == 7

    def test_a_full_batch_goes_at_once_and_a_failure_fails_only_its_batch(self) -> None:
        calls: list[int] = []

        def predict(images: NDArray[np.float32]) -> NDArray[np.float32]:
            calls.append(len(images))
            if images[0, 0, 0] < 0:
                raise ValueError("a broken batch")
            return np.zeros((len(images), 10), np.float32)

        async def main() -> None:
            batcher = MicroBatcher(predict, max_batch_size=2, batch_timeout=10.0)
            await batcher.start()
            try:
                good = np.zeros((1, 28, 28), np.float32)
                await asyncio.wait_for(
                    asyncio.gather(batcher.predict(good), batcher.predict(good)), 5
                )
                with pytest.raises(ValueError, match="a broken batch"):
                    await asyncio.wait_for(
                        batcher.predict(np.full((2, 28, 28), -1.0, np.float32)), 5
                    )
                assert (
                    await asyncio.wait_for(batcher.predict(np.zeros((2, 28, 28), np.float32)), 5)
                ).batch_size == 2
            finally:
                await batcher.stop()

        self.run(main())
        assert calls == [2, 2, 2]

    def test_a_batch_waits_only_for_requests_on_their_way(self) -> None:
        calls: list[int] = []

        def predict(images: NDArray[np.float32]) -> NDArray[np.float32]:
            calls.append(len(images))
            return np.zeros((len(images), 10), np.float32)

        one = np.zeros((1, 28, 28), np.float32)

        async def main() -> float:
            batcher = MicroBatcher(predict, max_batch_size=64, batch_timeout=5.0)
            await batcher.start()
            try:
                first = asyncio.ensure_future(batcher.predict(one))
                with batcher.expecting():
                    await asyncio.sleep(0.05)  # its picture is being prepared
                second = batcher.predict(one)
                await asyncio.wait_for(asyncio.gather(first, second), 5)
                start = time.monotonic()
                await asyncio.wait_for(batcher.predict(one), 5)  # alone: not held 5 s
                return time.monotonic() - start
            finally:
                await batcher.stop()

        assert self.run(main()) < 1.0
        assert calls == [2, 1]
