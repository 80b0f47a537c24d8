"""Store health: chunks and sentence vectors nobody owns (left by a crash or a racing delete) and ready
documents missing chunks."""

from __future__ import annotations

from collections import Counter

from qa_service.store.chroma import ChromaStore
from qa_service.store.records import FAILED, READY


def remove_orphan_records(store: ChromaStore, name: str) -> int:
    """Delete chunks and sentence-vector records whose document record is gone or failed (left by a crash
    mid-write); returns how many. Records of documents still in progress are left to whoever finishes or
    fails them."""
    states = {info.id: info.state for info in store.list_documents(name)}

    def gone(doc_id: str) -> bool:
        return states.get(doc_id, FAILED) == FAILED

    chunks = [cid for cid, doc_id in store.chunk_owners(name) if gone(doc_id)]
    store.delete_chunks(name, chunks)
    sentences = [rid for rid, doc_id in store.sentence_owners(name) if gone(doc_id)]
    store.delete_sentence_records(name, sentences)
    return len(chunks) + len(sentences)


def integrity_problems(store: ChromaStore, name: str) -> list[str]:
    """What a reader could trip over: orphan chunks or sentence vectors, ready documents missing chunks.
    Empty when sound."""
    counts = Counter(doc_id for _, doc_id in store.chunk_owners(name))
    infos = {info.id: info for info in store.list_documents(name)}
    problems = []
    for doc_id, count in counts.items():
        info = infos.get(doc_id)
        if info is None or info.state != READY:
            problems.append(f"{count} chunks of {doc_id} whose document is {info.state if info else 'missing'}")
    for info in infos.values():
        if info.state == READY and counts.get(info.id, 0) != info.chunk_count:
            problems.append(f"{info.id} is ready with {counts.get(info.id, 0)} of {info.chunk_count} chunks")
    vectors = Counter(doc_id for _, doc_id in store.sentence_owners(name))
    for owner, count in vectors.items():
        found = infos.get(owner)
        if found is None or found.state == FAILED:
            problems.append(
                f"{count} sentence-vector records of {owner} whose document is {found.state if found else 'missing'}"
            )
    return problems
