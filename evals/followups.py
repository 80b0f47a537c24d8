"""The follow-up suite: two-turn conversations whose second question lacks its subject
(evals/datasets/followups.{dev,test}.jsonl, written from the gettext, Node.js and FHS corpora's text, and
followups.dev2.jsonl from the man pages, python-docs and R; dev3 to dev5 and two standalone files from python-docs and
Node.js).

A rewrite is right when it holds every one of the case's ``rewrite_terms``: the words any correct standalone
question must carry over from the first turn (the omitted subject, or the swapped-in one and what is asked
about it). The rewriter reads the conversation only, so this needs no index. The test split is gated in
thresholds.toml ([followups]); tune on dev only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa_service.answering.followup import rewrite_followup

DATASETS = Path(__file__).parent / "datasets"


@dataclass(frozen=True, slots=True)
class Message:
    role: str
    content: str


def load_cases(split: str) -> list[dict[str, Any]]:
    path = DATASETS / f"followups.{split}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def rewritten_right(case: dict[str, Any]) -> bool:
    """The rewrite holds every ``rewrite_terms`` entry; a follow-up that stands alone (``stands_alone``) is right
    when it is left as it is."""
    standalone = rewrite_followup(case["question"], [Message(**m) for m in case["history"]])
    if case.get("stands_alone"):
        return standalone is None
    return standalone is not None and all(t.lower() in standalone.lower() for t in case["rewrite_terms"])


def figures(split: str) -> dict[str, float]:
    cases = load_cases(split)
    right = sum(rewritten_right(c) for c in cases)
    return {"conversations": len(cases), "rewritten_right": round(right / len(cases), 3)}
