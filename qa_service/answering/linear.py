"""A standardised logistic model read from JSON: the form of every trained part of the answering policy."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class LogisticModel:
    """P(y = 1 | x) = sigmoid(coef · z + intercept) with z = (x - mean) / scale clipped to ±clip, features
    named in coefficient order. The clip keeps the model from extrapolating far past the data it was
    fitted on: one feature at ten standard deviations must not outvote all the others."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    clip: float = math.inf

    @classmethod
    def from_json(cls, data: dict[str, Any], *, expected: Sequence[str], path: Path) -> LogisticModel:
        model = cls(
            features=tuple(data["features"]),
            mean=tuple(data["mean"]),
            scale=tuple(data["scale"]),
            coef=tuple(data["coef"]),
            intercept=float(data["intercept"]),
            clip=float(data.get("clip", math.inf)),
        )
        if model.features != tuple(expected):
            raise ValueError(f"{path} was trained on other features; run `make train`")
        return model

    @staticmethod
    def read(path: Path) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return data

    def logit(self, x: Sequence[float]) -> float:
        return self.intercept + sum(
            w * max(-self.clip, min(self.clip, (v - m) / s))
            for w, v, m, s in zip(self.coef, x, self.mean, self.scale, strict=True)
        )

    def probability(self, x: Sequence[float]) -> float:
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, self.logit(x)))))
