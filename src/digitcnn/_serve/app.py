"""The FastAPI application of ``digitcnn serve``: the page at ``/``, the API under ``/api/v1``.

Decoding and normalising pictures runs in a few threads of its own
(:data:`~digitcnn._serve.settings.IMAGE_THREADS`) and the model in the
batcher's thread, never on the event loop, so a large photo or a slow
client holds up no one else. It works through digitcnn's
public API and two private helpers: ``readings.classified``, which turns
probabilities into a reading as ``read_images`` does, and
``greyscale.read_pixels``, which decodes a picture as the library reads it
(upright, as its orientation tag says), so that the boxes of a number are
given in the picture's own frame.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import io
import json
import os
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any

import anyio
import numpy as np

try:
    from fastapi import APIRouter
except ImportError as error:  # pragma: no cover - the extra's absence is tested by hand
    raise ImportError(
        'digitcnn.create_app needs the serve extra: pip install "digitcnn[serve]"'
    ) from error
from fastapi import APIRouter, FastAPI, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from numpy.typing import NDArray
from PIL import Image
from swagger_ui_bundle import swagger_ui_path

import digitcnn
from digitcnn._estimator.readings import classified
from digitcnn._quiet import load_tensorflow_quietly
from digitcnn._serve.batching import Batched, MicroBatcher
from digitcnn._serve.schemas import (
    DigitResult,
    Digits,
    Error,
    Health,
    NumberResult,
    Numbers,
)
from digitcnn._serve.settings import (
    DEFAULT_MIN_CONFIDENCE,
    IMAGE_THREADS,
    SETTINGS_ENV,
    Batching,
    Limits,
)
from digitcnn._serve.uploads import FIELD, BodyLimit, Upload, read_uploads
from digitcnn._vision.greyscale import read_pixels

__all__ = ["app_from_environment", "create_app"]

PAGE = Path(__file__).parent / "page"

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Error, "description": why}
    for code, why in {
        400: "Not a picture, an empty or malformed body, a wrong field, too many pictures",
        408: "The body did not arrive in time",
        413: "The body is over the size limit",
        415: "A body that is neither a form nor an image",
        422: "A query parameter out of range",
    }.items()
}

# The body is read by read_uploads, not by FastAPI, so the schema says what it takes.
_UPLOAD: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        FIELD: {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": "The pictures, one per part, in fields of this name.",
                        }
                    },
                    "required": [FIELD],
                }
            },
            "image/*": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}

MinConfidence = Annotated[
    float | None,
    Query(ge=0.0, le=1.0, description="Answers below this probability are unsure (0-1)."),
]


@dataclasses.dataclass
class _Service:
    """What the endpoints share: the models, the batcher and the limits."""

    classifier: digitcnn.DigitClassifier
    reader: digitcnn.NumberReader
    batcher: MicroBatcher
    limits: Limits
    min_confidence: float
    model_name: str
    image_work: anyio.CapacityLimiter  # threads that decode and normalise pictures

    def threshold(self, asked: float | None) -> float:
        return self.min_confidence if asked is None else asked


def create_app(
    model: digitcnn.DigitClassifier | os.PathLike[str] | str | None = None,
    *,
    reader: digitcnn.NumberReader | None = None,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    max_upload_bytes: int = Limits.max_upload_bytes,
    max_files: int = Limits.max_files,
    max_batch_size: int = Batching.max_batch_size,
    batch_timeout: float = Batching.batch_timeout,
) -> FastAPI:
    """Return the web app: the drawing page, the reading API and its OpenAPI docs.

    Run it with any ASGI server, e.g. ``uvicorn.run(create_app())``, or mount
    it in an application of your own; ``digitcnn serve`` does the former.

    Parameters
    ----------
    model : DigitClassifier, path or None
        The classifier, or a model file saved by it; default: the pretrained model.
    reader : NumberReader, optional
        The number reader of ``/api/v1/numbers``; default: the pretrained one.
    min_confidence : float, default 0.5
        Answers below this probability are "unsure", unless a request asks
        for another threshold.
    max_upload_bytes : int, default 10,000,000
        Larger request bodies get 413 before they are read whole.
    max_files : int, default 64
        Most pictures in one request.
    max_batch_size : int, default 64
        Most images predicted in one model call (1 turns batching off).
    batch_timeout : float, default 0.002
        Seconds a batch waits for more requests after its first.

    Returns
    -------
    fastapi.FastAPI
        The application; the model is loaded already, and the batcher starts
        with the application's lifespan.
    """
    if isinstance(model, digitcnn.DigitClassifier):
        classifier, name = model, "a DigitClassifier"
    elif model is None:
        classifier, name = digitcnn.DigitClassifier.pretrained(), "pretrained"
    else:
        classifier, name = digitcnn.DigitClassifier.load(model), os.fspath(model)
    classifier.predict_proba(np.zeros((1, 28, 28), dtype=np.float32))  # traced before serving
    service = _Service(
        classifier=classifier,
        reader=reader or digitcnn.NumberReader.pretrained(),
        batcher=MicroBatcher(
            classifier.predict_proba, max_batch_size=max_batch_size, batch_timeout=batch_timeout
        ),
        limits=Limits(max_upload_bytes=max_upload_bytes, max_files=max_files),
        min_confidence=min_confidence,
        model_name=name,
        image_work=anyio.CapacityLimiter(IMAGE_THREADS),
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await service.batcher.start()
        try:
            yield
        finally:
            await service.batcher.stop()

    app = FastAPI(
        title="digitcnn",
        version=digitcnn.__version__,
        summary="Read handwritten digits and numbers in pictures.",
        lifespan=lifespan,
        docs_url=None,  # served below from the swagger-ui-bundle package: no CDN, works offline
        redoc_url=None,
    )
    app.state.service = service
    app.add_middleware(BodyLimit, limits=service.limits)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(Exception, _internal_error)
    app.include_router(_api)
    app.include_router(_site)
    app.mount("/static", StaticFiles(directory=PAGE), name="static")
    app.mount("/swagger-ui", StaticFiles(directory=swagger_ui_path), name="swagger-ui")
    return app


def app_from_environment() -> FastAPI:
    """Return :func:`create_app` with the settings in ``$DIGITCNN_SERVE_SETTINGS`` (JSON).

    The factory that each worker process of ``digitcnn serve --workers N``
    calls (uvicorn starts workers from an import string, not from an object);
    like the command line, it hides TensorFlow's start-up lines unless the
    settings say ``"verbose": true``.
    """
    settings = json.loads(os.environ.get(SETTINGS_ENV, "{}"))
    if not settings.pop("verbose", False):
        load_tensorflow_quietly()
    return create_app(**settings)


_api = APIRouter(prefix="/api/v1", tags=["reading"], responses=_ERRORS)
_site = APIRouter()


@_api.post("/digits", openapi_extra=_UPLOAD)
async def read_digit_pictures(
    request: Request,
    response: Response,
    min_confidence: MinConfidence = None,
    image: Annotated[
        bool, Query(description="Also return the 28x28 picture the model saw.")
    ] = False,
) -> Digits:
    """Read one digit in each picture sent: its label, confidence and ten probabilities."""
    service: _Service = request.app.state.service
    uploads = await read_uploads(request, service.limits)
    start = time.perf_counter()
    with service.batcher.expecting():
        done = await anyio.to_thread.run_sync(_frames, uploads, image, limiter=service.image_work)
    images = time.perf_counter() - start
    frames = done.frames
    present = [frame for frame in frames if frame is not None]
    batched = await service.batcher.predict(np.stack(present)) if present else None
    threshold = service.threshold(min_confidence)
    rows: Iterator[NDArray[np.float32]] = iter(batched.probabilities if batched else ())
    results = []
    for upload, frame, png in zip(uploads, frames, done.pngs, strict=True):
        if frame is None:
            results.append(
                DigitResult(
                    name=upload.name,
                    status="empty",
                    label=None,
                    confidence=None,
                    probabilities=None,
                )
            )
            continue
        row = next(rows)
        reading = classified(upload.name, row, threshold)
        results.append(
            DigitResult(
                name=upload.name,
                status="ok" if reading.status == "ok" else "unsure",
                label=None if reading.label == digitcnn.UNREAD else reading.label,
                confidence=reading.confidence,
                probabilities=row.tolist(),
                image=png,
            )
        )
    response.headers["Server-Timing"] = _timing(images, done, batched)
    return Digits(results=results)


@_api.post("/numbers", openapi_extra=_UPLOAD)
async def read_number_pictures(request: Request, min_confidence: MinConfidence = None) -> Numbers:
    """Read the number written in each picture, as ``DigitClassifier.read_digits`` does."""
    service: _Service = request.app.state.service
    uploads = await read_uploads(request, service.limits)
    threshold = service.threshold(min_confidence)
    found = await anyio.to_thread.run_sync(
        _numbers, service, uploads, threshold, limiter=service.image_work
    )
    return Numbers(results=found)


@_site.get("/healthz", tags=["health"])
async def health(request: Request) -> Health:
    """Say that the server is up, and which model it serves."""
    service: _Service = request.app.state.service
    return Health(status="ok", version=digitcnn.__version__, model=service.model_name)


@_site.get("/docs", include_in_schema=False)
async def api_docs() -> HTMLResponse:
    """Serve the API's interactive docs (Swagger UI), its files from this app: no CDN."""
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="digitcnn API",
        swagger_js_url="/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url="/swagger-ui/swagger-ui.css",
        swagger_favicon_url="/swagger-ui/favicon-32x32.png",
    )


