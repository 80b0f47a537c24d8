"""Validate datasets against the text the service stores, and dump that text for people writing cases.

The stored text is what ``prepare_document`` makes of each corpus file (loading and cleaning, no model),
the same text ``GET /documents/{id}/text`` returns after ingestion.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from evals.corpora import corpus_files
from evals.dataset import EvalCase, load_dataset
from evals.spans import found_in_any
from qa_service.domain import Document
from qa_service.ingest.pipeline import prepare_document, source_name

# Shares of a corpus's cases each kind must reach (issue 11): near-misses, false premises with their
# correction, instructions or other non-questions, and answers that need two passages.
MIN_SHARES = {"near_miss": 0.20, "false_premise": 0.10, "instruction": 0.05, "multi_passage": 0.10}


def corpus_documents(corpus: str) -> list[Document]:
    """Every file of a corpus, loaded and cleaned as ingestion would (unreadable files are skipped)."""
    documents = []
    for path in corpus_files(corpus):
        documents.append(prepare_document(path.read_bytes(), source_name(path)))
    return documents


def check_cases(cases: list[EvalCase], documents: list[Document]) -> list[str]:
    """Problems a person must fix: evidence not in the stored text, answers not in their evidence, ..."""
    problems = []
    located = found_in_any([d.text for d in documents])

    for case in cases:
        where = f"{case.id}"
        if case.answerable and not (case.gold_answers and case.gold_evidence):
            problems.append(f"{where}: answerable but without gold answers and evidence")
        if not case.answerable and (case.gold_answers or case.gold_evidence):
            problems.append(f"{where}: unanswerable cases keep gold_answers and gold_evidence empty")
        for evidence in case.gold_evidence:
            if not located(evidence):
                problems.append(f"{where}: evidence not found in the stored text: {evidence[:70]!r}")
        for answer in case.gold_answers:
            if not any(answer.lower() in e.lower() for e in case.gold_evidence):
                problems.append(f"{where}: gold answer {answer!r} is in none of its evidence strings")
        if case.category == "false_premise":
            if case.gold_correction is None:
                problems.append(f"{where}: a false premise needs gold_correction")
            else:
                if case.gold_correction.text.lower() not in case.gold_correction.evidence.lower():
                    problems.append(f"{where}: gold_correction.text is not in gold_correction.evidence")
                if not located(case.gold_correction.evidence):
                    problems.append(f"{where}: correction evidence not found: {case.gold_correction.evidence[:70]!r}")
        if case.category in ("adversarial", "instruction") and not case.must_not_contain and not case.answerable:
            problems.append(f"{where}: {case.category} cases set must_not_contain")
        if case.category == "multi_passage" and len(case.gold_evidence) < 2:
            problems.append(f"{where}: a multi_passage case has at least two evidence strings")
    return problems


def share_problems(cases: list[EvalCase]) -> list[str]:
    counts: Counter[str] = Counter(c.category for c in cases)
    return [
        f"{category}: {counts[category]}/{len(cases)} is below {share:.0%}"
        for category, share in MIN_SHARES.items()
        if counts[category] < share * len(cases)
    ]


def check_dataset(path: Path) -> tuple[list[EvalCase], list[str]]:
    cases = load_dataset(path)
    corpora = {c.corpus for c in cases}
    documents = [d for corpus in sorted(corpora) for d in corpus_documents(corpus)]
    return cases, check_cases(cases, documents)


def dump_corpus_text(corpus: str, out: Path) -> list[Path]:
    """Write each document's stored text to ``out`` (one .txt per file), for reading and grepping."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for number, document in enumerate(corpus_documents(corpus), 1):
        name = Path(document.source).name
        target = out / f"{number:03d}_{name}.txt"
        target.write_text(document.text, encoding="utf-8")
        written.append(target)
    return written
