"""The incremental BM25 index: same scores as bm25s built from scratch, after any sequence of changes."""

from __future__ import annotations

import random
from pathlib import Path

import bm25s
import numpy as np
import pytest

from qa_service.domain import Chunk
from qa_service.lexical import LexicalIndex, LexicalIndexes, Segment, Vocabulary
from qa_service.services import Services
from qa_service.text import stem_terms

WORDS = (
    "river bank money loan interest rate flood water boat bridge city council vote budget school teacher "
    "student exam paper ink pen the a of and quokka marsupial island"
).split()


def _chunks(seed: int, documents: int) -> list[Chunk]:
    rng = random.Random(seed)
    out = []
    for d in range(documents):
        for i in range(rng.randint(1, 4)):
            text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 30)))
            out.append(Chunk(f"s{seed}d{d}c{i}", f"s{seed}d{d}", i, 0, len(text), text, f"d{d}.txt"))
    return out


def _reference(chunks: list[Chunk], query: str, k: int) -> list[tuple[str, float]]:
    model = bm25s.BM25()
    model.index([stem_terms(c.search_text) or ["_empty_"] for c in chunks], show_progress=False)
    vocab = set(model.vocab_dict)
    terms = [t for t in stem_terms(query) if t in vocab]
    if not terms:
        return []
    ids, scores = model.retrieve([terms], k=min(k, len(chunks)), show_progress=False)
    return sorted(
        ((chunks[int(i)].id, float(s)) for i, s in zip(ids[0], scores[0], strict=True) if s > 0), key=lambda p: -p[1]
    )


def _fresh(chunks: list[Chunk]) -> LexicalIndex:
    empty = LexicalIndex("", Vocabulary(), Vocabulary())
    segment = Segment.build(chunks, empty.stems, empty.vocabulary)
    return empty.changed("v1", [], segment, {c.document_id: "t" for c in chunks})


def _same(found: list[tuple[Chunk, float]], expected: list[tuple[str, float]]) -> None:
    assert [round(s, 4) for _, s in found] == pytest.approx([round(s, 4) for _, s in expected], abs=2e-4)
    # ties may come in another order; the set of ids per score must agree
    assert {(c.id, round(s, 3)) for c, s in found} == {(cid, round(s, 3)) for cid, s in expected}


@pytest.mark.parametrize("query", ["river bank loan", "quokka island quokka", "the", "school exam paper ink"])
def test_scores_match_bm25s(query: str) -> None:
    chunks = _chunks(1, 40)
    _same(_fresh(chunks).search(query, 10), _reference(chunks, query, 10))


def test_changes_give_the_index_built_from_scratch() -> None:
    first, second = _chunks(1, 30), _chunks(2, 20)
    index = _fresh(first)
    index = index.changed(
        "v2", [], Segment.build(second, index.stems, index.vocabulary), {c.document_id: "t" for c in second}
    )
    removed = {"s1d3", "s1d7", "s2d4"}
    index = index.changed("v3", removed, None, {})
    left = [c for c in first + second if c.document_id not in removed]
    for query in ("river bank loan", "quokka marsupial", "budget vote council"):
        _same(index.search(query, 8), _reference(left, query, 8))
    assert {c.id for c in index.chunks} == {c.id for c in left}
    plan = index.merge_plan() or list(index.segments)
    position = {id(s): i for i, s in enumerate(index.segments)}
    merged = Segment.merge(
        [(s, index.alive[position[id(s)]]) for s in plan], len(index.stems.ids), len(index.vocabulary.ids)
    )
    after = index.with_merged(plan, merged)
    assert after.dead_rows == 0 or len(plan) < len(index.segments)
    for query in ("river bank loan", "quokka marsupial"):
        _same(after.search(query, 8), _reference(left, query, 8))
    scoped = {"s1d1", "s2d2"}
    found = after.search("river bank", 50, document_ids=scoped)
    assert found and {c.document_id for c, _ in found} <= scoped


def test_prevalence_counts_live_chunks_and_documents() -> None:
    chunks = _chunks(3, 10)
    index = _fresh(chunks)
    holding = [c for c in chunks if "quokka" in c.text.split()]
    docs = {c.document_id for c in holding}
    expected = max(len(holding) / len(chunks), len(docs) / 10)
    assert index.prevalence("quokka") == pytest.approx(expected)
    gone = index.changed("v2", docs, None, {})
    assert gone.prevalence("quokka") == 0.0
    assert np.isclose(
        gone.live_rows,
        len(chunks) - len(holding) - sum(1 for c in chunks if c.document_id in docs and c not in holding),
    )


def test_term_share_counts_live_chunks_holding_a_stem() -> None:
    from qa_service.text import stem_terms

    chunks = _chunks(4, 10)
    index = _fresh(chunks)
    holding = [c for c in chunks if "quokka" in stem_terms(c.text)]
    assert holding and index.term_share("quokka") == pytest.approx(len(holding) / len(chunks))
    assert index.term_share("nowhere") == 0.0
    gone = index.changed("v2", {c.document_id for c in holding}, None, {})
    assert gone.term_share("quokka") == 0.0


