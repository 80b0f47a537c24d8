"""Readers' feedback (qa_service/feedback.py) as candidate training questions, for a person to label.

A 👎 says the reader chose the wrong sentence, refused an answerable question or answered a near miss; a 👍
says the cited sentence answered. Neither is a label: the question may be ambiguous, the verdict hasty, and
the service's own answer must never become its own gold (evals/training/WRITING.md). So each verdict becomes
a row to label from the document text: the question, the sentences the service cited (to look at first), and
the verdict as a hint. A labeller writes the gold evidence, or marks the question unanswerable, in the
training corpus's own format; the rows never go into training as they are.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from qa_service.feedback import FeedbackLog, FeedbackRecord


def candidate_rows(records: Iterable[FeedbackRecord]) -> Iterator[dict[str, object]]:
    """One row per distinct (collection, question), the latest verdict winning."""
    latest: dict[tuple[str, str], FeedbackRecord] = {}
    for record in records:
        latest[(record.collection, record.question.strip())] = record
    for (collection, question), record in latest.items():
        yield {
            "collection": collection,
            "question": question,
            "verdict": record.rating,
            "service_refused": record.refused,
            "cited": [
                {"document_id": c.document_id, "start": c.start, "end": c.end, "quote": c.quote}
                for c in record.citations
            ],
            "comment": record.comment,
            "to_label": "gold evidence copied from the document, or answerable: false",
        }


def write_candidates(feedback: Path, out: Path) -> int:
    rows = list(candidate_rows(FeedbackLog(feedback).records()))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return len(rows)
