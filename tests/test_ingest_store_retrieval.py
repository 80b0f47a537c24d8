"""Ingestion into a real embedded Chroma: idempotence, replacement, and hybrid retrieval."""

from __future__ import annotations

from pathlib import Path

from qa_service.domain import Chunk
from qa_service.ingest.pipeline import Ingestor
from qa_service.retrieval import fuse_rankings
from qa_service.services import Services
from tests.conftest import copy_seed


def _counts(services: Services) -> tuple[int, int]:
    return len(services.store.list_documents("default")), services.store.chunk_count("default")


def test_reingest_same_file_changes_nothing(fresh_services: Services, tmp_path: Path) -> None:
    seed = copy_seed(tmp_path / "docs")
    first = fresh_services.ingestor.ingest_paths([seed], collection="default")
    assert first.count("added") == 1 and first.chunks > 0
    before = _counts(fresh_services)
    second = fresh_services.ingestor.ingest_paths([seed], collection="default")
    assert second.count("unchanged") == 1 and second.chunks == 0
    assert _counts(fresh_services) == before


def test_changed_file_replaces_old_chunks(fresh_services: Services, tmp_path: Path) -> None:
    seed = copy_seed(tmp_path / "docs")
    old = fresh_services.ingestor.ingest_paths([seed], collection="default").results[0]
    seed.write_text("A new first line.\n\n" + seed.read_text(encoding="utf-8"), encoding="utf-8")
    new = fresh_services.ingestor.ingest_paths([seed], collection="default").results[0]
    assert new.outcome == "replaced" and new.document_id != old.document_id
    docs = fresh_services.store.list_documents("default")
    assert [d.id for d in docs] == [new.document_id]
    assert fresh_services.store.chunk_count("default") == new.chunks  # no orphans of the old version
    assert all(c.document_id == new.document_id for c in fresh_services.store.all_chunks("default"))


def test_failed_file_leaves_nothing_behind(fresh_services: Services, tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x00\x01\x02" * 100)
    report = fresh_services.ingestor.ingest_paths([bad], collection="default")
    assert report.count("failed") == 1 and "binary" in (report.results[0].error or "")
    store = fresh_services.store
    assert not store.has_collection("default") or store.list_documents("default") == []


def test_hybrid_retrieval_finds_the_answer_chunk(seeded_services: Services) -> None:
    hits = seeded_services.retriever.retrieve(
        "How many Druze civilians were killed in Sweida?", collection="default", top_k=3
    )
    assert "215 Druze civilians" in hits[0].chunk.text
    assert hits[0].dense_rank is not None and hits[0].lexical_rank is not None


def test_lexical_index_follows_collection_changes(fresh_services: Services, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Zebras graze on the savanna in large herds.", encoding="utf-8")
    fresh_services.ingestor.ingest_paths([docs], collection="default")
    assert fresh_services.retriever.lexical_index("default").search("quokka", 5) == []
    (docs / "b.txt").write_text("The quokka is a small marsupial found on Rottnest Island.", encoding="utf-8")
    fresh_services.ingestor.ingest_paths([docs / "b.txt"], collection="default")
    found = fresh_services.retriever.lexical_index("default").search("quokka", 5)
    assert [c.source.endswith("b.txt") for c, _ in found] == [True]
    doc_id = found[0][0].document_id
    fresh_services.store.delete_document("default", doc_id)
    assert fresh_services.retriever.lexical_index("default").search("quokka", 5) == []


def _chunk(cid: str) -> Chunk:
    return Chunk(id=cid, document_id="d", index=0, start=0, end=1, text=cid, source="s")


def test_reciprocal_rank_fusion_rewards_agreement() -> None:
    a, b, c = _chunk("a"), _chunk("b"), _chunk("c")
    fused = fuse_rankings([(a, 0.9), (b, 0.8)], [(b, 5.0), (c, 4.0)], method="rrf", rrf_k=60)
    assert [s.chunk.id for s in fused] == ["b", "a", "c"]
    assert fused[0].dense_rank == 2 and fused[0].lexical_rank == 1


def test_convex_fusion_keeps_score_margins() -> None:
    a, b, c, d = _chunk("a"), _chunk("b"), _chunk("c"), _chunk("d")
    # b is a distant second in dense but far ahead in BM25: convex fusion puts it first.
    fused = fuse_rankings([(a, 0.9), (b, 0.5), (d, 0.1)], [(b, 9.0), (c, 1.0), (a, 0.5)], method="convex", alpha=0.5)
    assert [s.chunk.id for s in fused][:2] == ["b", "a"]
    assert fused[0].score == 0.5 * (0.5 - 0.1) / (0.9 - 0.1) + 0.5 * 1.0


def test_same_file_under_a_new_pipeline_is_reindexed(fresh_services: Services, tmp_path: Path) -> None:
    seed = copy_seed(tmp_path / "docs")
    fresh_services.ingestor.ingest_paths([seed], collection="default")
    finer = Ingestor(store=fresh_services.store, embedder=fresh_services.embedder, chunk_size=300, chunk_overlap=50)
    result = finer.ingest_paths([seed], collection="default").results[0]
    assert result.outcome == "reindexed"
    assert fresh_services.store.chunk_count("default") == result.chunks
    assert finer.ingest_paths([seed], collection="default").results[0].outcome == "unchanged"


def test_chunks_are_embedded_with_their_document_title(fresh_services: Services, tmp_path: Path) -> None:
    doc = tmp_path / "manual.md"
    doc.write_text("# Widget manual\n\n" + "The knob turns clockwise only. " * 60, encoding="utf-8")
    fresh_services.ingestor.ingest_paths([doc], collection="default")
    chunks = fresh_services.store.all_chunks("default")
    assert len(chunks) > 1 and all(c.title == "Widget manual" for c in chunks)
    assert chunks[-1].search_text.startswith("Widget manual\n")


def test_ingestion_reports_bytes_as_it_embeds(fresh_services: Services, tmp_path: Path) -> None:
    """The CLI's bar counts bytes: a large file moves it several times before its result arrives, and the
    bytes reported add up to the files' sizes (skipped and unchanged files included)."""
    small = tmp_path / "small.txt"
    small.write_text("The Quillon archive opens at nine.\n", encoding="utf-8")
    large = tmp_path / "large.txt"
    large.write_text(
        "\n\n".join(f"Station {i} of the Varrow line records {i * 7} passengers on a weekday." for i in range(900)),
        encoding="utf-8",
    )
    events: list[tuple[str, int | str]] = []
    fresh_services.ingestor.ingest_paths(
        [small, large],
        collection="bytes",
        on_progress=lambda r: events.append(("done", r.source)),
        on_bytes=lambda n: events.append(("bytes", n)),
    )
    total = small.stat().st_size + large.stat().st_size
    assert sum(int(n) for kind, n in events if kind == "bytes") == total
    before_large = events[: events.index(("done", "large.txt"))]
    assert sum(kind == "bytes" for kind, _ in before_large) >= 3
    again: list[int] = []
    fresh_services.ingestor.ingest_paths([small, large], collection="bytes", on_bytes=again.append)
    assert sum(again) == total  # unchanged files count too
