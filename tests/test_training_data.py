"""The reader's training corpus (evals/training): where its documents come from, that every label is found
in the text the service stores, the split by document, the kind shares, the audit, and the README's counts."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from evals.training.check import stored_texts
from evals.training.data import check_claims, check_questions, load_claims, load_questions
from evals.training.documents import BY_NAME, DOCUMENTS, EXCLUDED_PACKAGES, PACKAGES, is_excluded
from evals.training.report import current_counts, readme_counts

AUDIT = Path(__file__).resolve().parent.parent / "evals" / "training" / "audit.json"


def test_no_training_document_comes_from_an_excluded_package() -> None:
    assert not [d.name for d in DOCUMENTS if is_excluded(d.package)]
    assert "debian-reference-en" not in PACKAGES and is_excluded("debian-reference-en")
    assert {"python3-doc", "openssh-client", "systemd"} <= EXCLUDED_PACKAGES


def test_each_document_is_shipped_by_the_package_the_table_names() -> None:
    """dpkg says which package installed each file: the table cannot name a package it does not come from."""
    result = subprocess.run(
        ["dpkg", "-S", *(str(d.path) for d in DOCUMENTS)], capture_output=True, text=True, check=True
    )
    owner = {}
    for line in result.stdout.splitlines():
        packages, _, path = line.partition(": ")
        owner[path] = {p.strip().split(":")[0] for p in packages.split(",")}
    for d in DOCUMENTS:
        assert d.package in owner[str(d.path)], (d.name, owner[str(d.path)])
        assert not any(is_excluded(p) for p in owner[str(d.path)]), d.name


def test_every_label_is_found_in_the_stored_text() -> None:
    questions, claims = load_questions(), load_claims()
    texts = stored_texts({q.document for q in questions} | {c.document for c in claims})
    assert check_questions(questions, texts) == []
    assert check_claims(claims, texts) == []


def test_the_split_is_by_document_and_validation_holds_a_sixth_of_them() -> None:
    questions = load_questions()
    used = {q.document for q in questions}
    validation = {d for d in used if BY_NAME[d].split == "validation"}
    assert len(validation) >= 0.15 * len(used)
    for kind in {d.kind for d in DOCUMENTS}:  # every kind of document is validated on
        assert any(BY_NAME[d].kind == kind for d in validation), kind


def test_sizes_and_kind_shares() -> None:
    questions, claims = load_questions(), load_claims()
    assert len(questions) >= 4000 and len(claims) >= 2000
    assert len({q.document for q in questions}) >= 60
    assert len({BY_NAME[q.document].package for q in questions}) >= 20
    kinds = Counter(q.kind for q in questions)
    n = len(questions)
    assert (kinds["answerable"] + kinds["multi_sentence"]) / n >= 0.60
    assert kinds["multi_sentence"] / n >= 0.05
    assert kinds["near_miss"] / n >= 0.25
    assert kinds["false_premise"] / n >= 0.05
    assert kinds["instruction"] / n >= 0.03
    by_document_kind = Counter(BY_NAME[q.document].kind for q in questions)
    for kind in {d.kind for d in DOCUMENTS}:
        assert by_document_kind[kind] / n >= 0.10, kind
    assert sum(c.supported for c in claims) / len(claims) >= 0.40


def test_the_audit_relabelled_a_random_twentieth() -> None:
    audit = json.loads(AUDIT.read_text(encoding="utf-8"))
    assert audit["relabelled"] >= 0.05 * len(load_questions())
    assert 0.0 <= audit["agreement"]["answerable"] <= 1.0


@pytest.mark.filterwarnings("ignore")
def test_the_readme_counts_are_current() -> None:
    assert readme_counts() == current_counts(), "run: python -m evals.training.report --write"


def test_make_installs_every_package_the_corpus_reads() -> None:
    makefile = (Path(__file__).resolve().parent.parent / "Makefile").read_text(encoding="utf-8")
    listed = makefile.split("TRAINING_PACKAGES :=", 1)[1].split("\n\n", 1)[0].replace("\\\n", " ").split()
    assert set(listed) == set(PACKAGES) | {"groff-base"}
