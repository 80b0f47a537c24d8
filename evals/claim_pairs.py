"""Held-out claim pairs (``evals/datasets/claim_pairs.test.jsonl``): (claim, cited evidence, supported or not)
over eval-corpus documents, which the claim judge (``qa_service/answering/judge.py``) never trained on and
whose cases nobody tuned on. Unsupported claims caught and faithful paraphrases accepted are read for the
verifier as served (the claim judge behind the names check, ``verify.support_probability``, at its threshold and
at the strict point auto mode verifies at) beside the lexical checks it replaced (``evals/lexical_verifier.py``);
the test split is gated in thresholds.toml (``[claim_pairs]``). Only aggregates are reported."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from evals.lexical_verifier import lexical_problems
from evals.training.judge_train import figures as figures_at
from qa_service.answering.judge import ClaimJudge
from qa_service.answering.verify import support_probability

DATASETS = Path(__file__).parent / "datasets"


def load_pairs(split: str) -> list[dict[str, Any]]:
    path = DATASETS / f"claim_pairs.{split}.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip() and not line.startswith("#")]


def figures(split: str, judge: ClaimJudge) -> dict[str, Any]:
    pairs = load_pairs(split)
    supported = np.asarray([p["supported"] for p in pairs])
    probability = np.asarray([support_probability(p["claim"], p["evidence"], judge) for p in pairs])
    lexical = np.asarray([not lexical_problems(p["claim"], p["evidence"]) for p in pairs], dtype=float)
    return {
        "pairs": len(pairs),
        "verifier": figures_at(probability, supported, judge.threshold),
        "verifier_strict": figures_at(probability, supported, judge.strict_threshold),  # auto mode's
        "lexical": figures_at(lexical, supported, 0.5),
    }
