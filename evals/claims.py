"""Score the claim finder (qa_service/ingest/attribution.py) on hand-annotated sentences.

``evals/datasets/claims_annotated.jsonl``: one sentence a line with the speaker and the exact claim span a
careful reader marks (``claim: null`` when the sentence reports no claim; ``speaker: null`` for unnamed
reports and for the author's own disputes). The seed's sentences were annotated before the rules were
written against them; the ``written`` ones are news-style sentences with patterns the seed lacks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from evals.dataset import DATASETS_DIR
from evals.metrics import normalize_answer, token_f1
from qa_service.ingest.attribution import sentence_claim

CLAIMS_FILE = DATASETS_DIR / "claims_annotated.jsonl"
MAX_EXTRA_SPEAKER_WORDS = 4
SPAN_MATCH_F1 = 0.8  # a found claim span "matches" the annotated one at this token F1 or above


class AnnotatedSentence(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    sentence: str
    speaker: str | None
    claim: str | None
    kind: str | None
    target: str | None
    origin: str


@dataclass(frozen=True, slots=True)
class ClaimScores:
    sentences: int
    annotated_claims: int
    detection_precision: float  # sentences flagged as claims that are claims
    detection_recall: float  # annotated claims that were flagged
    speaker_accuracy: float  # of annotated claims found: the speaker named right (None = unnamed)
    claim_span_f1: float  # of annotated claims found: mean token F1 of the claim span
    claim_span_match: float  # of annotated claims found: share with span F1 >= SPAN_MATCH_F1
    misses: tuple[str, ...]  # ids the finder got wrong in some way

    def as_dict(self) -> dict[str, float]:
        return {k: float(getattr(self, k)) for k in self.__dataclass_fields__ if k != "misses"}


def load_annotated(path: Path = CLAIMS_FILE) -> list[AnnotatedSentence]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [AnnotatedSentence.model_validate(json.loads(line)) for line in lines if line.strip()]


def same_speaker(found: str | None, gold: str | None) -> bool:
    """The same speaker: both unnamed, or the same words give or take MAX_EXTRA_SPEAKER_WORDS ("a statement
    released by the Assad government" names "the Assad government")."""
    if found is None or gold is None:
        return found is gold
    a, b = normalize_answer(found), normalize_answer(gold)
    if not a or not b:
        return False
    shorter, longer = sorted((a, b), key=len)
    return shorter in longer and len(longer.split()) - len(shorter.split()) <= MAX_EXTRA_SPEAKER_WORDS


def score_claim_finder(sentences: list[AnnotatedSentence]) -> ClaimScores:
    flagged = correct_flags = found = speakers = 0
    span_f1: list[float] = []
    misses: list[str] = []
    for item in sentences:
        claim = sentence_claim(item.sentence)
        if claim is not None:
            flagged += 1
            correct_flags += item.claim is not None
        if item.claim is None:
            if claim is not None:
                misses.append(item.id)
            continue
        if claim is None:
            misses.append(item.id)
            continue
        found += 1
        speaker_ok = same_speaker(claim.speaker, item.speaker)
        speakers += speaker_ok
        f1 = token_f1(item.sentence[claim.claim_start : claim.claim_end], item.claim)
        span_f1.append(f1)
        if not speaker_ok or f1 < SPAN_MATCH_F1:
            misses.append(item.id)
    annotated = sum(s.claim is not None for s in sentences)
    return ClaimScores(
        sentences=len(sentences),
        annotated_claims=annotated,
        detection_precision=correct_flags / flagged if flagged else 0.0,
        detection_recall=found / annotated if annotated else 0.0,
        speaker_accuracy=speakers / found if found else 0.0,
        claim_span_f1=sum(span_f1) / len(span_f1) if span_f1 else 0.0,
        claim_span_match=sum(f >= SPAN_MATCH_F1 for f in span_f1) / len(span_f1) if span_f1 else 0.0,
        misses=tuple(misses),
    )
