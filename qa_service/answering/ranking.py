"""How well does one sentence answer the question? The score that orders evidence.

Each candidate sentence is described by typed features (similarity in meaning, IDF-weighted overlap of the
question's key terms in the sentence and in its heading path, the asked-for answer type, names, the
retrieval score and rank of its chunk, how far it trails the best candidate, its length, and the same
for the sentence before it, since an answer often follows its lead-in). A scorer turns them into one
number: today the weights of ``policy.py``, set by hand. Learned scorers over all these features (a
pointwise and a pairwise logistic regression, fitted on the dev splits by ``qa-service eval rank-check``)
picked the gold sentence first less often than these weights, in and out of each suite (BENCHMARKS.md),
so they do not ship; the features stay typed so that the next attempt starts from them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Protocol

from qa_service.answering.policy import W_LEXICAL, W_NAMES, W_SEMANTIC, W_TYPE


@dataclass(frozen=True, slots=True)
class SentenceFeatures:
    """What the scorer knows of one candidate sentence; the evidence's ``features`` holds them by name."""

    semantic: float  # cosine similarity of the sentence and the question (see anaphora.py for "It ...")
    lexical: float  # IDF-weighted share of the question's key terms in the sentence (terms only in its heading,
    # or in the sentence before it when it refers back to that one, count half)
    answer_type: float  # the sentence holds the asked-for type (for "how many X": how close its counted noun is)
    names: float  # share of the question's names the sentence mentions
    heading: float  # IDF-weighted share of the question's key terms in the sentence's heading path
    retrieval: float  # fused retrieval score of the chunk it was found in
    chunk_rank: float  # 1 / (1 + rank of that chunk)
    semantic_gap: float  # how far its similarity trails the best candidate's
    lexical_gap: float  # how far its overlap trails the best candidate's
    length: float  # log(1 + words)
    new_terms: float  # share of its content words that are not the question's (0: it only repeats the question)
    lead_semantic: float  # the sentence before it (in the same document): its similarity, 0 if not a candidate
    lead_lexical: float  # ... and its overlap
    defines: float  # 1: it defines what a "what is X / what does X do" question asks about (definitions.py)

    @classmethod
    def names_(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    def as_dict(self) -> dict[str, float]:
        return {name: round(float(getattr(self, name)), 4) for name in self.names_()}


class SentenceScorer(Protocol):
    def score(self, features: SentenceFeatures) -> float: ...


class HandScorer:
    """The weights set by hand on the seed article (``policy.py``)."""

    def score(self, features: SentenceFeatures) -> float:
        return (
            W_SEMANTIC * features.semantic
            + W_LEXICAL * features.lexical
            + W_TYPE * features.answer_type
            + W_NAMES * features.names
        )
