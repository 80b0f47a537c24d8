"""The reader's network: a MiniLM cross-encoder fine-tuned here, reading a question with one candidate sentence.

One network, three heads over the packaged all-MiniLM-L6-v2 encoder:
- ``relevance``: how well the sentence (with its heading path and the sentence before it) answers the
  question; it orders the candidates, and its best score, calibrated, is the answerability probability;
- ``span``: start and end logits per token, SQuAD-style: the short answer inside the sentence;
- ``support``: whether cited evidence supports a claim sentence (the claim judge of ``verify.py``).

Fine-tuned by ``evals/training/reader_fit.py`` on the training corpus. Not on the serving path yet (issue
36): the first one-pass fit does not beat the cheap scorer (BENCHMARKS.md); when one does, this module moves
to ``qa_service/answering/`` with a loader, and its weights ship.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch

MAX_LENGTH = 160  # question + sentence + context, in word pieces
JUDGE_MAX_LENGTH = 192  # claim + cited spans
MAX_ANSWER_TOKENS = 16


@dataclass(frozen=True, slots=True)
class ReaderInput:
    """One candidate as the reader sees it."""

    question: str
    sentence: str
    heading: str = ""
    previous: str = ""

    def pair(self, sep: str) -> tuple[str, str]:
        """(first segment, second segment): the sentence first, so truncation cuts its context, not it."""
        context = " — ".join(p for p in (self.heading, self.previous) if p)
        return self.question, f"{self.sentence} {sep} {context}" if context else self.sentence


def build_network(config: Any) -> torch.nn.Module:
    """The encoder and its three heads (shared by training and serving)."""
    import torch
    from transformers import BertModel

    class ReaderNetwork(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = BertModel(config, add_pooling_layer=False)
            hidden = config.hidden_size
            self.relevance = torch.nn.Linear(hidden, 1)
            self.support = torch.nn.Linear(hidden, 1)
            self.span = torch.nn.Linear(hidden, 2)

        def forward(
            self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
        ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
            hidden = self.encoder(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            return self.relevance(pooled).squeeze(-1), self.support(pooled).squeeze(-1), self.span(hidden)

    return ReaderNetwork()


def encode_pairs(tokenizer: Any, inputs: Sequence[ReaderInput], max_length: int = MAX_LENGTH) -> Any:
    firsts, seconds = zip(*(i.pair(tokenizer.sep_token) for i in inputs), strict=True)
    return tokenizer(
        list(firsts), list(seconds), truncation="only_second", max_length=max_length, padding=True,
        return_tensors="pt", return_offsets_mapping=True,
    )  # fmt: skip


def sentence_token_mask(batch: Any, inputs: Sequence[ReaderInput]) -> np.ndarray:
    """(batch, tokens) True where a token belongs to the candidate sentence (the span head's range)."""
    offsets = batch["offset_mapping"].numpy()
    mask = np.zeros(offsets.shape[:2], dtype=bool)
    for row, item in enumerate(inputs):
        ids = batch.sequence_ids(row)
        for t, seq in enumerate(ids):
            if seq == 1 and offsets[row, t, 1] <= len(item.sentence) and offsets[row, t, 1] > offsets[row, t, 0]:
                mask[row, t] = True
    return mask


def best_span(
    start: np.ndarray, end: np.ndarray, mask: np.ndarray, offsets: np.ndarray
) -> tuple[tuple[int, int], float]:
    """The highest start+end pair inside the sentence, at most MAX_ANSWER_TOKENS long: char offsets, score."""
    allowed = np.flatnonzero(mask)
    best, best_score = (0, 0), -np.inf
    for i in allowed:
        stop = allowed[(allowed >= i) & (allowed < i + MAX_ANSWER_TOKENS)]
        j = stop[int(np.argmax(end[stop]))]
        score = float(start[i] + end[j])
        if score > best_score:
            best, best_score = (int(offsets[i, 0]), int(offsets[j, 1])), score
    return best, best_score
