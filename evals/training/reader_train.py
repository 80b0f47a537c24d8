"""The reader's learning curve: one pass over the training questions, measured as it goes.

``qa-service eval reader-curve`` fine-tunes the reader (``reader_fit.py``) in one pass over every training
question, saving the network after the first 250, 500, 1,000 and 2,000 questions and at the end, then
measures each checkpoint as it would be served (int8 dynamic quantization, the cheap scorer's best
``CAP`` candidates) on the validation documents and on every eval dev split, beside the cheap scorer:
- gold first: share of answerable questions whose best-scored candidate overlaps gold evidence (a question
  whose gold sentence is not among the candidates read counts as a miss);
- unanswerable AUC: how well the best candidate's score separates answerable questions from near misses;
- the claim judge on the validation documents' claim pairs (unsupported claims caught and paraphrases
  accepted at p = 0.5), beside the lexical checks of ``verify.py``.
The early checkpoints share the full run's learning-rate schedule: they show how one pass learns, not what
a model trained to the end on that many questions would reach. Test splits are never read.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from evals.training.data import ClaimPair, load_claims
from evals.training.documents import BY_NAME
from evals.training.reader_fit import (
    FitConfig,
    Scored,
    fit_reader,
    gold_first,
    judge_figures,
    save_reader,
    score_rows,
    unanswerable_auc,
)
from evals.training.tables import TABLES_DIR, TableRow, read_rows

CURVE_FILE = Path(__file__).parent / "learning_curve.jsonl"
CHECKPOINT_DIR = TABLES_DIR.parent / "reader-curve"
CAP = 16  # candidates the reader reads per question: the cheap scorer's best
CHECKPOINTS = (250, 500, 1000, 2000)


def load_tables() -> tuple[list[TableRow], list[TableRow], list[TableRow]]:
    """(training rows, validation rows, eval dev rows)."""
    rows = read_rows(TABLES_DIR / "questions.jsonl")
    dev_path = TABLES_DIR / "dev.jsonl"
    dev = read_rows(dev_path) if dev_path.exists() else []
    return [r for r in rows if r.set == "train"], [r for r in rows if r.set == "validation"], dev


def suite_corpus(suite_set: str) -> str:
    """'dev:r_intro_dev2' -> 'r_intro'; 'dev:seed' -> 'seed'."""
    suite = suite_set.split(":", 1)[1]
    for tail in ("_dev2", "_dev"):
        suite = suite.removesuffix(tail)
    return suite


def _figures(scored: list[Scored], rows: list[TableRow]) -> dict[str, Any]:
    first, n = gold_first(scored)
    return {
        "questions": len(rows),
        "answerable": n,
        "gold_first": round(first, 3),
        "gold_first_cheap": round(gold_first(scored, cheap=True)[0], 3),
        "unanswerable_auc": round(unanswerable_auc(scored), 3),
        "unanswerable_auc_cheap": round(unanswerable_auc(scored, cheap=True), 3),
    }


def measure(
    network: Any,
    tokenizer: Any,
    validation: list[TableRow],
    dev: list[TableRow],
    prior: tuple[float, float] = (0.0, 0.6),
) -> dict[str, Any]:
    """Gold first and unanswerable AUC, the reader's beside the cheap scorer's, per group of questions.
    ``prior``: the cheap score's (weight, center) in the reader's logits, as it was trained."""
    groups: dict[str, list[TableRow]] = {"validation": validation} if validation else {}
    for row in dev:
        groups.setdefault(f"dev:{suite_corpus(row.set)}", []).append(row)
    weight, center = prior
    return {
        name: _figures(score_rows(network, tokenizer, rows, CAP, cheap_weight=weight, cheap_center=center), rows)
        for name, rows in groups.items()
    }


def split_claims(split: str) -> list[ClaimPair]:
    return [c for c in load_claims() if BY_NAME[c.document].split == split]


def lexical_figures(claims: list[ClaimPair]) -> dict[str, float]:
    """The lexical checks the claim judge replaced (numbers, names, term overlap: ``evals/lexical_verifier.py``)
    on the same claim pairs: unsupported claims caught, paraphrases accepted."""
    import numpy as np

    from evals.lexical_verifier import lexical_problems
    from evals.training.judge_train import figures  # judge_train imports this module

    passed = np.asarray([not lexical_problems(c.claim, list(c.evidence)) for c in claims], dtype=float)
    return figures(passed, np.asarray([c.supported for c in claims]), 0.5)


def fit_with_checkpoints(
    config: FitConfig, folder: Path = CHECKPOINT_DIR, on_step: Callable[[int, int, float], None] | None = None
) -> list[dict[str, Any]]:
    """One pass over every training question; the network saved after each of ``CHECKPOINTS`` questions
    and at the end (fp16 safetensors under ``folder``). Returns what was saved, in order."""
    train, _, _ = load_tables()
    claims = split_claims("train")
    saved: list[dict[str, Any]] = []
    marks = {n // config.questions_per_step: n for n in CHECKPOINTS}
    started = time.perf_counter()

    def step(done: int, total: int, loss: float, network: Any, tokenizer: Any) -> None:
        if done in marks:
            n = marks[done]
            save_reader(
                network, tokenizer, folder / str(n), {"training_questions": n, "step": done, "config": asdict(config)}
            )
            saved.append({"point": str(n), "training_questions": n, "step": done,
                          "minutes": round((time.perf_counter() - started) / 60, 1)})  # fmt: skip
        if on_step:
            on_step(done, total, loss)

    network, tokenizer = fit_reader(train, claims, config, step)
    usable = sum(1 for r in train if r.candidates and (not r.answerable or any(c.gold for c in r.candidates)))
    save_reader(network, tokenizer, folder / "all", {"training_questions": usable, "config": asdict(config)})
    saved.append({"point": "all", "training_questions": usable,
                  "minutes": round((time.perf_counter() - started) / 60, 1)})  # fmt: skip
    return saved


def measure_checkpoint(folder: Path) -> dict[str, Any]:
    """A saved checkpoint as served (int8), on the validation documents and the eval dev splits."""
    import torch

    from evals.training.reader_fit import load_network

    _, validation, dev = load_tables()
    network, tokenizer = load_network(folder)
    config = json.loads((folder / "reader.json").read_text(encoding="utf-8")).get("config", {})
    prior = (float(config.get("cheap_weight", 0.0)), float(config.get("cheap_center", 0.6)))
    network = torch.ao.quantization.quantize_dynamic(  # type: ignore[no-untyped-call]
        network, {torch.nn.Linear}, dtype=torch.qint8
    )
    return {
        **measure(network, tokenizer, validation, dev, prior),
        "judge_validation": judge_figures(network, tokenizer, split_claims("validation")),
    }


def learning_curve(config: FitConfig, on_step: Callable[[int, int, float], None] | None = None) -> list[dict[str, Any]]:
    """Fit with checkpoints, measure each, and write ``CURVE_FILE`` (the cheap scorer's figures first)."""
    saved = fit_with_checkpoints(config, on_step=on_step)
    _, validation, dev = load_tables()
    points: list[dict[str, Any]] = [
        {"point": "cheap scorer", "training_questions": 0, **measure_cheap(validation, dev),
         "judge_validation": lexical_figures(split_claims("validation"))}
    ]  # fmt: skip
    for entry in saved:
        points.append({**entry, "config": asdict(config), **measure_checkpoint(CHECKPOINT_DIR / entry["point"])})
    CURVE_FILE.write_text("".join(json.dumps(p, sort_keys=True) + "\n" for p in points), encoding="utf-8")
    return points


def measure_cheap(validation: list[TableRow], dev: list[TableRow]) -> dict[str, Any]:
    """The cheap scorer alone (no reader): its order over the same candidates."""
    groups: dict[str, list[TableRow]] = {"validation": validation}
    for row in dev:
        groups.setdefault(f"dev:{suite_corpus(row.set)}", []).append(row)
    out = {}
    for name, rows in groups.items():
        scored = [
            Scored(r, sorted((c for c in r.candidates if c.retrieved), key=lambda c: -c.cheap)[:CAP], [0.0])
            for r in rows
        ]
        first, n = gold_first(scored, cheap=True)
        out[name] = {"questions": len(rows), "answerable": n, "gold_first": round(first, 3),
                     "unanswerable_auc": round(unanswerable_auc(scored, cheap=True), 3)}  # fmt: skip
    return out


# --- the served artefact ---------------------------------------------------------------------------------

SAMPLE_FILE = Path(__file__).parent / "validation_sample.jsonl"
SAMPLE_SIZE = 200


def write_sample(validation: list[TableRow], path: Path = SAMPLE_FILE) -> list[TableRow]:
    """A fixed random sample of validation rows, each with the candidates the reader reads: the committed
    weights are checked against it (tests/test_reader.py) without running the pipeline."""
    import random

    rows = sorted(random.Random(0).sample(validation, min(SAMPLE_SIZE, len(validation))), key=lambda r: r.id)
    kept = []
    for row in rows:
        considered = sorted((c for c in row.candidates if c.retrieved), key=lambda c: -c.cheap)[:CAP]
        kept.append(TableRow(row.set, row.id, row.document, row.kind, row.answerable, row.question, considered))
    path.write_text("".join(r.to_json() + "\n" for r in kept), encoding="utf-8")
    return kept


def score_sample(reader: Any, path: Path = SAMPLE_FILE) -> list[Scored]:
    """The served reader's logits over the sample's candidates, as the service reads them."""
    from evals.training.reader_fit import reader_input

    out = []
    for row in read_rows(path):
        inputs = [reader_input(row.question, c) for c in row.candidates]
        out.append(Scored(row, row.candidates, reader.relevance(inputs, [c.cheap for c in row.candidates])))
    return out


def train_and_save(
    config: FitConfig, folder: Path, on_step: Callable[[int, int, float], None] | None = None
) -> dict[str, Any]:
    """Fit on every training question and write the served artefact (``package_reader``)."""
    train, _, _ = load_tables()
    started = time.perf_counter()

    def step(done: int, total: int, loss: float, network: Any, tokenizer: Any) -> None:
        if on_step:
            on_step(done, total, loss)

    network, tokenizer = fit_reader(train, split_claims("train"), config, step)
    return package_reader(network, tokenizer, config, (time.perf_counter() - started) / 60, folder)


def package_reader(network: Any, tokenizer: Any, config: FitConfig, minutes: float, folder: Path) -> dict[str, Any]:
    """Measure a fitted reader and write what the service loads: weights (fp16), tokenizer and reader.json
    (encoder configuration, training configuration, the figures, and whether int8 serving keeps them)."""
    import torch

    from qa_service.answering.reader import Reader

    train, validation, dev = load_tables()
    quantized = torch.ao.quantization.quantize_dynamic(  # type: ignore[no-untyped-call]
        network, {torch.nn.Linear}, dtype=torch.qint8
    )
    validation_claims = split_claims("validation")
    content: dict[str, Any] = {
        "about": "the reader (qa_service/answering/reader.py), fine-tuned from the packaged all-MiniLM-L6-v2 by "
        "`make train` (evals/training/reader_train.py) on evals/training; served int8, reading the cheap scorer's "
        "best 4 sentences for the answerability model. Figures on the validation documents and the eval dev "
        "splits are its own ranking of the cheap scorer's best 16 (int8), never a test split; validation_sample "
        "is what tests/test_reader.py checks",
        "training": {**asdict(config), "questions": len(train), "claims": len(split_claims("train")),
                     "minutes": round(minutes, 1)},
        "figures": measure(quantized, tokenizer, validation, dev, (config.cheap_weight, config.cheap_center)),
        "claim_judge_validation": {
            "reader": judge_figures(quantized, tokenizer, validation_claims),
            "lexical": lexical_figures(validation_claims),
        },
        "candidates_read": 4,
        "serve_int8": False,
    }  # fmt: skip
    write_sample(validation)
    sample: dict[bool, dict[str, float]] = {}
    for int8 in (False, True):  # int8 where it keeps the figures: the sample scored by the served model both ways
        content["serve_int8"] = int8
        save_reader(network, tokenizer, folder, content)
        scored = score_sample(Reader(folder))
        sample[int8] = {
            "gold_first": round(gold_first(scored)[0], 3),
            "unanswerable_auc": round(unanswerable_auc(scored), 3),
        }
    # The service reads the reader for answerability only, where int8 halves its time (BENCHMARKS.md): kept
    # unless it costs more than .02 of the sample's unanswerable AUC.
    keep = sample[True]["unanswerable_auc"] >= sample[False]["unanswerable_auc"] - 0.02
    content.update(serve_int8=keep, validation_sample=sample[keep], validation_sample_fp32=sample[False],
                   validation_sample_int8=sample[True])  # fmt: skip
    save_reader(network, tokenizer, folder, content)
    return content
