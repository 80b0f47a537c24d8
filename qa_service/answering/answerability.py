"""Does the evidence answer the question? A trained, calibrated model decides, not a chain of vetoes.

The features describe the question and its ranked evidence: how close the best sentences are in meaning,
how much of the question's key terms (IDF-weighted) and names they hold, whether they hold the asked-for
type of answer, the heading path, the margin to the runners-up, and the signals of ``signals.py`` (a name
no passage mentions, a number the passage lacks, an opposite premise, ...) as inputs rather than as
vetoes. A logistic regression over them, fitted by ``make train`` on the dev splits only
(``evals/train.py``), gives the probability that the documents answer the question; its parameters are
JSON data (``data/answerability.json``, never a pickle) and the refusal threshold is the operating point
chosen on dev for a stated refusal precision, overridable in settings (``QA_ANSWERING__REFUSAL_THRESHOLD``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Protocol

from qa_service.answering.linear import LogisticModel
from qa_service.answering.policy import TOP
from qa_service.answering.signals import CONTRADICTION_SIGNALS, PREMISE_SIGNALS, SIGNALS, VETOES, Context
from qa_service.domain import Evidence
from qa_service.text import stem_terms

MODEL_FILE = Path(__file__).with_name("data") / "answerability.json"


@dataclass(frozen=True, slots=True)
class AnswerabilityFeatures:
    """The model's inputs, in the order of its coefficients."""

    best_score: float
    chosen_semantic: float
    top_semantic: float
    chosen_lexical: float
    top_lexical: float
    chosen_type: float
    chosen_names: float
    margin: float
    spread: float
    coverage: float
    heading_coverage: float
    asks_type: float
    asks_names: float
    key_terms: float
    unmentioned_names: float
    off_topic: float
    conflicting_names: float
    missing_numbers: float
    missing_answer_type: float
    opposite_premise: float
    negated_premise: float
    unnamed_answer: float
    only_repeats_question: float
    absent_terms: float  # share of the question's key terms that no chunk of the collection holds
    missing_specificity: float  # how rare in the collection the rarest key term missing from the quote is
    missing_weight: float  # specificity-weighted share of the key terms missing from the quote and its heading
    any_veto: float  # one of the signals that used to veto an answer alone fired (lets the model weigh the "or")
    reader_best: float  # the reader's best logit (> 0: it prefers that sentence to "no answer"); 0 without a reader
    reader_margin: float  # how far the reader's best logit leads the runner-up's

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    def vector(self) -> list[float]:
        return [float(getattr(self, name)) for name in self.names()]


def extract_features(ctx: Context) -> AnswerabilityFeatures:
    evidence, chosen, question = ctx.evidence, ctx.chosen, ctx.question
    top = evidence[:TOP]
    key_terms = set(question.key_terms)
    window = set(stem_terms(ctx.window))
    heading = set(stem_terms(chosen[0].heading_path))
    signals = {name: float(check(ctx) is not None) for name, check in SIGNALS.items()}
    return AnswerabilityFeatures(
        best_score=evidence[0].score,
        chosen_semantic=max(e.features.get("semantic", 0.0) for e in chosen),
        top_semantic=max(e.features.get("semantic", 0.0) for e in top),
        chosen_lexical=max(e.features.get("lexical", 0.0) for e in chosen),
        top_lexical=max(e.features.get("lexical", 0.0) for e in top),
        chosen_type=max(e.features.get("answer_type", 0.0) for e in chosen),
        chosen_names=max(e.features.get("names", 0.0) for e in chosen),
        margin=evidence[0].score - evidence[1].score if len(evidence) > 1 else evidence[0].score,
        spread=evidence[0].score - top[-1].score,
        coverage=len(key_terms & (window | heading)) / len(key_terms) if key_terms else 0.0,
        heading_coverage=len(key_terms & heading) / len(key_terms) if key_terms else 0.0,
        asks_type=float(question.answer_type != "other" or question.counted is not None),
        asks_names=min(len(question.names - ctx.topic_names), 3) / 3.0,
        key_terms=math.log1p(len(key_terms)),
        **signals,
        **_missing_terms(key_terms, window | heading, ctx.term_shares),
        any_veto=float(any(signals[name] for name in VETOES)),
        **_reader_features(evidence),
    )


