"""Text embeddings: a one-method backend contract with batching and a query cache in the base class."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


class Embedder(ABC):
    """Turns texts into L2-normalised float32 vectors; subclasses implement ``embed_batch`` only."""

    batch_size: int = 16
    # Texts per embed_batch call: large, so the model can sort a whole group by length before cutting
    # it into batch_size pieces (padding short texts to long ones' length wastes most of the compute).
    group_size: int = 2048
    dimension: int
    name: str = "embedder"

    def __init__(self, *, query_cache_size: int = 8192) -> None:
        self._query_cache: OrderedDict[str, Vectors] = OrderedDict()
        self._query_cache_size = query_cache_size

    @abstractmethod
    def embed_batch(self, texts: Sequence[str]) -> Vectors:
        """Embed one batch; rows are L2-normalised."""

    def embed_texts(self, texts: Sequence[str]) -> Vectors:
        """Embed any number of texts, handing the backend groups of ``group_size`` (it batches within)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        size = self.group_size
        parts = [self.embed_batch(texts[i : i + size]) for i in range(0, len(texts), size)]
        return np.vstack(parts).astype(np.float32, copy=False)

    def clear_cache(self) -> None:
        """Forget cached embeddings (benchmarks and baselines compare cold to cold)."""
        self._query_cache.clear()

    def embed_cached(self, texts: Sequence[str]) -> Vectors:
        """Embed short texts (questions, evidence sentences) through an LRU cache."""
        missing = list(dict.fromkeys(t for t in texts if t not in self._query_cache))
        if missing:
            for text, vector in zip(missing, self.embed_texts(missing), strict=True):
                self._query_cache[text] = vector
        rows = []
        for text in texts:
            self._query_cache.move_to_end(text)
            rows.append(self._query_cache[text])
        while len(self._query_cache) > self._query_cache_size:
            self._query_cache.popitem(last=False)
        return np.vstack(rows) if rows else np.zeros((0, self.dimension), dtype=np.float32)


class SentenceTransformerEmbedder(Embedder):
    """sentence-transformers model loaded from a local folder (never from a hub)."""

    def __init__(
        self, model_path: str, *, batch_size: int = Embedder.batch_size, query_cache_size: int = 8192
    ) -> None:
        super().__init__(query_cache_size=query_cache_size)
        # Offline by construction: a missing local model must fail, not start a download.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(model_path, device="cpu", local_files_only=True)
        self.name = f"st:{Path(model_path).name}"
        self.batch_size = batch_size
        dimension = (
            getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        )
        self.dimension = int(dimension() or 0)

    def embed_batch(self, texts: Sequence[str]) -> Vectors:
        vectors = self._model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)
