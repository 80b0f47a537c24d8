"""Cleaning removes the seed's boilerplate; chunks and sentences keep exact offsets."""

from __future__ import annotations

import random

from qa_service.domain import Document
from qa_service.ingest.chunking import chunk_document
from qa_service.ingest.pipeline import prepare_document
from qa_service.ingest.sentences import split_sentences
from tests.conftest import SEED_FILE


def _seed() -> Document:
    return prepare_document(SEED_FILE.read_bytes(), "seeds/seed.txt")


def test_seed_boilerplate_is_removed_and_article_kept() -> None:
    text = _seed().text
    for furniture in ("Membership", "Newsletter", "Become a Member", "Leave a Reply", "KOSTENLOS", "By |"):
        assert furniture not in text
    assert "more than 215 Druze civilians" in text
    assert text.rstrip().endswith("(Basel Awidat/Flash90)")
    raw = SEED_FILE.read_text(encoding="utf-8")
    article = raw[: raw.index("Israel Today Membership")]
    for paragraph in article.split("\n\n"):
        if paragraph.strip() and paragraph.strip() != "By |":
            assert paragraph.strip() in text


def test_chunk_offsets_are_exact_on_the_seed() -> None:
    doc = _seed()
    chunks = chunk_document(doc, chunk_size=300, chunk_overlap=50)
    assert len(chunks) > 5
    for chunk in chunks:
        assert doc.text[chunk.start : chunk.end] == chunk.text
    assert [c.index for c in chunks] == list(range(len(chunks)))


def test_chunk_offsets_are_exact_on_repetitive_text() -> None:
    # Repeated paragraphs are where str.find-based offsets go wrong.
    rng = random.Random(7)
    paragraphs = ["Same paragraph again. " * rng.randint(1, 6) for _ in range(40)]
    doc = Document(id="x", source="x.txt", title="", text="\n\n".join(paragraphs), media_type="text/plain")
    for chunk in chunk_document(doc, chunk_size=200, chunk_overlap=40):
        assert doc.text[chunk.start : chunk.end] == chunk.text


def test_sentence_spans() -> None:
    text = 'Dr. Smith arrived. He said "it works." Then he left!\nNew line here'
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == [
        "Dr. Smith arrived.",
        'He said "it works."',
        "Then he left!",
        "New line here",
    ]
