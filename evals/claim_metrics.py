"""Per-case checks for attribution, conflict and synthesis cases (``evals/datasets/seed_claims.jsonl``).

- attribution_correct: the answer sentence citing the gold evidence names one of ``gold_speakers``.
- conflict_recall: share of ``conflict_sides`` (evidence strings, one per side) that the response's
  structured ``conflicts`` cite; conflict_both_sides: all of them cited.
- false_conflict: ``conflicts`` is non-empty for a case whose sources do not disagree (expect_conflict false).
- synthesis_evidence_cited: share of a synthesis case's gold evidence spans a citation overlaps;
  synthesis_sentences_cited: share of the answer's sentences that carry a citation marker.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from evals.dataset import EvalCase
from qa_service.domain import CITATION_MARKER

Span = tuple[str, int, int]
_SENTENCE = re.compile(r"(?<=[.!?])[”\"’')\]]*\s+(?=[A-Z“\"‘])")


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(str.maketrans("’‘“”", "''\"\""))
    return " ".join(text.lower().split())


def _locate(evidence: str, texts: dict[str, str]) -> Span | None:
    for doc_id, text in texts.items():
        start = text.find(evidence)
        if start >= 0:
            return (doc_id, start, start + len(evidence))
    return None


def _cited_by(span: Span, citations: list[dict[str, Any]]) -> set[int]:
    doc_id, start, end = span
    return {int(c["index"]) for c in citations if c["document_id"] == doc_id and c["start"] < end and start < c["end"]}


def answer_sentences(answer: str) -> list[str]:
    return [s for s in _SENTENCE.split(answer.strip()) if s.strip()]


def claim_case_scores(case: EvalCase, response: dict[str, Any], texts: dict[str, str]) -> dict[str, float]:
    """The claim metrics that apply to this case (none for ordinary cases)."""
    scores: dict[str, float] = {}
    answered = case.answerable and not response.get("refused")
    answer = str(response.get("answer", ""))
    citations = list(response.get("citations", []))
    if case.gold_speakers:
        scores["attribution_correct"] = _attributed(case, answer, citations, texts) if answered else 0.0
    if case.conflict_sides:
        cited_by_sides = {i for c in response.get("conflicts", []) for side in c["sides"] for i in side["citations"]}
        found = 0
        for evidence in case.conflict_sides:
            span = _locate(evidence, texts)
            found += span is not None and bool(_cited_by(span, citations) & cited_by_sides)
        scores["conflict_recall"] = found / len(case.conflict_sides)
        scores["conflict_both_sides"] = float(found == len(case.conflict_sides))
    if case.expect_conflict is False:
        scores["false_conflict"] = float(bool(response.get("conflicts")))
    if case.category == "synthesis":
        spans = [_locate(e, texts) for e in case.gold_evidence]
        scores["synthesis_evidence_cited"] = sum(s is not None and bool(_cited_by(s, citations)) for s in spans) / len(
            spans
        )
        sentences = answer_sentences(answer)
        marked = sum(bool(CITATION_MARKER.search(s)) for s in sentences)
        scores["synthesis_sentences_cited"] = marked / len(sentences) if sentences and answered else 0.0
        scores["synthesis_sentences"] = float(len(sentences)) if answered else 0.0
    return scores


def _attributed(case: EvalCase, answer: str, citations: list[dict[str, Any]], texts: dict[str, str]) -> float:
    """1.0 when a sentence of the answer that cites the gold evidence names a gold speaker."""
    cited: set[int] = set()
    for evidence in case.gold_evidence:
        span = _locate(evidence, texts)
        if span is not None:
            cited |= _cited_by(span, citations)
    speakers = [_norm(s) for s in case.gold_speakers]
    for sentence in answer_sentences(answer):
        markers = {int(n) for n in CITATION_MARKER.findall(sentence)}
        if markers & cited and any(s in _norm(sentence) for s in speakers):
            return 1.0
    return 0.0


# The summary metric of each per-case score (its mean over the cases that have it).
SUMMARY_NAMES = {
    "attribution_correct": "attribution_accuracy",
    "conflict_recall": "conflict_recall",
    "conflict_both_sides": "conflict_both_sides",
    "false_conflict": "false_conflict_rate",
    "synthesis_evidence_cited": "synthesis_citation_coverage",
    "synthesis_sentences_cited": "synthesis_sentences_cited",
    "synthesis_sentences": "synthesis_sentences_mean",
}


def summarize_claims(per_case: list[dict[str, float]]) -> dict[str, float]:
    out = {}
    for key, name in SUMMARY_NAMES.items():
        values = [scores[key] for scores in per_case if key in scores]
        if values:
            out[name] = sum(values) / len(values)
    return out
