"""The training corpus's labeled data: questions and claim pairs, one JSONL file per document and table.

``questions/<document>.jsonl``: one question a line::

    {"id": "man-tar-q001", "document": "man-tar", "question": "...", "kind": "answerable",
     "evidence": ["<exact sentence of the stored text>", ...], "short_answer": "<exact phrase>" | null,
     "answer_type": "number" | ... | "other", "correction": {"text": ..., "evidence": ...} | null}

``claims/<document>.jsonl``: one claim pair a line::

    {"id": "man-tar-c001", "document": "man-tar", "claim": "...", "evidence": ["<exact sentence>", ...],
     "supported": true | false, "kind": "paraphrase" | "negation" | ...}

Evidence strings are found in the stored text as ``evals/spans.py`` finds eval gold (up to whitespace,
NFKC forms and Markdown marks), so the offsets are exact in the text the service stores.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

from evals.spans import find_span

DATA_DIR = Path(__file__).parent
QUESTIONS_DIR = DATA_DIR / "questions"
CLAIMS_DIR = DATA_DIR / "claims"

QuestionKind = Literal["answerable", "multi_sentence", "near_miss", "false_premise", "instruction"]
ClaimKind = Literal[
    "paraphrase", "negation", "swapped_number", "swapped_unit", "swapped_entity", "swapped_option",
    "unsupported_addition", "partial", "wrong_citation", "restatement", "dropped_condition",
]  # fmt: skip
SUPPORTED_CLAIM_KINDS = frozenset({"paraphrase", "restatement"})
AnswerType = Literal["number", "date", "person", "place", "duration", "value", "name", "other"]
ANSWERABLE_KINDS = ("answerable", "multi_sentence")
Span = tuple[int, int]


def _span(value: object) -> Span | None:
    return (int(value[0]), int(value[1])) if isinstance(value, list) and len(value) == 2 else None


@dataclass(frozen=True, slots=True)
class Correction:
    text: str
    evidence: str


@dataclass(frozen=True, slots=True)
class TrainingQuestion:
    id: str
    document: str
    question: str
    kind: QuestionKind
    evidence: tuple[str, ...] = ()
    short_answer: str | None = None
    answer_type: AnswerType = "other"
    correction: Correction | None = None
    spans: tuple[Span, ...] = ()  # each evidence string's offsets in the stored text
    short_span: Span | None = None  # the short answer's offsets
    correction_span: Span | None = None  # the correcting sentence's offsets

    @property
    def answerable(self) -> bool:
        return self.kind in ANSWERABLE_KINDS


@dataclass(frozen=True, slots=True)
class ClaimPair:
    id: str
    document: str
    claim: str
    evidence: tuple[str, ...]
    supported: bool
    kind: ClaimKind
    spans: tuple[Span, ...] = ()


@dataclass(slots=True)
class Problems:
    items: list[str] = field(default_factory=list)

    def add(self, where: str, what: str) -> None:
        self.items.append(f"{where}: {what}")


def _lines(path: Path) -> Iterable[tuple[int, dict[str, object]]]:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip() and not line.startswith("#"):
            yield number, json.loads(line)


def _question(data: dict[str, object]) -> TrainingQuestion:
    correction = data.get("correction")
    return TrainingQuestion(
        id=str(data["id"]),
        document=str(data["document"]),
        question=str(data["question"]),
        kind=data["kind"],  # type: ignore[arg-type]  # checked in check_questions
        evidence=tuple(str(e) for e in data.get("evidence") or ()),  # type: ignore[attr-defined]
        short_answer=None if data.get("short_answer") in (None, "") else str(data["short_answer"]),
        answer_type=data.get("answer_type") or "other",  # type: ignore[arg-type]
        correction=Correction(**correction) if isinstance(correction, dict) else None,
        spans=tuple(s for v in data.get("spans") or () if (s := _span(v))),  # type: ignore[attr-defined]
        short_span=_span(data.get("short_span")),
        correction_span=_span(data.get("correction_span")),
    )


def load_questions(paths: Iterable[Path] | None = None) -> list[TrainingQuestion]:
    files = sorted(QUESTIONS_DIR.glob("*.jsonl")) if paths is None else list(paths)
    return [_question(data) for path in files for _, data in _lines(path)]


def load_claims(paths: Iterable[Path] | None = None) -> list[ClaimPair]:
    files = sorted(CLAIMS_DIR.glob("*.jsonl")) if paths is None else list(paths)
    return [
        ClaimPair(
            id=str(d["id"]), document=str(d["document"]), claim=str(d["claim"]),
            evidence=tuple(str(e) for e in d["evidence"]),  # type: ignore[attr-defined]
            supported=bool(d["supported"]), kind=d["kind"],  # type: ignore[arg-type]
            spans=tuple(s for v in d.get("spans") or () if (s := _span(v))),  # type: ignore[attr-defined]
        )
        for path in files
        for _, d in _lines(path)
    ]  # fmt: skip


def locate(text: str, needle: str) -> tuple[int, int] | None:
    """Exact offsets of an evidence string in a document's stored text."""
    return find_span(text, needle)


