"""Fine-tune the reader (``qa_service/answering/reader.py``) from the packaged all-MiniLM-L6-v2 weights.

Each step reads a few training questions, each with a group of its candidates (its gold sentences and the
hardest negatives the cheap scorer ranks high, plus a few further down), and a few claim pairs:
- relevance: a softmax over the group plus a fixed "no answer" logit of 0 (SQuAD 2.0's null answer): the
  gold sentences take the mass for an answerable question, "no answer" for a near miss;
- span: start/end cross-entropy over the gold sentence's tokens, where the question has a short answer;
- support: binary cross-entropy of the claim judge.
Deterministic for a given corpus and seed (one thread order on the CPU). Validation documents and the eval
dev splits choose settings; they are never trained on.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from evals.training.data import ClaimPair
from evals.training.tables import Candidate, TableRow
from qa_service.answering.judge import base_model_path
from qa_service.answering.reader import (
    JUDGE_MAX_LENGTH,
    ReaderInput,
    build_network,
    cheap_prior,
    encode_pairs,
    sentence_token_mask,
)


@dataclass(frozen=True, slots=True)
class FitConfig:
    epochs: float = 0.7  # 2,000 steps of 2 questions: `make train` stays within 30 minutes on 2 cores
    learning_rate: float = 5e-5
    warmup: float = 0.1
    questions_per_step: int = 2
    group: int = 6  # candidates per question per step
    hard_pool: int = 16  # negatives drawn from this many best by the cheap score
    claims_per_step: int = 2
    span_weight: float = 0.5
    support_weight: float = 1.0
    seed: int = 0
    max_questions: int | None = None  # the learning curve's subsets
    min_steps: int = 200  # a small subset is read several times over
    layers: int = 4  # encoder layers kept (MiniLM-L6 has 6; the first 4 read a third faster)
    freeze_embeddings: bool = True  # the word-piece table stays as packaged (half the weights, rare words)
    # The reader learns what the cheap score misses: a candidate's logit is the network's relevance plus
    # cheap_weight x (cheap score - cheap_center), in training as in serving (0 = the network alone).
    cheap_weight: float = 16.0
    cheap_center: float = 0.6


def prior(c: Candidate, cheap_weight: float, cheap_center: float) -> float:
    """The cheap score's share of a candidate's logit (``reader.cheap_prior``)."""
    return cheap_prior(c.cheap, cheap_weight, cheap_center)


def reader_input(question: str, c: Candidate) -> ReaderInput:
    return ReaderInput(question, c.text, c.heading, c.previous)


def _group(row: TableRow, size: int, hard_pool: int, rng: random.Random) -> list[Candidate]:
    gold = [c for c in row.candidates if c.gold]
    negatives = [c for c in row.candidates if not c.gold and c.retrieved]
    negatives.sort(key=lambda c: -c.cheap)
    positives = rng.sample(gold, min(len(gold), 2))
    room = size - len(positives)
    hard = negatives[:hard_pool]
    chosen = rng.sample(hard, min(len(hard), max(room - 2, room // 2)))
    rest = [c for c in negatives if c not in chosen]
    chosen += rng.sample(rest, min(len(rest), room - len(chosen)))
    group = positives + chosen
    rng.shuffle(group)
    return group


def _span_targets(batch: Any, inputs: Sequence[ReaderInput], shorts: Sequence[tuple[int, int] | None]) -> list[Any]:
    """(start token, end token) per row, or None where there is no short answer inside the sentence."""
    offsets = batch["offset_mapping"].numpy()
    out: list[tuple[int, int] | None] = []
    for row, short in enumerate(shorts):
        if short is None:
            out.append(None)
            continue
        ids = batch.sequence_ids(row)
        start = end = None
        for t, seq in enumerate(ids):
            if seq != 1 or offsets[row, t, 1] <= offsets[row, t, 0] or offsets[row, t, 1] > len(inputs[row].sentence):
                continue
            if (start is None and offsets[row, t, 0] <= short[0] < offsets[row, t, 1]) or (
                start is None and offsets[row, t, 0] >= short[0]
            ):
                start = t
            if offsets[row, t, 0] < short[1]:
                end = t
        out.append((start, end) if start is not None and end is not None and end >= start else None)
    return out


def fit_reader(
    rows: list[TableRow],
    claims: list[ClaimPair],
    config: FitConfig,
    on_step: Callable[[int, int, float, Any, Any], None] | None = None,
) -> tuple[Any, Any]:
    """(network, tokenizer) fine-tuned on these training rows and claim pairs."""
    import torch
    from transformers import AutoTokenizer, BertModel

    torch.manual_seed(config.seed)
    rng = random.Random(config.seed)
    base = base_model_path()
    tokenizer = AutoTokenizer.from_pretrained(str(base))
    encoder = BertModel.from_pretrained(str(base), add_pooling_layer=False)
    network: Any = build_network(encoder.config)
    network.encoder.load_state_dict(encoder.state_dict())
    if config.layers < len(network.encoder.encoder.layer):
        network.encoder.encoder.layer = network.encoder.encoder.layer[: config.layers]
        network.encoder.config.num_hidden_layers = config.layers
    if config.freeze_embeddings:
        network.encoder.embeddings.word_embeddings.weight.requires_grad_(False)
    network.train()

    usable = [r for r in rows if r.candidates and (not r.answerable or any(c.gold for c in r.candidates))]
    usable.sort(key=lambda r: r.id)
    if config.max_questions is not None:
        usable = random.Random(config.seed).sample(usable, min(config.max_questions, len(usable)))
    claim_pool = sorted(claims, key=lambda c: c.id)
    steps_per_epoch = math.ceil(len(usable) / config.questions_per_step)
    total = max(config.min_steps, int(steps_per_epoch * config.epochs))
    trainable = [p for p in network.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=config.learning_rate, weight_decay=0.01)
    warm = max(1, int(total * config.warmup))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm)))
    )
    order: list[TableRow] = []
    claim_order: list[ClaimPair] = []
    for step in range(total):
        if len(order) < config.questions_per_step:
            extra = usable[:]
            rng.shuffle(extra)
            order += extra
        if len(claim_order) < config.claims_per_step and claim_pool:
            extra_claims = claim_pool[:]
            rng.shuffle(extra_claims)
            claim_order += extra_claims
        picked, order = order[: config.questions_per_step], order[config.questions_per_step :]
        loss = _question_loss(network, tokenizer, picked, config, rng)
        if claim_pool and config.claims_per_step:
            batch_claims, claim_order = claim_order[: config.claims_per_step], claim_order[config.claims_per_step :]
            loss = loss + config.support_weight * _claim_loss(network, tokenizer, batch_claims)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        optimizer.step()
        schedule.step()
        if on_step:
            on_step(step + 1, total, float(loss.detach()), network, tokenizer)
    network.eval()
    return network, tokenizer


def _question_loss(network: Any, tokenizer: Any, rows: list[TableRow], config: FitConfig, rng: random.Random) -> Any:
    import torch

    inputs: list[ReaderInput] = []
    shorts: list[tuple[int, int] | None] = []
    groups: list[tuple[int, int, list[bool], bool]] = []
    priors: list[float] = []
    for row in rows:
        group = _group(row, config.group, config.hard_pool, rng)
        priors += [prior(c, config.cheap_weight, config.cheap_center) for c in group]
        first = len(inputs)
        inputs += [reader_input(row.question, c) for c in group]
        shorts += [c.short if c.gold and row.answerable else None for c in group]
        groups.append((first, len(inputs), [c.gold for c in group], row.answerable or row.kind == "false_premise"))
    batch = encode_pairs(tokenizer, inputs)
    relevance, _, span = network(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
    relevance = relevance + torch.tensor(priors)
    losses = []
    for first, last, gold, answerable in groups:
        logits = torch.cat([torch.zeros(1), relevance[first:last]])
        total = torch.logsumexp(logits, 0)
        if answerable and any(gold):
            positive = torch.logsumexp(relevance[first:last][torch.tensor(gold)], 0)
        else:
            positive = logits[0]
        losses.append(total - positive)
    loss = torch.stack(losses).mean()
    targets = _span_targets(batch, inputs, shorts)
    mask = torch.tensor(sentence_token_mask(batch, inputs))
    span_losses = []
    for at, target in enumerate(targets):
        if target is None:
            continue
        for head, position in ((0, target[0]), (1, target[1])):
            logits = span[at, :, head].masked_fill(~mask[at], -1e4)
            span_losses.append(torch.nn.functional.cross_entropy(logits.unsqueeze(0), torch.tensor([position])))
    if span_losses:
        loss = loss + config.span_weight * torch.stack(span_losses).mean()
    return loss


def _claim_loss(network: Any, tokenizer: Any, claims: list[ClaimPair]) -> Any:
    import torch

    batch = tokenizer(
        [c.claim for c in claims], [" ".join(c.evidence) for c in claims], truncation="only_second",
        max_length=JUDGE_MAX_LENGTH, padding=True, return_tensors="pt",
    )  # fmt: skip
    _, support, _ = network(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
    labels = torch.tensor([float(c.supported) for c in claims])
    return torch.nn.functional.binary_cross_entropy_with_logits(support, labels)


# --- scoring held-out rows ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scored:
    row: TableRow
    considered: list[Candidate]  # the candidates the reader read (the cheap scorer's best ``cap``)
    relevance: list[float]


def score_rows(
    network: Any, tokenizer: Any, rows: list[TableRow], cap: int, batch_size: int = 64,
    cheap_weight: float = 0.0, cheap_center: float = 0.6,
) -> list[Scored]:  # fmt: skip
    """Each row's logits (network + the cheap score's prior) over the cheap scorer's best ``cap``."""
    import torch

    out = []
    pending: list[tuple[TableRow, list[Candidate]]] = []
    for row in rows:
        considered = sorted((c for c in row.candidates if c.retrieved), key=lambda c: -c.cheap)[:cap]
        pending.append((row, considered))
    flat = [reader_input(row.question, c) for row, cs in pending for c in cs]
    # Batches of similar length pad little: scored in length order, put back in place.
    order = sorted(range(len(flat)), key=lambda i: len(flat[i].question) + len(flat[i].sentence))
    scores = [0.0] * len(flat)
    with torch.inference_mode():
        for at in range(0, len(order), batch_size):
            picked = order[at : at + batch_size]
            batch = encode_pairs(tokenizer, [flat[i] for i in picked])
            relevance, _, _ = network(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
            for i, value in zip(picked, relevance.tolist(), strict=True):
                scores[i] = value
    at = 0
    for row, considered in pending:
        logits = [
            v + prior(c, cheap_weight, cheap_center)
            for v, c in zip(scores[at : at + len(considered)], considered, strict=True)
        ]
        out.append(Scored(row, considered, logits))
        at += len(considered)
    return out


def gold_first(scored: list[Scored], *, cheap: bool = False) -> tuple[float, int]:
    """Share of answerable rows whose best candidate (by the reader, or the cheap score) is gold."""
    hits, n = 0, 0
    for s in scored:
        if not s.row.answerable:
            continue
        n += 1
        if s.considered:
            values = [c.cheap for c in s.considered] if cheap else s.relevance
            hits += int(s.considered[int(np.argmax(values))].gold)
    return (hits / n if n else 0.0), n


def unanswerable_auc(scored: list[Scored], *, cheap: bool = False) -> float:
    """AUC of the best score separating answerable rows from unanswerable ones (false premises left out)."""
    from sklearn.metrics import roc_auc_score

    labels, values = [], []
    for s in scored:
        if s.row.kind == "false_premise" or not s.considered:
            continue
        labels.append(int(s.row.answerable))
        values.append(max(c.cheap for c in s.considered) if cheap else max(s.relevance))
    return float(roc_auc_score(labels, values)) if len(set(labels)) == 2 else float("nan")


def judge_figures(network: Any, tokenizer: Any, claims: list[ClaimPair], threshold: float = 0.5) -> dict[str, float]:
    """Unsupported claims caught and faithful paraphrases accepted, at ``threshold``."""
    import torch

    probabilities: list[float] = []
    with torch.inference_mode():
        for at in range(0, len(claims), 32):
            chunk = claims[at : at + 32]
            batch = tokenizer(
                [c.claim for c in chunk], [" ".join(c.evidence) for c in chunk], truncation="only_second",
                max_length=JUDGE_MAX_LENGTH, padding=True, return_tensors="pt",
            )  # fmt: skip
            _, support, _ = network(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
            probabilities += torch.sigmoid(support).tolist()
    unsupported = [p for p, c in zip(probabilities, claims, strict=True) if not c.supported]
    faithful = [p for p, c in zip(probabilities, claims, strict=True) if c.supported]
    return {
        "unsupported_caught": sum(p < threshold for p in unsupported) / max(1, len(unsupported)),
        "paraphrases_accepted": sum(p >= threshold for p in faithful) / max(1, len(faithful)),
        "claims": len(claims),
    }


def save_reader(network: Any, tokenizer: Any, folder: Path, extra: dict[str, object]) -> None:
    """Weights in fp16 (safetensors), the tokenizer, and reader.json (encoder config, training config, figures)."""
    import torch
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to(dtype=torch.float16).contiguous() for k, v in network.state_dict().items()}
    save_file(state, str(folder / "reader.safetensors"))
    tokenizer.save_pretrained(str(folder))
    encoder = network.encoder.config.to_dict()
    content = {"encoder": {k: v for k, v in encoder.items() if not k.startswith("_")}, **extra}
    (folder / "reader.json").write_text(json.dumps(content, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def load_network(folder: Path) -> tuple[Any, Any]:
    """A saved reader as a float32 network and its tokenizer."""
    from safetensors.torch import load_file
    from transformers import AutoTokenizer, BertConfig

    config = json.loads((folder / "reader.json").read_text(encoding="utf-8"))
    network = build_network(BertConfig.from_dict(config["encoder"]))
    network.load_state_dict({k: v.float() for k, v in load_file(str(folder / "reader.safetensors")).items()})
    network.eval()
    return network, AutoTokenizer.from_pretrained(str(folder))
