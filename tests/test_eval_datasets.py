"""Every eval dataset is valid against the text the service stores (issue 11): each gold evidence and
correction span is found in its corpus's cleaned text (up to whitespace), gold answers sit in their
evidence, new corpora keep the shares of case kinds, and test splits carry their frozen-split header."""

from __future__ import annotations

from functools import cache

import pytest

from evals.check import MIN_SHARES, check_cases, corpus_documents, share_problems
from evals.dataset import DATASETS_DIR, load_dataset
from evals.gate import load_suites
from evals.spans import found_in_any
from qa_service.domain import Document

SUITES = load_suites()


@cache
def _documents(corpus: str) -> tuple[Document, ...]:
    return tuple(corpus_documents(corpus))


@pytest.mark.parametrize("suite", sorted(SUITES))
def test_gold_spans_are_in_the_stored_text(suite: str) -> None:
    cases = load_dataset(DATASETS_DIR / SUITES[suite]["dataset"])
    documents = [d for corpus in sorted({c.corpus for c in cases}) for d in _documents(corpus)]
    assert check_cases(cases, documents) == []


@pytest.mark.parametrize("suite", sorted(s for s, c in SUITES.items() if s.endswith(("_test", "_dev", "_dev2"))))
def test_new_corpora_keep_the_shares_and_split_headers(suite: str) -> None:
    path = DATASETS_DIR / SUITES[suite]["dataset"]
    assert share_problems(load_dataset(path)) == [], MIN_SHARES
    header = [line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("#")]
    if SUITES[suite]["split"] == "test":
        assert header and "TEST SPLIT" in header[0] and any("Never tune on it" in h for h in header)
    else:
        assert header and "DEV SPLIT" in header[0]


def test_evidence_is_found_up_to_whitespace_and_marks_but_not_when_absent() -> None:
    found = found_in_any(["A first text.", "The value is\n  *42* by default.", "ﬁle names"])
    assert found("The value is 42 by default.")
    assert found("file names")  # the ligature in the stored text, NFKC in the gold
    assert not found("The value is 43 by default.")
    assert not found("   ")


def test_evidence_copied_with_a_footnote_mark_is_found_once_the_pdf_loader_drops_it() -> None:
    from evals.spans import find_span

    text = "Lines are limited to about 4095 bytes. Call fun1 here."
    assert find_span(text, "Lines are limited3 to about 4095 bytes.") == (0, 38)
    assert find_span(text, "Call fun1 here.") == (39, 54)  # found as it is, before any digit is dropped
    assert find_span(text, "limited to about 4096 bytes") is None  # a figure is never a mark
