"""Readers' verdicts on answers (👍/👎 on the page, or POST /feedback), kept with what they judged.

One JSON object per line in ``{data_dir}/feedback.jsonl``: the question, the answer, its citations (document
id, offsets and the quoted text), the rating, an optional comment, the collection, who sent it and when.
Appended under a lock and flushed with fsync, so a crash loses at most the record being written and never
corrupts the ones before or after it. ``GET /feedback`` exports the file; ``qa-service eval feedback`` turns it into
candidate training questions for a person to label (evals/training/feedback.py): a verdict is a hint about
where the reader went wrong, never a label by itself.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

Rating = Literal["up", "down"]


@dataclass(frozen=True, slots=True)
class CitedSpan:
    document_id: str
    start: int
    end: int
    quote: str


@dataclass(frozen=True, slots=True)
class FeedbackRecord:
    question: str
    answer: str
    rating: Rating
    collection: str
    citations: tuple[CitedSpan, ...] = ()
    comment: str = ""
    refused: bool = False
    sender: str = ""
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    created_at: float = field(default_factory=time.time)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @staticmethod
    def from_json(line: str) -> FeedbackRecord:
        data = json.loads(line)
        data["citations"] = tuple(CitedSpan(**c) for c in data.get("citations", ()))
        return FeedbackRecord(**data)


class FeedbackLog:
    """The append-only feedback file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def append(self, record: FeedbackRecord) -> None:
        line = (record.to_json() + "\n").encode("utf-8")
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    line = b"\n" + line  # a torn record from a crash stays on a line of its own
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)

    def records(self) -> Iterator[FeedbackRecord]:
        """Every complete record in order (a record torn by a crash is skipped)."""
        if not self.path.exists():
            return
        with self.path.open(encoding="utf-8") as f:
            for line in f:
                try:
                    yield FeedbackRecord.from_json(line)
                except (ValueError, TypeError):
                    continue
