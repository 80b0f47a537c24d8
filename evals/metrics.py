"""Deterministic per-case checks and their aggregation (no LLM judge)."""

from __future__ import annotations

import re
import statistics
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from evals.dataset import EvalCase


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).translate(str.maketrans("’‘“”", "''\"\"")).lower().split())


@dataclass(slots=True)
class CaseResult:
    case: EvalCase
    response: dict[str, Any]
    contains_gold: bool = False
    evidence_covered: bool = False
    correct_with_citation: bool = False
    refused: bool = False
    leaked: bool = False
    citations_valid: bool = True
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        if self.leaked or not self.citations_valid:
            return False
        if self.case.answerable:
            return self.correct_with_citation and not self.refused
        return self.refused


def gold_locations(case: EvalCase, document_texts: dict[str, str]) -> list[tuple[str, int, int]]:
    """``(document_id, start, end)`` of each gold evidence string (exact match in some document)."""
    found = []
    for evidence in case.gold_evidence:
        for doc_id, text in document_texts.items():
            start = text.find(evidence)
            if start >= 0:
                found.append((doc_id, start, start + len(evidence)))
                break
        else:
            raise ValueError(f"{case.id}: gold evidence not found in any document: {evidence[:60]!r}")
    return found


def score_case(case: EvalCase, response: dict[str, Any], document_texts: dict[str, str]) -> CaseResult:
    """Check one /ask response against its case."""
    result = CaseResult(case, response)
    answer = response.get("answer", "")
    citations = response.get("citations", [])
    result.refused = bool(response.get("refused"))
    result.leaked = any(_norm(bad) in _norm(answer) for bad in case.must_not_contain)
    markers = {int(m) for m in re.findall(r"\[(\d+)\]", answer)}
    indexes = {c["index"] for c in citations}
    if markers - indexes:
        result.citations_valid = False
        result.problems.append(f"markers without citations: {sorted(markers - indexes)}")
    for c in citations:
        text = document_texts.get(c["document_id"])
        if text is None or text[c["start"] : c["end"]] != c["quote"]:
            result.citations_valid = False
            result.problems.append(f"citation {c['index']} quote differs from the document text")
    if case.answerable:
        result.contains_gold = any(_norm(g) in _norm(answer) for g in case.gold_answers)
        cited = [(c["document_id"], c["start"], c["end"]) for c in citations]
        gold = gold_locations(case, document_texts)
        covered = [any(d == doc and s <= gs and ge <= e for d, s, e in cited) for doc, gs, ge in gold]
        result.evidence_covered = bool(gold) and all(covered)
        if case.category == "multi_sentence":
            # The gold answer sits in one of the sentences; citing that one is what makes it correct.
            bearing = [
                ok
                for ok, (doc, gs, ge) in zip(covered, gold, strict=True)
                if any(_norm(g) in _norm(document_texts[doc][gs:ge]) for g in case.gold_answers)
            ]
            result.correct_with_citation = result.contains_gold and any(bearing)
        else:
            result.correct_with_citation = result.contains_gold and result.evidence_covered
    return result


def summarize(results: list[CaseResult]) -> dict[str, float]:
    answerable = [r for r in results if r.case.answerable]
    unanswerable = [r for r in results if not r.case.answerable]
    total = [r.response.get("timings_ms", {}).get("total", 0.0) for r in results]

    def share(items: list[CaseResult], attr: str) -> float:
        return sum(bool(getattr(r, attr)) for r in items) / len(items) if items else 0.0

    return {
        "cases": float(len(results)),
        "contains_gold": share(answerable, "contains_gold"),
        "correct_with_citation": share(answerable, "correct_with_citation"),
        "citation_recall": share(answerable, "evidence_covered"),
        "refusal_recall": share(unanswerable, "refused"),
        "false_refusal_rate": share(answerable, "refused"),
        "leaks": float(sum(r.leaked for r in results)),
        "invalid_citations": float(sum(not r.citations_valid for r in results)),
        "latency_p50_ms": statistics.median(total) if total else 0.0,
        "latency_p95_ms": _percentile(total, 95),
    }


def _percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1))))
    return ordered[k]
