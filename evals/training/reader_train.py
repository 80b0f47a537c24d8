"""``make train``'s reader step and the learning curve: fit, measure on validation documents and dev splits.

Figures, for the reader and beside it the cheap scorer it reads after:
- gold first: share of answerable questions whose best-scored candidate overlaps gold evidence (a
  question whose gold sentence retrieval missed counts as a miss);
- unanswerable AUC: how well the best candidate's score separates answerable questions from near misses;
- the claim judge on the validation documents' claim pairs: unsupported claims caught, paraphrases accepted.
Test splits are never read.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from evals.training.data import load_claims
from evals.training.documents import BY_NAME
from evals.training.reader_fit import (
    FitConfig,
    fit_reader,
    gold_first,
    judge_figures,
    score_rows,
    unanswerable_auc,
)
from evals.training.tables import TABLES_DIR, TableRow, read_rows

CURVE_FILE = Path(__file__).parent / "learning_curve.jsonl"
CAP = 16  # candidates the reader reads per question: the cheap scorer's best (as the service does)


def load_tables() -> tuple[list[TableRow], list[TableRow], list[TableRow]]:
    """(training rows, validation rows, eval dev rows)."""
    rows = read_rows(TABLES_DIR / "questions.jsonl")
    dev_path = TABLES_DIR / "dev.jsonl"
    dev = read_rows(dev_path) if dev_path.exists() else []
    return [r for r in rows if r.set == "train"], [r for r in rows if r.set == "validation"], dev


def _corpus(row: TableRow) -> str:
    return row.set.split(":", 1)[1].split(".")[0].split("_dev")[0] if row.set.startswith("dev:") else row.set


def measure(network: Any, tokenizer: Any, validation: list[TableRow], dev: list[TableRow], cap: int = CAP) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    groups: dict[str, list[TableRow]] = {"validation": validation}
    for row in dev:
        groups.setdefault(f"dev:{_suite_corpus(row.set)}", []).append(row)
    for name, rows in groups.items():
        scored = score_rows(network, tokenizer, rows, cap)
        first, n = gold_first(scored)
        figures[name] = {
            "answerable": n,
            "questions": len(rows),
            "gold_first": round(first, 3),
            "gold_first_cheap": round(gold_first(scored, cheap=True)[0], 3),
            "unanswerable_auc": round(unanswerable_auc(scored), 3),
            "unanswerable_auc_cheap": round(unanswerable_auc(scored, cheap=True), 3),
        }
    return figures


def _suite_corpus(suite_set: str) -> str:
    """'dev:r_intro_dev2' -> 'r_intro'; 'dev:seed' -> 'seed'."""
    suite = suite_set.split(":", 1)[1]
    for tail in ("_dev2", "_dev"):
        suite = suite.removesuffix(tail)
    return suite


def validation_claims() -> list[Any]:
    return [c for c in load_claims() if BY_NAME[c.document].split == "validation"]


def training_claims() -> list[Any]:
    return [c for c in load_claims() if BY_NAME[c.document].split == "train"]


def learning_curve(
    sizes: list[int], config: FitConfig, on_point: Callable[[dict[str, Any]], None] | None = None
) -> list[dict[str, Any]]:
    """One fit per size (the same seed's random subset of training questions; claims in proportion)."""
    train, validation, dev = load_tables()
    claims = training_claims()
    points = []
    for size in sizes:
        n = min(size, len(train))
        share = n / max(1, len(train))
        subset_claims = claims[: max(1, round(len(claims) * share))]
        network, tokenizer = fit_reader(train, subset_claims, replace(config, max_questions=n))
        point = {
            "training_questions": n,
            "training_claims": len(subset_claims),
            "config": asdict(replace(config, max_questions=n)),
            **measure(network, tokenizer, validation, dev),
            "judge_validation": judge_figures(network, tokenizer, validation_claims()),
        }
        points.append(point)
        if on_point:
            on_point(point)
    return points


def append_point(point: dict[str, Any], path: Path = CURVE_FILE) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(point, sort_keys=True) + "\n")
