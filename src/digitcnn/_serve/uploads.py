"""Request bodies read within their limits, and the pictures taken out of them, all in memory.

A request carries its pictures as a multipart form (one part per picture,
each in a field named ``files``) or as a raw image body (``Content-Type:
image/...``). A body over the size limit is refused with 413 as soon as its
``Content-Length`` says so, or, sent in chunks, as soon as it grows past the
limit; a body that stops arriving gets 408. Nothing is written to disk:
Starlette's own form parser spools large files to temporary files, so the
form is parsed here, with python-multipart, into memory.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json

from fastapi import HTTPException, Request
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from digitcnn._serve.settings import Limits

__all__ = ["FIELD", "BodyLimit", "Upload", "read_uploads"]

FIELD = "files"
"""The form field that holds the pictures of a multipart request."""

_IMAGE_TYPES = (b"image/", b"application/octet-stream")  # raw bodies taken as a picture


@dataclasses.dataclass(frozen=True)
class Upload:
    """One picture sent: its file name (or ``"body"``) and its bytes."""

    name: str
    data: bytes


class BodyLimit:
    """ASGI middleware: refuse a body over ``limits.max_upload_bytes`` before reading it whole."""

    def __init__(self, app: ASGIApp, limits: Limits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.max_upload_bytes
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _refuse(send, 413, _too_large(limit, f"{int(declared):,} bytes"))
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            try:
                message = await asyncio.wait_for(receive(), self.limits.body_timeout)
            except asyncio.TimeoutError:  # TimeoutError itself from Python 3.11
                raise HTTPException(
                    408, f"the request body did not arrive within {self.limits.body_timeout:g} s"
                ) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, _too_large(limit, f"more than {limit:,} bytes"))
            return message

        await self.app(scope, limited, send)


def _too_large(limit: int, given: str) -> str:
    return f"the request body may be at most {limit:,} bytes; got {given}"


async def _refuse(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    # the client may still be sending the body it declared: close rather than read it
    headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def read_uploads(request: Request, limits: Limits) -> list[Upload]:
    """Return the pictures in ``request``: the parts of its form, or its raw image body.

    Raises
    ------
    fastapi.HTTPException
        400 for an empty body, a form with no picture, a field other than
        ``files`` or too many pictures; 415 for a body of another type.
    """
    media, options = parse_options_header(request.headers.get("content-type"))
    body = await request.body()
    if not body:
        raise HTTPException(400, f"the request has no body: {_HOW}")
    if media == b"multipart/form-data":
        boundary = options.get(b"boundary")
        if not boundary:
            raise HTTPException(400, "the multipart request has no boundary in its Content-Type")
        uploads = _form_files(body, boundary, limits.max_files)
    elif media.startswith(_IMAGE_TYPES):
        uploads = [Upload("body", body)]
    else:
        given = media.decode("latin-1") or "none"
        raise HTTPException(415, f"cannot read a body of type {given}: {_HOW}")
    if not uploads:
        raise HTTPException(400, f"the form has no picture: {_HOW}")
    return uploads


_HOW = f"send pictures as multipart/form-data in fields named {FIELD!r}, or one as an image body"


class _Part:
    def __init__(self) -> None:
        self.headers: dict[bytes, bytes] = {}
        self.field = b""
        self.value = b""
        self.data = bytearray()


def _form_files(body: bytes, boundary: bytes, max_files: int) -> list[Upload]:
    """Parse a multipart body in memory; every part must be a picture in the field ``files``."""
    parts: list[_Part] = []

    def begin() -> None:
        if len(parts) >= max_files:
            raise HTTPException(400, f"at most {max_files} pictures may be sent in one request")
        parts.append(_Part())

    def header_field(data: bytes, start: int, end: int) -> None:
        parts[-1].field += data[start:end]

    def header_value(data: bytes, start: int, end: int) -> None:
        parts[-1].value += data[start:end]

    def header_end() -> None:
        part = parts[-1]
        part.headers[part.field.lower()] = part.value
        part.field, part.value = b"", b""

    def part_data(data: bytes, start: int, end: int) -> None:
        parts[-1].data += data[start:end]

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": begin,
            "on_header_field": header_field,
            "on_header_value": header_value,
            "on_header_end": header_end,
            "on_part_data": part_data,
        },
    )
    try:
        parser.write(body)
        parser.finalize()
    except HTTPException:
        raise
    except Exception as error:  # python-multipart's parse errors
        raise HTTPException(400, f"the multipart body is malformed: {error}") from None
    uploads = []
    for index, part in enumerate(parts):
        _, disposition = parse_options_header(part.headers.get(b"content-disposition"))
        field = disposition.get(b"name", b"").decode("utf-8", "replace")
        if field != FIELD:
            raise HTTPException(400, f"form field {field!r} is not read: {_HOW} (part {index + 1})")
        name = disposition.get(b"filename", b"").decode("utf-8", "replace")
        uploads.append(Upload(name or f"part {index + 1}", bytes(part.data)))
    return uploads
