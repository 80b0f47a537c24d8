"""Scoped questions: which documents of a collection a question may draw on.

A ``Scope`` names documents by id, by source glob and by metadata (tags, time of the last change). The
store resolves it to document ids with Chroma ``where`` clauses (``resolve_scope``); retrieval then
limits both the dense query and BM25 to those documents (``ScopedRetriever``).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from qa_service.domain import MetadataValue, ScoredChunk
from qa_service.errors import InvalidInputError
from qa_service.text import unencodable_at

if TYPE_CHECKING:
    from qa_service.retrieval import HybridRetriever

MAX_TAGS = 50
MAX_TAG_CHARS = 64
MAX_METADATA_KEYS = 32
MAX_METADATA_VALUE_CHARS = 500


@dataclass(frozen=True, slots=True)
class Scope:
    """Documents a question is limited to; every given part must hold (an empty scope is the whole collection)."""

    document_ids: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()  # glob patterns over the file name and the relative path
    tags: tuple[str, ...] = ()  # any of them
    updated_after: float | None = None  # Unix time

    @property
    def is_everything(self) -> bool:
        return not (self.document_ids or self.sources or self.tags) and self.updated_after is None

    def where(self, ready_state: str) -> dict[str, Any]:
        """The Chroma ``where`` clause over document records (ids and source globs are applied apart)."""
        clauses: list[dict[str, Any]] = [{"state": ready_state}]
        if self.tags:
            tag_clauses = [{"tags": {"$contains": tag}} for tag in self.tags]
            clauses.append(tag_clauses[0] if len(tag_clauses) == 1 else {"$or": tag_clauses})
        if self.updated_after is not None:
            clauses.append({"updated_at": {"$gt": self.updated_after}})
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def matches_source(self, source: str, path: str) -> bool:
        if not self.sources:
            return True
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in self.sources for name in (source, path))


def check_document_ids(requested: Iterable[str], known: set[str]) -> None:
    """Unknown ids are a caller's mistake, reported with the field's name (not an empty answer)."""
    unknown = [doc_id for doc_id in requested if doc_id not in known]
    if unknown:
        raise InvalidInputError(
            f"document_ids: unknown document {unknown[0][:80]!r} in this collection", code="invalid_filter"
        )


def require_matches(matched: set[str]) -> set[str]:
    if not matched:
        raise InvalidInputError(
            "no ready document matches document_ids, sources and filter together", code="no_matching_documents"
        )
    return matched


def validate_metadata(raw: Mapping[str, Any]) -> dict[str, MetadataValue]:
    """User metadata of a document: ``tags`` (a list of strings) and scalar values; each problem names its key."""
    if len(raw) > MAX_METADATA_KEYS:
        raise InvalidInputError(f"metadata: at most {MAX_METADATA_KEYS} keys", code="invalid_metadata")
    clean: dict[str, MetadataValue] = {}
    for key, value in raw.items():
        if not isinstance(key, str) or not key or len(key) > 64 or not key.replace("_", "").isalnum():
            raise InvalidInputError(f"metadata: invalid key {str(key)[:80]!r}", code="invalid_metadata")
        if key == "path":
            raise InvalidInputError("metadata.path: reserved (set by folder ingestion)", code="invalid_metadata")
        if isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            for text in [value] if isinstance(value, str) else value:
                if unencodable_at(text) is not None:
                    raise InvalidInputError(f"metadata.{key}: text is not valid Unicode", code="invalid_metadata")
        if key == "tags":
            clean["tags"] = normalize_tags(value)
        elif isinstance(value, bool | int | float) or (
            isinstance(value, str) and len(value) <= MAX_METADATA_VALUE_CHARS
        ):
            clean[key] = value
        else:
            raise InvalidInputError(
                f"metadata.{key}: must be a string (up to {MAX_METADATA_VALUE_CHARS} characters), number or boolean",
                code="invalid_metadata",
            )
    return clean


def normalize_tags(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise InvalidInputError("metadata.tags: must be a list of strings", code="invalid_metadata")
    tags = list(dict.fromkeys(t.strip() for t in value if t.strip()))
    if len(tags) > MAX_TAGS or any(len(t) > MAX_TAG_CHARS for t in tags):
        raise InvalidInputError(
            f"metadata.tags: at most {MAX_TAGS} tags of up to {MAX_TAG_CHARS} characters", code="invalid_metadata"
        )
    return tags


class ScopedRetriever:
    """A retriever limited to some documents of one collection (the answerer's ``Retriever`` contract)."""

    def __init__(self, hybrid: HybridRetriever, document_ids: frozenset[str]) -> None:
        self._hybrid = hybrid
        self._document_ids = document_ids

    def retrieve(self, question: str, *, collection: str, top_k: int) -> list[ScoredChunk]:
        return self._hybrid.retrieve(question, collection=collection, top_k=top_k, document_ids=self._document_ids)

    def prevalence(self, words: set[str], *, collection: str) -> dict[str, float]:
        # How common a name is stays a property of the whole collection: a topic word of the collection
        # does not become a distinguishing one because the question is scoped.
        return self._hybrid.prevalence(words, collection=collection)

    def term_shares(self, terms: set[str], *, collection: str) -> dict[str, float]:
        return self._hybrid.term_shares(terms, collection=collection)
