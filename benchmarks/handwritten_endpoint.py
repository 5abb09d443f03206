"""The endpoint a user writes by hand, for ``serve.py`` to compare with: Keras on each request.

What tutorials show: FastAPI (as Flask would), the picture opened with
Pillow, shrunk to 28x28 and inverted, and ``model.predict`` called once per
request, in FastAPI's thread pool (a plain ``def`` endpoint)::

    python benchmarks/handwritten_endpoint.py --port 8001
"""

from __future__ import annotations

import argparse
import importlib.resources

import keras
import numpy as np
import uvicorn
from fastapi import FastAPI, UploadFile
from PIL import Image

app = FastAPI()
model = keras.models.load_model(
    importlib.resources.files("digitcnn") / "pretrained" / "mnist.keras"
)


@app.post("/predict")
def predict(files: UploadFile) -> dict[str, object]:
    image = Image.open(files.file).convert("L").resize((28, 28))
    x = 1.0 - np.asarray(image, dtype="float32")[None, :, :, None] / 255.0
    probabilities = model.predict(x, verbose=0)[0]
    return {"label": int(probabilities.argmax()), "probabilities": probabilities.tolist()}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8001)
    uvicorn.run(app, host="127.0.0.1", port=parser.parse_args().port, log_level="warning")
