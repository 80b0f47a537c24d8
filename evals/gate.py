"""Thresholds from ``evals/thresholds.toml`` and the check that gates CI."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from evals.harness import DENSE_ONLY, SuiteRun

THRESHOLDS_FILE = Path(__file__).resolve().parent / "thresholds.toml"


def load_suites(path: Path = THRESHOLDS_FILE) -> dict[str, dict[str, Any]]:
    """Suite name -> {"dataset", "min", "max", "min_ratio_vs_dense"}."""
    with path.open("rb") as handle:
        return dict(tomllib.load(handle)["suites"])


def gate_failures(
    summary: dict[str, float], thresholds: dict[str, Any], baseline: dict[str, float] | None = None
) -> list[str]:
    """Human-readable failures; empty when every metric meets its threshold."""
    failures = []
    for metric, floor in thresholds.get("min", {}).items():
        if summary.get(metric, 0.0) < floor:
            failures.append(f"{metric} = {summary.get(metric, 0.0):.3f} is below the minimum {floor}")
    for metric, ceiling in thresholds.get("max", {}).items():
        if summary.get(metric, 0.0) > ceiling:
            failures.append(f"{metric} = {summary.get(metric, 0.0):.3f} is above the maximum {ceiling}")
    for metric, ratio in thresholds.get("min_ratio_vs_dense", {}).items():
        if baseline is None:
            failures.append(f"{metric}: the dense-only baseline did not run, so the ratio cannot be checked")
            continue
        base = baseline.get(metric, 0.0)
        got = summary.get(metric, 0.0) / base if base else float("inf")
        if got < ratio:
            failures.append(f"{metric} ratio vs dense-only = {got:.2f} is below the minimum {ratio}")
    return failures


def gate_run(run: SuiteRun, thresholds: dict[str, Any]) -> list[str]:
    """Gate a suite on our first (default-mode) system and the dense-only baseline."""
    dense = run.system(DENSE_ONLY)
    return gate_failures(run.systems[0].summary, thresholds, dense.summary if dense else None)
