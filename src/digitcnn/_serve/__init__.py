"""``digitcnn serve``: the web page and the HTTP API, on FastAPI and uvicorn (the ``serve`` extra).

- ``app``: :func:`create_app`, the FastAPI application: the page, ``/api/v1``
  and ``/healthz``;
- ``batching``: requests that arrive together are predicted in one model call;
- ``uploads``: request bodies read within their limits, pictures taken out of them;
- ``schemas``: the JSON the API answers with, which its OpenAPI schema documents;
- ``page/``: the page's HTML, JavaScript and CSS, served by the app (no CDN).
"""
