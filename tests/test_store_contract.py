"""One store and retrieval contract, run against both backends: embedded Chroma and a real Chroma server.

Each test gets its own collection name, so tests sharing the session's Chroma server do not see each other.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pytest

from qa_service.embeddings import SentenceTransformerEmbedder
from qa_service.errors import ConfigurationError, NotFoundError, ServiceUnavailableError
from qa_service.ingest.sentences import document_sentences
from qa_service.services import Services, build_services
from qa_service.settings import Settings, load_settings
from qa_service.store import chroma as store_module
from tests.conftest import SEEDS, copy_seed, make_settings
from tests.servers import free_port

BACKENDS = ["embedded", "server"]
QUESTION = "How many Druze civilians were killed in Sweida?"


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _settings_for(backend: str, data_dir: Path, request: pytest.FixtureRequest) -> Settings:
    overrides: dict[str, object] = {"llm": {"backend": "none"}}
    if backend == "server":
        overrides["chroma"] = {"url": request.getfixturevalue("chroma_server_url")}
    return make_settings(data_dir, **overrides)


@pytest.fixture()
def services(
    backend: str, tmp_path: Path, embedder: SentenceTransformerEmbedder, request: pytest.FixtureRequest
) -> Services:
    return build_services(_settings_for(backend, tmp_path / "data", request), embedder=embedder)


@pytest.fixture()
def collection() -> str:
    return f"c-{uuid.uuid4().hex[:12]}"


def test_data_lives_where_the_backend_keeps_it(services: Services, backend: str, collection: str) -> None:
    services.ingestor.ingest_paths([SEEDS], collection=collection)
    embedded_files = services.settings.data_dir / "chroma"
    assert embedded_files.is_dir() == (backend == "embedded")  # server mode writes nothing locally


def test_missing_collection_is_a_not_found_error(services: Services, collection: str) -> None:
    assert not services.store.has_collection(collection)
    with pytest.raises(NotFoundError):
        services.store.list_documents(collection)


def test_ingest_lists_and_reads_back_the_document(services: Services, collection: str, tmp_path: Path) -> None:
    seed = copy_seed(tmp_path / "docs")
    report = services.ingestor.ingest_paths([seed], collection=collection)
    assert report.count("added") == 1 and report.chunks > 1
    assert collection in services.store.collection_names()
    [info] = services.store.list_documents(collection)
    assert info.state == "ready" and info.chunk_count == report.chunks
    document = services.store.get_document(collection, info.id)
    assert document.text.startswith(seed.read_text(encoding="utf-8").strip()[:40])
    chunks = services.store.all_chunks(collection)
    assert len(chunks) == services.store.chunk_count(collection) == report.chunks
    assert all(document.text[c.start : c.end] == c.text for c in chunks)  # offsets point into the text
    # Its sentence spans come back as ingestion cut them, so a question does not split it again.
    assert document.sentences is not None
    assert document.sentences.tolist() == [list(s) for s in document_sentences(document.text, document.blocks)]


def test_reingest_is_idempotent_and_changes_replace(services: Services, collection: str, tmp_path: Path) -> None:
    seed = copy_seed(tmp_path / "docs")
    first = services.ingestor.ingest_paths([seed], collection=collection).results[0]
    version = services.store.version(collection)
    assert services.ingestor.ingest_paths([seed], collection=collection).results[0].outcome == "unchanged"
    assert services.store.version(collection) == version  # nothing written, no index rebuild
    seed.write_text("A new first line.\n\n" + seed.read_text(encoding="utf-8"), encoding="utf-8")
    second = services.ingestor.ingest_paths([seed], collection=collection).results[0]
    assert second.outcome == "replaced" and services.store.version(collection) != version
    assert [d.id for d in services.store.list_documents(collection)] == [second.document_id]
    assert services.store.chunk_count(collection) == second.chunks
    assert {c.document_id for c in services.store.all_chunks(collection)} == {second.document_id}
    assert first.document_id != second.document_id


def test_dense_query_ranks_by_cosine_and_only_ready_documents(services: Services, collection: str) -> None:
    services.ingestor.ingest_paths([SEEDS], collection=collection)
    vector = services.embedder.embed_cached([QUESTION])[0]
    chunks = {c.id: c for c in services.store.all_chunks(collection)}  # ready documents only
    hits = services.store.query_dense_ids(collection, vector, 5)
    assert len(hits) == 5 and "215 Druze civilians" in chunks[hits[0][0]].text
    similarities = [s for _, s in hits]
    assert similarities == sorted(similarities, reverse=True) and 0.3 < similarities[0] <= 1.0


def test_hybrid_retrieval_finds_the_answer_chunk(services: Services, collection: str) -> None:
    services.ingestor.ingest_paths([SEEDS], collection=collection)
    hits = services.retriever.retrieve(QUESTION, collection=collection, top_k=3)
    assert "215 Druze civilians" in hits[0].chunk.text
    assert hits[0].dense_rank is not None and hits[0].lexical_rank is not None
    answer = services.answerer.ask(QUESTION, collection=collection, top_k=6, mode="extractive")
    assert not answer.refused and "215" in answer.answer


def test_delete_removes_chunks_and_the_lexical_index_follows(
    services: Services, collection: str, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Zebras graze on the savanna in large herds.", encoding="utf-8")
    (docs / "b.txt").write_text("The quokka is a small marsupial found on Rottnest Island.", encoding="utf-8")
    services.ingestor.ingest_paths([docs], collection=collection)
    found = services.retriever.lexical_index(collection).search("quokka", 5)
    assert [c.source.endswith("b.txt") for c, _ in found] == [True]
    services.store.delete_document(collection, found[0][0].document_id)
    assert services.retriever.lexical_index(collection).search("quokka", 5) == []
    assert [d.source.endswith("a.txt") for d in services.store.list_documents(collection)] == [True]
    assert all(c.source.endswith("a.txt") for c in services.store.all_chunks(collection))


def test_a_second_client_sees_writes_of_the_first(
    backend: str,
    services: Services,
    collection: str,
    tmp_path: Path,
    embedder: SentenceTransformerEmbedder,
    request: pytest.FixtureRequest,
) -> None:
    other = build_services(_settings_for(backend, tmp_path / "data", request), embedder=embedder)
    services.ingestor.ingest_paths([SEEDS], collection=collection)
    assert other.retriever.retrieve(QUESTION, collection=collection, top_k=1)[0].chunk.text.count("215")
    [info] = other.store.list_documents(collection)
    other.store.delete_document(collection, info.id)
    assert services.retriever.retrieve(QUESTION, collection=collection, top_k=3) == []


def test_failed_file_leaves_nothing_behind(services: Services, collection: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x00\x01\x02" * 100)
    report = services.ingestor.ingest_paths([bad], collection=collection)
    assert report.count("failed") == 1
    assert not services.store.has_collection(collection) or services.store.list_documents(collection) == []


def test_a_malformed_chroma_url_is_a_settings_error() -> None:
    with pytest.raises(ConfigurationError, match="QA_CHROMA__URL"):
        load_settings(chroma={"url": "chroma:8000"})


def test_an_unreachable_chroma_server_is_a_clear_unavailable_error(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    settings = make_settings(tmp_path, chroma={"url": f"http://127.0.0.1:{free_port()}"}, llm={"backend": "none"})
    with pytest.raises(ServiceUnavailableError, match="cannot reach the Chroma server") as caught:
        build_services(settings, embedder=embedder)
    assert caught.value.code == "store_unavailable"


def test_whole_collection_reads_are_paged(services: Services, collection: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """One get() of a large collection fails in embedded Chroma (too many SQL variables at 100k chunks)."""
    monkeypatch.setattr(store_module, "_PAGE", 4)
    monkeypatch.setattr(store_module, "_ID_PAGE", 3)
    services.ingestor.ingest_paths([SEEDS], collection=collection)
    chunks = services.store.all_chunks(collection)
    assert services.store.chunk_count(collection) > 8  # several pages
    assert len({c.id for c in chunks}) == len(chunks) == services.store.chunk_count(collection)
    documents = services.store.list_documents(collection)
    assert len(documents) == 1
    assert sorted(services.store.chunk_owners(collection)) == sorted((c.id, c.document_id) for c in chunks)


def test_sentence_vectors_stored_at_ingestion_are_the_sentences_embeddings(services: Services, collection: str) -> None:
    import numpy as np

    from qa_service.ingest.sentences import document_sentences
    from qa_service.store.records import SentenceVectors

    document_id = services.ingestor.ingest_paths([SEEDS], collection=collection).results[0].document_id
    assert document_id is not None
    document = services.store.get_document(collection, document_id)
    spans = document_sentences(document.text, document.blocks)
    expected = services.embedder.embed_texts([document.text[a:b] for a, b in spans])
    chunks = [c for c in services.store.all_chunks(collection) if c.document_id == document_id]
    stored = services.store.sentence_vectors(collection, [*(c.id for c in chunks), "0123456789abcdef:00000"])
    assert set(stored) == {c.id for c in chunks}
    covered: set[int] = set()
    for chunk in chunks:  # each chunk's record: the vectors of exactly the sentences it overlaps
        vectors = stored[chunk.id]
        rows = [i for i, (a, b) in enumerate(spans) if a < chunk.end and b > chunk.start]
        assert vectors.spans_key == SentenceVectors.key(spans) and vectors.first == rows[0]
        assert np.allclose(vectors.vectors, expected[rows[0] : rows[-1] + 1], atol=1e-4)
        covered.update(rows)
    assert covered == set(range(len(spans)))
    services.store.delete_document(collection, document_id)
    assert services.store.sentence_vectors(collection, [c.id for c in chunks]) == {}


def test_a_large_document_is_written_in_requests_the_server_accepts(services: Services, collection: str) -> None:
    """2,400 chunks with their sentence vectors (about 75 MB as one request, which a Chroma server refuses as
    too large) are written in bounded requests: the document ends ready with every chunk. Vectors are
    random: what is tested is the write, not the embedding."""
    from qa_service.ingest.chunking import chunk_document
    from qa_service.ingest.pipeline import prepare_document
    from qa_service.store import SentenceVectors, StoredDocument

    rng = np.random.default_rng(0)
    words = ["archive", "restore", "digest", "owner", "mode", "copy", "tape", "volume", "member", "record"]
    sentences = [" ".join(rng.choice(words, 12)).capitalize() + f" {i}." for i in range(20_000)]
    text = "\n\n".join(" ".join(sentences[i : i + 8]) for i in range(0, len(sentences), 8))
    document = prepare_document(text.encode(), "large.txt")
    settings = services.settings
    chunks = chunk_document(
        document, chunk_size=settings.chunking.chunk_size, chunk_overlap=settings.chunking.chunk_overlap
    )
    assert len(chunks) > 2000
    spans = document_sentences(document.text, document.blocks)

    def unit(n: int) -> np.ndarray:
        rows = rng.standard_normal((n, services.embedder.dimension)).astype(np.float32)
        return np.asarray(rows / np.linalg.norm(rows, axis=1, keepdims=True), dtype=np.float32)

    item = StoredDocument(
        document,
        chunks,
        unit(len(chunks)),
        sentence_vectors=SentenceVectors(SentenceVectors.key(spans), unit(len(spans)), spans=spans),
    )
    services.store.put_documents(collection, [item])
    [info] = services.store.list_documents(collection)
    assert info.state == "ready" and info.chunk_count == len(chunks)
    assert services.store.chunk_count(collection) == len(chunks)
