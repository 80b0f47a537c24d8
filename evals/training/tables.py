"""The reader's training tables: every question's candidate sentences, through the real pipeline.

Each training document is ingested once into a collection of its own (``train-<document>``, in the eval
data directory that ``make eval`` shares), so a question meets the candidates the service would show it:
the sentences of its retrieved chunks, in the cheap scorer's order. Each candidate carries its heading path,
the sentence before it, the cheap score, and whether it overlaps the question's gold evidence (or, for a
false premise, the sentence that corrects it); where a short answer lies inside it, its offsets.

The eval suites' dev splits get the same table (``dev``): model selection reads it. Test splits are never
read here. The tables are derived data: written under ``.data/``, not committed, and rebuilt the same way
from the same corpus and index (the pipeline is deterministic).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from evals.corpora import REPO_ROOT
from evals.training.data import TrainingQuestion, load_questions
from evals.training.documents import DOCUMENTS

if TYPE_CHECKING:
    from qa_service.domain import Evidence
    from qa_service.services import Services

TABLES_DIR = REPO_ROOT / ".data" / "training-tables"
Span = tuple[int, int]


@dataclass(slots=True)
class Candidate:
    text: str
    heading: str
    previous: str
    cheap: float  # the cheap scorer's score (the order the service reads candidates in)
    gold: bool  # overlaps gold evidence (or the correcting sentence of a false premise)
    short: Span | None = None  # the short answer's offsets inside ``text``
    retrieved: bool = True  # False: a gold sentence retrieval missed, added for training only


@dataclass(slots=True)
class TableRow:
    set: str  # "train", "validation", or "dev:<suite>"
    id: str
    document: str
    kind: str
    answerable: bool
    question: str
    candidates: list[Candidate] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @staticmethod
    def from_json(line: str) -> TableRow:
        data = json.loads(line)
        data["candidates"] = [
            Candidate(**{**c, "short": tuple(c["short"]) if c["short"] else None}) for c in data["candidates"]
        ]
        return TableRow(**data)


def collection_of(document: str) -> str:
    return f"train-{document.replace('.', '-')}"


def _overlaps(a: Span, b: Span) -> bool:
    return a[0] < b[1] and b[0] < a[1]


class _Previous:
    """The sentence before a span, from the document's sentence spans (as the ranker reads them)."""

    def __init__(self, text: str, spans: list[tuple[int, int]]) -> None:
        self._text = text
        self._before = {start: spans[i - 1] for i, (start, _) in enumerate(spans) if i > 0}

    def of(self, start: int) -> str:
        span = self._before.get(start)
        return self._text[span[0] : span[1]] if span else ""


def _document_view(services: Services, collection: str) -> tuple[str, str, _Previous]:
    """(document id, stored text, previous-sentence lookup) of a one-document collection."""
    from qa_service.answering.evidence import CachedDocument

    store = services.store
    (doc_id,) = store.ready_documents(collection)
    document = store.get_document(collection, doc_id)
    cached = CachedDocument.of(document)
    spans = [(int(s), int(e)) for s, e in cached.spans]
    return doc_id, document.text, _Previous(document.text, spans)


def _candidates(evidence: list[Evidence], gold: list[Span], short: Span | None, previous: _Previous) -> list[Candidate]:
    out = []
    for e in evidence:
        span = (e.start, e.end)
        inside = None
        if short is not None and e.start <= short[0] and short[1] <= e.end:
            inside = (short[0] - e.start, short[1] - e.start)
        out.append(
            Candidate(
                text=e.text,
                heading=e.heading_path,
                previous=previous.of(e.start),
                cheap=e.score,
                gold=any(_overlaps(span, g) for g in gold),
                short=inside,
            )
        )
    return out


