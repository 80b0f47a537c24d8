"""The committed reader: it loads, and on the committed validation sample it reproduces the figures
recorded beside its weights (answering/data/reader/reader.json) to their recorded precision."""

from __future__ import annotations

import json

import pytest

from evals.training.reader_fit import gold_first, unanswerable_auc
from evals.training.reader_train import SAMPLE_FILE, score_sample
from qa_service.answering.reader import READER_DIR, Reader, ReaderInput


@pytest.fixture(scope="module")
def reader() -> Reader:
    return Reader.load()


def test_the_weights_are_small_enough_to_commit() -> None:
    assert (READER_DIR / "reader.safetensors").stat().st_size <= 50 * 1024 * 1024


def test_validation_figures_match_the_recorded_ones(reader: Reader) -> None:
    recorded = json.loads((READER_DIR / "reader.json").read_text(encoding="utf-8"))["validation_sample"]
    scored = score_sample(reader, SAMPLE_FILE)
    assert round(gold_first(scored)[0], 3) == recorded["gold_first"]
    assert round(unanswerable_auc(scored), 3) == recorded["unanswerable_auc"]


@pytest.mark.xfail(
    strict=True,
    reason="known weakness, measured: with the cheap prior held equal the network scores a sentence higher for "
    "an unrelated question than for the one it answers; it learned what the cheap score misses, not question "
    "matching alone (it is served for answerability only; BENCHMARKS.md, twelfth session)",
)
def test_a_sentence_scores_higher_for_the_question_it_answers(reader: Reader) -> None:
    """Evidence that some sentence answers is what the service reads the reader for."""
    sentence = "A 20-byte SHA-1 checksum of all of the above ends the file."
    asked = ["How many bytes is the checksum at the end of the file?", "Which hash ends the file?"]
    unrelated = ["Who maintains the package mirror?", "How long are backups kept?"]
    logits = reader.relevance([ReaderInput(q, sentence) for q in asked + unrelated], [0.6] * 4)
    assert min(logits[:2]) > max(logits[2:])