@_site.get("/", include_in_schema=False)
async def page() -> FileResponse:
    return FileResponse(PAGE / "index.html", media_type="text/html")


@dataclasses.dataclass
class _Frames:
    """Each picture as MNIST would have it (None if it has no ink), and the seconds it took."""

    frames: list[NDArray[np.float32] | None]
    pngs: list[str | None]  # each frame as a base64 PNG, when asked for
    decoding: float = 0.0
    normalising: float = 0.0


def _frames(uploads: Sequence[Upload], pngs: bool) -> _Frames:
    done = _Frames([], [])
    for upload in uploads:
        start = time.perf_counter()
        frame: NDArray[np.float32] | None = None
        try:
            pixels = read_pixels(upload.data)
            decoded = time.perf_counter()
            frame = digitcnn.to_mnist(pixels)
        except digitcnn.EmptyImageError:
            pass
        except (ValueError, TypeError) as error:
            raise HTTPException(400, f"{upload.name}: {error}") from None
        done.decoding += decoded - start
        done.normalising += time.perf_counter() - decoded
        done.frames.append(frame)
        done.pngs.append(_png(frame) if pngs and frame is not None else None)
    return done


def _numbers(service: _Service, uploads: Sequence[Upload], threshold: float) -> list[NumberResult]:
    results = []
    for upload in uploads:
        try:
            pixels = read_pixels(upload.data)  # upright, as read_digits reads it
            found = service.classifier.read_digits(
                pixels, min_confidence=threshold, reader=service.reader
            )
        except (ValueError, TypeError) as error:
            raise HTTPException(400, f"{upload.name}: {error}") from None
        height, width = pixels.shape[:2]
        results.append(
            NumberResult(
                name=upload.name,
                text=found.text,
                digits=[None if d == digitcnn.UNREAD else d for d in found.digits],
                confidences=list(found.confidences),
                boxes=list(found.boxes),
                width=width,
                height=height,
            )
        )
    return results


