"""Eval cases as data: ``evals/datasets/*.jsonl`` (schema in ``evals/datasets/README.md``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DATASETS_DIR = Path(__file__).resolve().parent / "datasets"
Category = Literal[
    "factual",
    "paraphrase",
    "multi_sentence",
    "near_miss",
    "false_premise",
    "off_topic",
    "adversarial",
    "attribution",
    "conflict",
    "synthesis",
    "instruction",
    "multi_passage",
]
AnswerType = Literal["number", "date", "person", "place", "duration", "value", "name", "other"]


class GoldCorrection(BaseModel):
    """What the documents say instead of a false premise: a short phrase and the exact evidence holding it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = Field(min_length=1, description="The corrected fact; a substring of `evidence`")
    evidence: str = Field(min_length=1, description="Exact text of the document that contradicts the premise")


class EvalCase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    question: str = Field(min_length=1)
    category: Category
    answerable: bool
    gold_answers: list[str] = Field(default_factory=list)
    gold_evidence: list[str] = Field(default_factory=list)
    must_not_contain: list[str] = Field(default_factory=list)
    corpus: str = Field(default="seeds", description="A named corpus (evals/corpora) the harness indexes itself")
    collection: str | None = Field(default=None, description="Or an already indexed collection to ask against")
    note: str = ""
    gold_speakers: list[str] = Field(default_factory=list, description="Who makes the claim (any one named is right)")
    conflict_sides: list[str] = Field(default_factory=list, description="Exact evidence of each side of a conflict")
    expect_conflict: bool | None = Field(default=None, description="Whether the sources disagree on the question")
    gold_correction: GoldCorrection | None = Field(
        default=None, description="For a false premise: the fact that contradicts it, with its evidence"
    )
    answer_type: AnswerType | None = Field(
        default=None, description="What kind of short answer the question asks for (None: not annotated)"
    )

    @property
    def expects_short_answer(self) -> bool:
        return self.answerable and self.answer_type not in (None, "other")


def collection_of(cases: list[EvalCase]) -> tuple[str, str | None]:
    """(collection to ask, corpus to index first or None) for a dataset; one of each per dataset."""
    from evals.corpora import collection_for

    targets = {(c.collection or collection_for(c.corpus), None if c.collection else c.corpus) for c in cases}
    if len(targets) != 1:
        raise ValueError(f"a dataset must target one collection, these cases target {sorted(t[0] for t in targets)}")
    return targets.pop()


def load_dataset(path: Path) -> list[EvalCase]:
    """Parse and validate a JSONL dataset; a bad line names its line number. Lines starting with ``#``
    are the file's header (what the split is and how it may be used), not cases."""
    cases: list[EvalCase] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        try:
            cases.append(EvalCase.model_validate(json.loads(line)))
        except ValueError as exc:
            raise ValueError(f"{path}:{number}: {exc}") from None
    ids = [c.id for c in cases]
    if len(ids) != len(set(ids)):
        raise ValueError(f"{path}: duplicate case ids")
    return cases