def question_rows(services: Services, on_question: Callable[[str], None] | None = None) -> Iterator[TableRow]:
    """Rows of every training and validation question (instructions have no candidates: they are refused
    before retrieval, and their classifier is not the reader)."""
    top_k = services.settings.retrieval.top_k
    questions = load_questions()
    by_document: dict[str, list[TrainingQuestion]] = {}
    for q in questions:
        by_document.setdefault(q.document, []).append(q)
    for doc in DOCUMENTS:
        if doc.name not in by_document:
            continue
        collection = collection_of(doc.name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report = services.ingestor.ingest_paths([doc.file()], collection=collection)
        if any(r.outcome == "failed" for r in report.results):
            raise RuntimeError(f"{doc.name} failed to ingest: {report.results[0].error}")
        _, text, previous = _document_view(services, collection)
        for q in by_document[doc.name]:
            if q.kind == "instruction":
                continue
            # The offsets the data carries (checked against the stored text by tests/test_training_data.py).
            gold = list(q.spans) or ([q.correction_span] if q.correction_span else [])
            short = q.short_span if q.answerable else None
            assessment = services.answerer.assess(q.question, collection=collection, top_k=top_k)
            row = TableRow(doc.split, q.id, doc.name, q.kind, q.answerable, q.question)
            row.candidates = _candidates(assessment.evidence, gold, short, previous)
            found = {c.text for c in row.candidates if c.gold}
            for g in gold:  # gold retrieval missed: a training example all the same, never scored as found
                if text[g[0] : g[1]] not in found:
                    inside = (short[0] - g[0], short[1] - g[0]) if short and g[0] <= short[0] < g[1] else None
                    row.candidates.append(
                        Candidate(text[g[0] : g[1]], "", previous.of(g[0]), -1.0, True, inside, retrieved=False)
                    )
            if on_question:
                on_question(q.id)
            yield row


def dev_rows(services: Services, on_question: Callable[[str], None] | None = None) -> Iterator[TableRow]:
    """Rows of every eval dev suite's cases (never a test split), through the eval indexes."""
    from evals.metrics import gold_locations, locate
    from evals.train import all_dev_suites, dev_cases

    top_k = services.settings.retrieval.top_k
    lookups: dict[str, _PreviousLookup] = {}
    for dev in dev_cases(services, all_dev_suites()):
        case = dev.case
        if case.category == "instruction":
            continue
        gold = gold_locations(case, dev.texts) if case.answerable else []
        if case.gold_correction is not None:
            gold = [locate(case.id, case.gold_correction.evidence, dev.texts)]
        assessment = services.answerer.assess(case.question, collection=dev.collection, top_k=top_k)
        previous = lookups.setdefault(dev.collection, _PreviousLookup(services, dev.collection))
        row = TableRow(f"dev:{dev.suite}", case.id, dev.collection, case.category, case.answerable, case.question)
        for e in assessment.evidence:
            spans = [(g[1], g[2]) for g in gold if g[0] == e.document_id]
            short = None
            if case.answerable and case.gold_answers:
                low = e.text.lower()
                at = next((low.find(a.lower()) for a in case.gold_answers if a.lower() in low), -1)
                if at >= 0 and any(_overlaps((e.start, e.end), s) for s in spans):
                    answer = next(a for a in case.gold_answers if a.lower() in low)
                    short = (at, at + len(answer))
            row.candidates.append(
                Candidate(
                    text=e.text,
                    heading=e.heading_path,
                    previous=previous.of(e.document_id, e.start),
                    cheap=e.score,
                    gold=any(_overlaps((e.start, e.end), s) for s in spans),
                    short=short,
                )
            )
        if on_question:
            on_question(case.id)
        yield row


class _PreviousLookup:
    """The sentence before a span, per document of a collection (loaded once each)."""

    def __init__(self, services: Services, collection: str) -> None:
        self._services = services
        self._collection = collection
        self._docs: dict[str, _Previous] = {}

    def of(self, document_id: str, start: int) -> str:
        if document_id not in self._docs:
            from qa_service.answering.evidence import CachedDocument

            document = self._services.store.get_document(self._collection, document_id)
            spans = [(int(s), int(e)) for s, e in CachedDocument.of(document).spans]
            self._docs[document_id] = _Previous(document.text, spans)
        return self._docs[document_id].of(start)


def write_rows(rows: Iterator[TableRow], path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    n = 0
    with tmp.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(row.to_json() + "\n")
            n += 1
    tmp.replace(path)
    return n


def read_rows(path: Path) -> list[TableRow]:
    return [TableRow.from_json(line) for line in path.read_text(encoding="utf-8").splitlines() if line]

