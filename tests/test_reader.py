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
    """To the recorded precision in fp32; as served (int8) within .01, since int8 kernels differ between CPUs
    (with and without AVX-512 VNNI: the sample's unanswerable AUC .843 on one, .844 on another)."""
    recorded = json.loads((READER_DIR / "reader.json").read_text(encoding="utf-8"))
    fp32 = score_sample(Reader(int8=False), SAMPLE_FILE)
    assert round(gold_first(fp32)[0], 3) == recorded["validation_sample_fp32"]["gold_first"]
    assert round(unanswerable_auc(fp32), 3) == recorded["validation_sample_fp32"]["unanswerable_auc"]
    served = score_sample(reader, SAMPLE_FILE)
    assert gold_first(served)[0] == pytest.approx(recorded["validation_sample"]["gold_first"], abs=0.01)
    assert unanswerable_auc(served) == pytest.approx(recorded["validation_sample"]["unanswerable_auc"], abs=0.01)


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
