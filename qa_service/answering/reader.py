"""The reader: a MiniLM cross-encoder fine-tuned here, reading a question with one candidate sentence.

One network, three heads over the packaged all-MiniLM-L6-v2 encoder (its first four layers):
- ``relevance``: how well the sentence (with its heading path and the sentence before it) answers the
  question. Served: it reads the cheap scorer's best four sentences, and its best logit and margin are
  features of the answerability model. It does not order the sentences: it chose them no better than the
  cheap scorer (BENCHMARKS.md);
- ``span``: start and end logits per token, SQuAD-style, for the short answer: trained, not served (its
  exact matches were no better than the short-answer rules');
- ``support``: whether cited evidence supports a claim sentence: trained alongside, not served; the claim
  judge verify.py asks is a network of its own (``judge.py``), which does that better (BENCHMARKS.md).

Trained by ``make train`` (``evals/training/reader_fit.py``) on the training corpus (``evals/training/``);
the weights and their configuration are ``data/reader/``. Loaded once, in the lifespan, never at import.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    import torch

READER_DIR = Path(__file__).parent / "data" / "reader"
MAX_LENGTH = 160  # question + sentence + context, in word pieces
JUDGE_MAX_LENGTH = 192  # claim + cited spans


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


class ReaderModel(Protocol):
    def relevance(self, inputs: Sequence[ReaderInput], cheap: Sequence[float]) -> list[float]: ...


def cheap_prior(cheap: float, weight: float, center: float) -> float:
    """The cheap score's share of a candidate's logit: the reader learns what the cheap scorer misses, its
    logit being the network's relevance plus ``weight`` x (cheap score - ``center``), in training as in serving."""
    return weight * (cheap - center)


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


class Reader:
    """The trained reader, on the CPU (int8 dynamic quantization of its linear layers where the config says)."""

    def __init__(self, folder: Path = READER_DIR, *, int8: bool | None = None) -> None:
        """``int8``: None serves as reader.json says (benchmarks set it)."""
        from safetensors.torch import load_file
        from transformers import AutoTokenizer, BertConfig

        from qa_service.answering.judge import quantized

        self.config = json.loads((folder / "reader.json").read_text(encoding="utf-8"))
        bert = BertConfig.from_dict(self.config["encoder"])
        self._tokenizer = AutoTokenizer.from_pretrained(str(folder))
        network = build_network(bert)
        state = {k: v.float() for k, v in load_file(str(folder / "reader.safetensors")).items()}
        network.load_state_dict(state)
        network.eval()
        if self.config.get("serve_int8", False) if int8 is None else int8:
            network = quantized(network)
        self._network = network
        self._lock = threading.Lock()  # one forward at a time: torch's threads already use both cores
        training = self.config.get("training", {})
        self._prior = (float(training.get("cheap_weight", 0.0)), float(training.get("cheap_center", 0.6)))

    @classmethod
    @functools.cache
    def load(cls) -> Reader:
        """The committed reader, loaded once per process (its weights never change while it runs)."""
        return cls()

    def relevance(self, inputs: Sequence[ReaderInput], cheap: Sequence[float]) -> list[float]:
        """Each candidate's logit: the network's relevance plus the cheap score's prior (``cheap``: the cheap
        scorer's score of each input, in order)."""
        if not inputs:
            return []
        import torch

        batch = encode_pairs(self._tokenizer, inputs)
        with self._lock, torch.inference_mode():  # the support and span heads are trained, not served
            relevance, _, _ = self._network(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
        return [float(r) + cheap_prior(c, *self._prior) for r, c in zip(relevance.tolist(), cheap, strict=True)]
