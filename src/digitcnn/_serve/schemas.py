"""The JSON the API answers with: pydantic models, so that its OpenAPI schema documents them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

__all__ = ["DigitResult", "Digits", "Error", "Health", "NumberResult", "Numbers"]


class DigitResult(BaseModel):
    """What was read from one picture of one digit."""

    name: str = Field(description='The file name the picture was sent with, or "body".')
    status: Literal["ok", "unsure", "empty"] = Field(
        description='"ok": a confident answer; "unsure": the best guess is below '
        'min_confidence; "empty": the picture has no ink.'
    )
    label: int | None = Field(description='The digit, 0-9; null unless the status is "ok".')
    confidence: float | None = Field(
        description='The probability of the most likely digit; null when "empty".'
    )
    probabilities: list[float] | None = Field(
        description='The probabilities of the digits 0-9; null when "empty".'
    )
    image: str | None = Field(
        default=None,
        description="With ?image=true: the 28x28 picture the model saw, a base64 PNG.",
    )


class Digits(BaseModel):
    """The answer to POST /api/v1/digits: one result per picture, in the order sent."""

    results: list[DigitResult]


class NumberResult(BaseModel):
    """The number read from one picture, as ``DigitClassifier.read_digits`` reads it."""

    name: str = Field(description='The file name the picture was sent with, or "body".')
    text: str = Field(description='The digits left to right, "?" for an unsure one; "" if no ink.')
    digits: list[int | None] = Field(description="Each digit; null for an unsure one.")
    confidences: list[float] = Field(description="The probability of each digit.")
    boxes: list[tuple[int, int, int, int]] = Field(
        description="Each digit's box in the picture: top, left, bottom, right (exclusive)."
    )
    width: int = Field(description="The picture's width in pixels, for drawing the boxes.")
    height: int = Field(description="The picture's height in pixels.")


class Numbers(BaseModel):
    """The answer to POST /api/v1/numbers: one result per picture, in the order sent."""

    results: list[NumberResult]


class Health(BaseModel):
    """The answer to GET /healthz."""

    status: Literal["ok"]
    version: str = Field(description="digitcnn's version.")
    model: str = Field(description='The model file served, or "pretrained".')


class Error(BaseModel):
    """Every error: a message that says what was expected and what was sent."""

    detail: str
