"""Thresholds from ``evals/thresholds.toml`` and the check that gates CI."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

THRESHOLDS_FILE = Path(__file__).resolve().parent / "thresholds.toml"


def load_thresholds(suite: str, path: Path = THRESHOLDS_FILE) -> dict[str, Any]:
    with path.open("rb") as handle:
        return dict(tomllib.load(handle)[suite])


def gate_failures(summary: dict[str, float], thresholds: dict[str, Any]) -> list[str]:
    """Human-readable failures; empty when every metric meets its threshold."""
    failures = []
    for metric, floor in thresholds.get("min", {}).items():
        if summary[metric] < floor:
            failures.append(f"{metric} = {summary[metric]:.3f} is below the minimum {floor}")
    for metric, ceiling in thresholds.get("max", {}).items():
        if summary[metric] > ceiling:
            failures.append(f"{metric} = {summary[metric]:.3f} is above the maximum {ceiling}")
    return failures