def _reader_features(evidence: list[Evidence]) -> dict[str, float]:
    logits = sorted((e.features["reader"] for e in evidence if "reader" in e.features), reverse=True)
    if not logits:
        return {"reader_best": 0.0, "reader_margin": 0.0}
    return {"reader_best": logits[0], "reader_margin": logits[0] - logits[1] if len(logits) > 1 else 0.0}


def _specificity(share: float) -> float:
    """1.0 for a term no chunk holds, falling towards 0 as more of the collection holds it."""
    return math.log1p(1.0 / (share + 1e-3)) / math.log1p(1e3)


def _missing_terms(key_terms: set[str], found: set[str], shares: Mapping[str, float]) -> dict[str, float]:
    """A near miss names the topic but not the fact: the key terms the quote lacks, weighed by how specific
    they are in this collection (a term the collection never uses cannot be answered from it)."""
    if not key_terms:
        return {"absent_terms": 0.0, "missing_specificity": 0.0, "missing_weight": 0.0}
    weight = {t: _specificity(shares.get(t, 0.0)) for t in key_terms}
    missing = key_terms - found
    return {
        "absent_terms": sum(shares.get(t, 0.0) == 0.0 for t in key_terms) / len(key_terms),
        "missing_specificity": max((weight[t] for t in missing), default=0.0),
        "missing_weight": sum(weight[t] for t in missing) / (sum(weight.values()) or 1.0),
    }


@dataclass(frozen=True, slots=True)
class AnswerabilityModel:
    """The trained logistic model over ``AnswerabilityFeatures`` and its operating point."""

    model: LogisticModel
    threshold: float  # the operating point chosen on dev (see the file's "operating_point")

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> AnswerabilityModel:
        data = LogisticModel.read(path)
        model = LogisticModel.from_json(data, expected=AnswerabilityFeatures.names(), path=path)
        return cls(model, threshold=float(data["operating_point"]["threshold"]))

    def probability(self, features: AnswerabilityFeatures) -> float:
        return self.model.probability(features.vector())


@dataclass(frozen=True, slots=True)
class Decision:
    answerable: bool
    probability: float
    signals: tuple[str, ...]  # the signals that fired (for the log; never shown to users)
    premise_contradicted: bool  # the evidence says otherwise than the question presupposes


class Refuser(Protocol):
    def decide(self, ctx: Context) -> Decision: ...


class ModelRefuser:
    """Refuse below the calibrated threshold; flag a contradicted premise for correction."""

    def __init__(self, model: AnswerabilityModel, *, threshold: float | None = None, premise_floor: float) -> None:
        self._model = model
        self.threshold = model.threshold if threshold is None else threshold
        self._premise_floor = premise_floor

    def decide(self, ctx: Context) -> Decision:
        features = extract_features(ctx)
        probability = self._model.probability(features)
        fired = tuple(name for name in SIGNALS if getattr(features, name))
        answerable = probability >= self.threshold
        # Refused: any premise signal may mean the evidence says otherwise. Answered: only a quote stating the
        # opposite of the premise turns the answer into a correction.
        signals = CONTRADICTION_SIGNALS if answerable else PREMISE_SIGNALS
        premise = any(name in signals for name in fired) and probability >= self._premise_floor
        return Decision(answerable, round(probability, 4), fired, premise)


class AnswerAll:
    """A refuser that never refuses: for computing features before any model exists (``make train``)."""

    def decide(self, ctx: Context) -> Decision:
        return Decision(True, 1.0, (), False)