def _png(frame: NDArray[np.float32]) -> str:
    buffer = io.BytesIO()
    Image.fromarray(np.round(frame * 255).astype(np.uint8)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _timing(images: float, frames: _Frames, batched: Batched | None) -> str:
    """Return a Server-Timing header: where a request's time went, in milliseconds.

    ``images`` is the time from handing the pictures to a thread to having
    them back: decoding, normalising, and waiting for a thread.
    """
    waited = images - frames.decoding - frames.normalising
    metrics = [
        f"threads;dur={1000 * waited:.3f}",
        f"decode;dur={1000 * frames.decoding:.3f}",
        f"normalise;dur={1000 * frames.normalising:.3f}",
    ]
    if batched is not None:
        metrics += [
            f"queue;dur={1000 * batched.queued:.3f}",
            f"model;dur={1000 * batched.model:.3f}",
            f'batch;desc="{batched.batch_size}"',
        ]
    return ", ".join(metrics)


async def _invalid_request(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    problems = "; ".join(
        f"{' '.join(str(part) for part in problem['loc'])}: {problem['msg']}"
        for problem in error.errors()
    )
    return JSONResponse({"detail": problems}, status_code=422)


async def _internal_error(request: Request, error: Exception) -> JSONResponse:
    return JSONResponse(
        {"detail": f"internal error ({type(error).__name__}); the server keeps serving"},
        status_code=500,
    )