def check_questions(questions: list[TrainingQuestion], texts: dict[str, str]) -> list[str]:
    """What a writer must fix: unknown kinds, evidence not in the stored text, short answers outside it."""
    problems = Problems()
    seen: set[str] = set()
    for q in questions:
        where = q.id
        if q.id in seen:
            problems.add(where, "duplicate id")
        seen.add(q.id)
        if q.document not in texts:
            problems.add(where, f"unknown document {q.document!r}")
            continue
        text = texts[q.document]
        if q.kind not in get_args(QuestionKind):
            problems.add(where, f"unknown kind {q.kind!r}")
        if q.answer_type not in get_args(AnswerType):
            problems.add(where, f"unknown answer_type {q.answer_type!r}")
        if not q.question.strip():
            problems.add(where, "empty question")
        if q.answerable:
            if not q.evidence:
                problems.add(where, "an answerable question needs evidence")
            if q.kind == "multi_sentence" and len(q.evidence) < 2:
                problems.add(where, "a multi_sentence question needs two evidence strings")
            if q.short_answer is not None and not any(q.short_answer in e for e in q.evidence):
                problems.add(where, f"short answer {q.short_answer!r} is in none of its evidence strings")
        elif q.evidence or q.short_answer:
            problems.add(where, "an unanswerable question keeps evidence and short_answer empty")
        for e in q.evidence:
            if locate(text, e) is None:
                problems.add(where, f"evidence not found in the stored text: {e[:70]!r}")
        if q.spans != question_offsets(q, text)[0]:
            problems.add(where, "spans are not the evidence's offsets in the stored text (--write-offsets)")
        if (q.short_span, q.correction_span) != question_offsets(q, text)[1:]:
            problems.add(where, "short_span/correction_span are not the offsets in the stored text (--write-offsets)")
        if q.kind == "false_premise":
            if q.correction is None:
                problems.add(where, "a false premise needs a correction")
            else:
                if q.correction.text not in q.correction.evidence:
                    problems.add(where, "correction.text is not in correction.evidence")
                if locate(text, q.correction.evidence) is None:
                    problems.add(where, f"correction evidence not found: {q.correction.evidence[:70]!r}")
    return problems.items


def check_claims(claims: list[ClaimPair], texts: dict[str, str]) -> list[str]:
    problems = Problems()
    seen: set[str] = set()
    for c in claims:
        if c.id in seen:
            problems.add(c.id, "duplicate id")
        seen.add(c.id)
        if c.document not in texts:
            problems.add(c.id, f"unknown document {c.document!r}")
            continue
        if c.kind not in get_args(ClaimKind):
            problems.add(c.id, f"unknown kind {c.kind!r}")
        if c.kind in SUPPORTED_CLAIM_KINDS and not c.supported:
            problems.add(c.id, f"a {c.kind} claim is supported")
        if c.kind not in SUPPORTED_CLAIM_KINDS and c.supported:
            problems.add(c.id, f"a {c.kind} claim is not supported by its evidence")
        if not c.evidence:
            problems.add(c.id, "a claim cites at least one evidence string")
        for e in c.evidence:
            if locate(texts[c.document], e) is None:
                problems.add(c.id, f"evidence not found in the stored text: {e[:70]!r}")
        if c.spans != tuple(s for e in c.evidence if (s := locate(texts[c.document], e))):
            problems.add(c.id, "spans are not the evidence's offsets in the stored text (--write-offsets)")
    return problems.items


def question_offsets(q: TrainingQuestion, text: str) -> tuple[tuple[Span, ...], Span | None, Span | None]:
    """(evidence spans, short answer span, correcting sentence span) in the stored text."""
    spans = tuple(s for e in q.evidence if (s := locate(text, e)))
    short = None
    if q.short_answer and spans:
        inside = find_span(text[spans[0][0] : spans[0][1]], q.short_answer)
        short = (spans[0][0] + inside[0], spans[0][0] + inside[1]) if inside else None
    correction = locate(text, q.correction.evidence) if q.correction else None
    return spans, short, correction


def write_offsets(path: Path, texts: dict[str, str]) -> None:
    """Rewrite a questions or claims file with each record's offsets in the stored text."""
    lines = []
    for _, data in _lines(path):
        text = texts[str(data["document"])]
        if "claim" in data:
            data["spans"] = [list(s) for e in data["evidence"] if (s := locate(text, str(e)))]  # type: ignore[attr-defined]
        else:
            spans, short, correction = question_offsets(_question(data), text)
            data["spans"] = [list(s) for s in spans]
            data["short_span"] = list(short) if short else None
            data["correction_span"] = list(correction) if correction else None
        lines.append(json.dumps(data, ensure_ascii=False))
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