def test_the_store_backed_index_follows_writes_and_restarts_from_disk(fresh_services: Services, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(6):
        (docs / f"n{i}.txt").write_text(f"Note {i}: the harbour ferry leaves at {i + 7} o'clock.", encoding="utf-8")
    ingestor, store = fresh_services.ingestor, fresh_services.store
    ingestor.ingest_paths([docs], collection="default")
    directory = tmp_path / "lexical"
    indexes = LexicalIndexes(store, directory, background=False)
    before = indexes.get("default")
    assert len(before.chunks) == 6 and indexes.rebuilt["default"] == 6
    (docs / "q.txt").write_text("The quokka is a small marsupial found on Rottnest Island.", encoding="utf-8")
    ingestor.ingest_paths([docs / "q.txt"], collection="default")
    after = indexes.get("default")
    assert indexes.rebuilt["default"] == 7  # only the new document was tokenised
    assert [c.source for c, _ in after.search("quokka", 5)] == ["q.txt"]
    store.delete_document("default", after.search("ferry 9", 1)[0][0].document_id)
    current = indexes.get("default")
    assert len(current.chunks) == 6
    indexes.merge("default")
    indexes.save("default")
    restarted = LexicalIndexes(store, directory, background=False)
    again = restarted.get("default")
    assert restarted.rebuilt.get("default", 0) == 0  # nothing re-tokenised after a restart
    # and the chunks came back from the saved index, every field as the store has them
    assert sorted(again.chunks, key=lambda c: c.id) == sorted(store.all_chunks("default"), key=lambda c: c.id)
    query = "harbour ferry quokka"
    assert [(c.id, round(s, 4)) for c, s in again.search(query, 10)] == [
        (c.id, round(s, 4)) for c, s in indexes.get("default").search(query, 10)
    ]
    # what changed while it was down is applied on the next start: a delete and a new document
    store.delete_document("default", next(d.id for d in store.list_documents("default") if d.source == "n0.txt"))
    (docs / "w.txt").write_text("The wombat digs long burrows.", encoding="utf-8")
    ingestor.ingest_paths([docs / "w.txt"], collection="default")
    later = LexicalIndexes(store, directory, background=False)
    assert sorted(later.get("default").chunks, key=lambda c: c.id) == sorted(
        store.all_chunks("default"), key=lambda c: c.id
    )
    assert later.rebuilt["default"] == 1 and [c.source for c, _ in later.get("default").search("wombat", 3)] == [
        "w.txt"
    ]


def test_sentence_vectors_round_trip_per_chunk_and_foreign_records_are_ignored() -> None:
    from qa_service.domain import Chunk
    from qa_service.store.records import SentenceVectors, sentence_records, sentence_vectors_from

    spans = [(0, 10), (11, 20), (21, 30), (31, 40), (41, 50)]
    vectors = np.random.default_rng(0).standard_normal((5, 8)).astype(np.float32)
    item = SentenceVectors(SentenceVectors.key(spans), vectors, spans=spans)
    chunks = [
        Chunk(id="doc:00000", document_id="doc", index=0, start=0, end=25, text="", source=""),
        Chunk(id="doc:00001", document_id="doc", index=1, start=18, end=50, text="", source=""),
        Chunk(id="doc:00002", document_id="doc", index=2, start=41, end=50, text="", source=""),
    ]
    rows = sentence_records(item, chunks)
    assert [r[0] for r in rows] == [c.id for c in chunks]
    # each record holds exactly the sentences its chunk overlaps (one across two chunks is in both)
    for (_, meta, _), first, last in zip(rows, [0, 1, 4], [3, 5, 5], strict=True):
        back = sentence_vectors_from(meta)
        assert back is not None and back.first == first and back.spans_key == item.spans_key
        assert np.array_equal(back.vectors, vectors[first:last])
    assert sentence_vectors_from({**rows[0][1], "dtype": "float16"}) is None  # another format
    assert sentence_vectors_from({**rows[0][1], "rows": 7}) is None  # damaged
    # Per-document records written before these (no "first") are not read: those sentences get embedded.
    legacy = {k: v for k, v in rows[0][1].items() if k != "first"} | {"part": 0, "parts": 1}
    assert sentence_vectors_from(legacy) is None


def test_document_cache_reads_stored_spans_loads_misses_in_one_batch_and_holds_at_most_its_bytes() -> None:
    from qa_service.answering.evidence import CachedDocument, DocumentCache
    from qa_service.domain import Document
    from qa_service.ingest.sentences import document_sentences

    text = "One sentence here. Another one follows it. " * 50
    spans = np.asarray(document_sentences(text, ()), dtype=np.int64)
    docs = {f"d{i}": Document(id=f"d{i}", source=f"{i}.txt", title="", text=text, media_type="text/plain",
                              sentences=spans if i % 2 else None) for i in range(6)}  # fmt: skip
    calls: list[list[str]] = []

    def load(collection: str, ids: object) -> dict[str, Document]:
        calls.append(list(ids))  # type: ignore[call-overload]
        return {i: docs[i] for i in calls[-1] if i in docs}

    weight = CachedDocument.of(docs["d0"]).weight()
    cache = DocumentCache(load, 3 * weight)
    got = cache.entries("c", ["d0", "d1", "d2", "gone"])
    assert calls == [["d0", "d1", "d2", "gone"]] and set(got) == {"d0", "d1", "d2"}
    # stored spans are used as they are; a document without them is split, to the same spans
    assert got["d1"].spans is docs["d1"].sentences and np.array_equal(got["d0"].spans, spans)
    assert got["d0"].spans_key == got["d1"].spans_key
    cache.entries("c", ["d0", "d1"])
    assert len(calls) == 1  # hits
    cache.entries("c", ["d3"])  # over its bytes: the least recently used (d2) goes
    cache.entries("c", ["d0", "d1", "d3"])
    assert len(calls) == 2
    cache.entries("c", ["d2"])
    assert calls[-1] == ["d2"]
    # spans that do not fit the text (a damaged record) are not trusted
    bad = Document(id="x", source="x", title="", text="Short. Text.", media_type="text/plain", sentences=spans)
    assert CachedDocument.of(bad).spans.tolist() == [[0, 6], [7, 12]]


def test_a_stopword_contracted_with_s_is_a_stopword() -> None:
    from qa_service.text import stem_terms

    assert stem_terms("What's the point of it? It's the package's file.") == ["point", "packag", "file"]
