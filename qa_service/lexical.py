"""The lexical half of retrieval: BM25 over a collection's ready chunks, kept up to date incrementally.

An index is a list of immutable *segments* (term-frequency and word matrices of some chunks, tokenised
once) and, per segment, which rows are alive. Adding documents adds a segment of just their chunks;
deleting or re-indexing one marks its rows dead. BM25's statistics (document count, document frequencies,
average length) are computed over the live rows at query time, so the scores are those of an index built
from scratch over the same chunks (the formula of bm25s' default "lucene" method, which this replaces).
Small segments are merged, and dead rows dropped, in a background thread (stacking matrices, no
re-tokenising); a reader always holds a complete snapshot and never waits for a merge.

Which documents an index holds is compared with Chroma's ready documents whenever the collection's
version token changes, so replicas sharing one Chroma follow each other's writes. The index is saved to
the data directory after merges, with its chunks, and a restart loads it and applies only what changed
since: it reads no chunk from Chroma (at 100k chunks that read took 21 of a 53 s restart).
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import sparse

from qa_service.domain import Chunk
from qa_service.store import ChromaStore
from qa_service.text import stem_terms, words

log = logging.getLogger(__name__)

K1, B = 1.5, 0.75  # BM25 parameters (bm25s' defaults, with which the eval gates were measured)
EMPTY = "_empty_"  # the one term of a chunk without content words (so its length is 1, as in bm25s)
MIN_DOCUMENTS = 5  # below this, document shares say nothing (in one document every word is in "all")
MAX_SEGMENTS = 6  # more than this, or too many dead rows, and a background merge starts
MAX_DEAD_SHARE = 0.25
SAVE_AFTER = 1000  # chunks tokenised since the last save that make a save worth it
FORMAT = 3  # of the saved index; another value is ignored (rebuilt). 2: chunks saved with it; 3: "it's" is a stopword


class Vocabulary:
    """Term -> column, append-only and shared by every snapshot (a column once given never changes)."""

    def __init__(self, terms: Iterable[str] = ()) -> None:
        self.ids: dict[str, int] = {}
        for term in terms:
            self.ids.setdefault(term, len(self.ids))

    def add(self, term: str) -> int:
        found = self.ids.get(term)
        if found is None:
            found = self.ids[term] = len(self.ids)
        return found

    def terms(self) -> list[str]:
        return list(self.ids)


@dataclass(frozen=True, slots=True, eq=False)
class Segment:
    """Some chunks, tokenised: ``terms`` (rows x stem columns, counts) and ``words`` (rows x word columns,
    presence), both CSC so a query reads a column. A document's chunks are consecutive rows."""

    chunks: tuple[Chunk, ...]
    terms: sparse.csc_matrix
    words: sparse.csc_matrix
    lengths: np.ndarray  # tokens per row (float64)
    rows_of: dict[str, tuple[int, int]]  # document id -> row range
    document_of: np.ndarray  # row -> ordinal of its document in rows_of (int32)

    @property
    def size(self) -> int:
        return len(self.chunks)

    @staticmethod
    def build(chunks: Sequence[Chunk], stems: Vocabulary, vocabulary: Vocabulary) -> Segment:
        """Tokenise ``chunks`` (ordered by document) into a segment; new terms join the vocabularies."""
        t_rows: list[int] = []
        t_cols: list[int] = []
        t_vals: list[int] = []
        w_rows: list[int] = []
        w_cols: list[int] = []
        lengths = np.zeros(len(chunks), dtype=np.float64)
        for row, chunk in enumerate(chunks):
            tokens = stem_terms(chunk.search_text) or [EMPTY]
            lengths[row] = len(tokens)
            for term, count in Counter(tokens).items():
                t_rows.append(row)
                t_cols.append(stems.add(term))
                t_vals.append(count)
            for word in set(words(chunk.text)):
                w_rows.append(row)
                w_cols.append(vocabulary.add(word))
        shape_t = (len(chunks), len(stems.ids))
        shape_w = (len(chunks), len(vocabulary.ids))
        term_matrix = sparse.csc_matrix(
            (np.asarray(t_vals, dtype=np.float32), (t_rows, t_cols)), shape=shape_t, dtype=np.float32
        )
        word_matrix = sparse.csc_matrix(
            (np.ones(len(w_rows), dtype=np.bool_), (w_rows, w_cols)), shape=shape_w, dtype=np.bool_
        )
        return Segment._assemble(tuple(chunks), term_matrix, word_matrix, lengths)

    @staticmethod
    def _assemble(
        chunks: tuple[Chunk, ...], terms: sparse.csc_matrix, word_matrix: sparse.csc_matrix, lengths: np.ndarray
    ) -> Segment:
        rows_of: dict[str, tuple[int, int]] = {}
        document_of = np.zeros(len(chunks), dtype=np.int32)
        for row, chunk in enumerate(chunks):
            start, _ = rows_of.get(chunk.document_id, (row, row))
            if chunk.document_id not in rows_of:
                document_of[row] = len(rows_of)
            else:
                document_of[row] = document_of[start]
            rows_of[chunk.document_id] = (start, row + 1)
        terms.sort_indices()
        word_matrix.sort_indices()
        return Segment(chunks, terms, word_matrix, lengths, rows_of, document_of)

    def column(self, matrix: sparse.csc_matrix, column: int) -> tuple[np.ndarray, np.ndarray]:
        """(rows, values) of one column; empty for a column added after this segment was built."""
        if column >= matrix.shape[1]:
            return _NO_ROWS, _NO_VALUES
        start, end = matrix.indptr[column], matrix.indptr[column + 1]
        return matrix.indices[start:end], matrix.data[start:end]

    @staticmethod
    def merge(parts: Sequence[tuple[Segment, np.ndarray]], stems: int, vocabulary: int) -> Segment:
        """One segment of the alive rows of ``parts`` (segment, alive mask), in order."""
        chunks: list[Chunk] = []
        terms, word_parts, lengths = [], [], []
        for segment, alive in parts:
            keep = np.flatnonzero(alive)
            chunks.extend(segment.chunks[i] for i in keep)
            terms.append(_widen(segment.terms, stems).tocsr()[keep])
            word_parts.append(_widen(segment.words, vocabulary).tocsr()[keep])
            lengths.append(segment.lengths[keep])
        term_matrix = sparse.vstack(terms, format="csc", dtype=np.float32)
        word_matrix = sparse.vstack(word_parts, format="csc", dtype=np.bool_)
        return Segment._assemble(tuple(chunks), term_matrix, word_matrix, np.concatenate(lengths))


_NO_ROWS = np.zeros(0, dtype=np.int32)
_NO_VALUES = np.zeros(0, dtype=np.float32)


def _widen(matrix: sparse.csc_matrix, columns: int) -> sparse.csc_matrix:
    """The same matrix with empty columns up to ``columns`` (the vocabulary grew after it was built)."""
    if matrix.shape[1] >= columns:
        return matrix
    indptr = np.concatenate([matrix.indptr, np.full(columns - matrix.shape[1], matrix.indptr[-1])])
    return sparse.csc_matrix((matrix.data, matrix.indices, indptr), shape=(matrix.shape[0], columns))


@dataclass(frozen=True, slots=True, eq=False)
class LexicalIndex:
    """A snapshot: segments, their alive rows, and what is derived from them. Never changed once built;
    an update makes a new snapshot (sharing the segments)."""

    version: str
    stems: Vocabulary
    vocabulary: Vocabulary
    segments: tuple[Segment, ...] = ()
    alive: tuple[np.ndarray, ...] = ()
    live: dict[str, Segment] = field(default_factory=dict)  # document id -> the segment holding it
    tokens: dict[str, str] = field(default_factory=dict)  # document id -> its token in the store
    by_id: dict[str, Chunk] = field(default_factory=dict)  # every live chunk: dense hits resolve here
    live_rows: int = 0
    live_length: float = 0.0

    @property
    def ready(self) -> set[str]:
        return set(self.live)

    @property
    def chunks(self) -> list[Chunk]:
        """The live chunks, segment by segment."""
        pairs = zip(self.segments, self.alive, strict=True)
        return [c for s, a in pairs for c, ok in zip(s.chunks, a, strict=True) if ok]

    @property
    def dead_rows(self) -> int:
        return sum(s.size for s in self.segments) - self.live_rows

    # -- reading -------------------------------------------------------------------------------

    def search(self, query: str, k: int, *, document_ids: AbstractSet[str] | None = None) -> list[tuple[Chunk, float]]:
        """The best ``k`` chunks by BM25; with ``document_ids``, only chunks of those documents (a mask, so
        a scoped question still gets its ``k`` best rather than the few left of the global top). A query
        term counts as often as it occurs, as in bm25s."""
        query_terms = [self.stems.ids[t] for t in stem_terms(query) if t in self.stems.ids]
        if not query_terms or not self.live_rows:
            return []
        average = self.live_length / self.live_rows
        offsets = np.cumsum([0, *(s.size for s in self.segments)])
        scores = np.zeros(int(offsets[-1]), dtype=np.float32)
        columns: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
        for term in dict.fromkeys(query_terms):  # each distinct term's live postings and its weight
            postings = []
            for segment, alive, offset in zip(self.segments, self.alive, offsets, strict=False):
                rows, tf = segment.column(segment.terms, term)
                keep = alive[rows]
                rows, tf = rows[keep], tf[keep]
                if len(rows):
                    norm = (K1 * ((1 - B) + B * segment.lengths[rows] / average)).astype(np.float32)
                    postings.append((rows + offset, tf / (norm + tf)))
            df = sum(len(r) for r, _ in postings)
            idf = np.float32(math.log(1 + (self.live_rows - df + 0.5) / (df + 0.5)))
            columns[term] = [(rows, idf * tfc) for rows, tfc in postings]
        for term in query_terms:
            for rows, values in columns[term]:
                scores[rows] += values
        if document_ids is not None:
            scores *= self._document_mask(document_ids, int(offsets[-1]), offsets)
        hits = np.flatnonzero(scores > 0)
        if len(hits) > k:
            hits = hits[np.argpartition(-scores[hits], k - 1)[:k]]
        hits = hits[np.lexsort((hits, -scores[hits]))]
        located = [self._locate(int(row), offsets) for row in hits]
        return [(self.segments[s].chunks[r], float(scores[row])) for (s, r), row in zip(located, hits, strict=True)]

    def _document_mask(self, document_ids: AbstractSet[str], total: int, offsets: np.ndarray) -> np.ndarray:
        mask = np.zeros(total, dtype=np.float32)
        position = {id(s): i for i, s in enumerate(self.segments)}
        for document_id in document_ids:
            segment = self.live.get(document_id)
            if segment is not None:
                start, end = segment.rows_of[document_id]
                offset = offsets[position[id(segment)]]
                mask[offset + start : offset + end] = 1.0
        return mask

    @staticmethod
    def _locate(row: int, offsets: np.ndarray) -> tuple[int, int]:
        segment = int(np.searchsorted(offsets, row, side="right")) - 1
        return segment, row - int(offsets[segment])

    def prevalence(self, word: str) -> float:
        """How common a lower-cased word is: the share of chunks holding it, or in a collection of at
        least MIN_DOCUMENTS documents the share of documents, whichever is larger."""
        column = self.vocabulary.ids.get(word)
        if not self.live_rows or column is None:
            return 0.0
        chunks = documents = 0
        for segment, rows in self._live_rows_holding(column, stems=False):
            chunks += len(rows)
            documents += len(np.unique(segment.document_of[rows]))
        share = chunks / self.live_rows
        if len(self.live) >= MIN_DOCUMENTS:
            share = max(share, documents / len(self.live))
        return share

    def term_share(self, term: str) -> float:
        """The share of live chunks holding a stemmed term (0.0 for a term the collection never uses)."""
        column = self.stems.ids.get(term)
        if not self.live_rows or column is None:
            return 0.0
        return sum(len(rows) for _, rows in self._live_rows_holding(column, stems=True)) / self.live_rows

    def _live_rows_holding(self, column: int, *, stems: bool) -> Iterator[tuple[Segment, np.ndarray]]:
        """Per segment, its live rows whose stem (or word) ``column`` is non-zero."""
        for segment, alive in zip(self.segments, self.alive, strict=True):
            rows, _ = segment.column(segment.terms if stems else segment.words, column)
            yield segment, rows[alive[rows]]

    # -- changing (each returns a new snapshot) -------------------------------------------------

    def changed(
        self, version: str, removed: Iterable[str], added: Segment | None, tokens: dict[str, str]
    ) -> LexicalIndex:
        """This index with ``removed`` documents' rows dead and ``added``'s documents live; ``tokens``
        are the store's tokens of the documents this update looked at."""
        alive = list(self.alive)
        live, all_tokens, by_id = dict(self.live), dict(self.tokens), dict(self.by_id)
        rows, length = self.live_rows, self.live_length
        position = {id(s): i for i, s in enumerate(self.segments)}
        gone = set(removed) | (set(added.rows_of) if added is not None else set())
        for document_id in gone:
            all_tokens.pop(document_id, None)
            segment = live.pop(document_id, None)
            if segment is None:
                continue
            i = position[id(segment)]
            start, end = segment.rows_of[document_id]
            if alive[i] is self.alive[i]:
                alive[i] = alive[i].copy()
            alive[i][start:end] = False
            rows -= end - start
            length -= float(segment.lengths[start:end].sum())
            for chunk in segment.chunks[start:end]:
                by_id.pop(chunk.id, None)
        segments = self.segments
        if added is not None and added.size:
            segments = (*segments, added)
            alive.append(np.ones(added.size, dtype=np.bool_))
            for document_id in added.rows_of:
                live[document_id] = added
            by_id.update((c.id, c) for c in added.chunks)
            rows += added.size
            length += float(added.lengths.sum())
        for document_id, token in tokens.items():
            if document_id in live:
                all_tokens[document_id] = token
        return LexicalIndex(
            version, self.stems, self.vocabulary, segments, tuple(alive), live, all_tokens, by_id, rows, length
        )

    def merge_plan(self) -> list[Segment]:
        """The segments worth merging now (none: leave as is). The largest segment joins only once a
        quarter of it is dead, so a merge usually costs the size of the recent writes."""
        if len(self.segments) < 2:
            return []
        dead = {id(s): 1 - a.mean() if len(a) else 1.0 for s, a in zip(self.segments, self.alive, strict=True)}
        largest = max(self.segments, key=lambda s: s.size)
        if dead[id(largest)] > MAX_DEAD_SHARE:
            return list(self.segments)
        if len(self.segments) > MAX_SEGMENTS or self.dead_rows > MAX_DEAD_SHARE * max(1, self.live_rows):
            return [s for s in self.segments if s is not largest]
        return []

    def with_merged(self, group: Sequence[Segment], merged: Segment) -> LexicalIndex:
        """This (possibly newer) snapshot with ``group`` replaced by ``merged``, built from an older
        snapshot's alive rows: a document written or deleted since is dead in ``merged``."""
        members = {id(s) for s in group}
        if not all(any(s is g for s in self.segments) for g in group):
            return self  # another merge got there first
        alive_merged = np.zeros(merged.size, dtype=np.bool_)
        live = dict(self.live)
        for document_id, (start, end) in merged.rows_of.items():
            holder = live.get(document_id)
            if holder is not None and id(holder) in members:
                alive_merged[start:end] = True
                live[document_id] = merged
        segments: list[Segment] = []
        alive: list[np.ndarray] = []
        for segment, mask in zip(self.segments, self.alive, strict=True):
            if id(segment) in members:
                if not any(s is merged for s in segments):
                    segments.append(merged)
                    alive.append(alive_merged)
            else:
                segments.append(segment)
                alive.append(mask)
        if merged.size == 0:
            keep = [i for i, s in enumerate(segments) if s is not merged]
            segments, alive = [segments[i] for i in keep], [alive[i] for i in keep]
        return LexicalIndex(
            self.version,
            self.stems,
            self.vocabulary,
            tuple(segments),
            tuple(alive),
            live,
            self.tokens,
            self.by_id,
            self.live_rows,
            self.live_length,
        )


class LexicalIndexes:
    """The current lexical index of each collection, following the store, merged and saved in the
    background. ``directory`` (None: nothing saved) holds one saved index per collection."""

    def __init__(self, store: ChromaStore, directory: Path | None = None, *, background: bool = True) -> None:
        self._store = store
        self._directory = directory
        self._background = background
        self._current: dict[str, LexicalIndex] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._merging: dict[str, threading.Thread] = {}
        self.rebuilt: dict[str, int] = {}  # collection -> chunks tokenised by updates (for tests, metrics)
        self._saved: dict[str, int] = {}  # collection -> what ``rebuilt`` was at the last save

    def get(self, collection: str) -> LexicalIndex:
        """The index of ``collection``, first brought up to date if the store changed since. A reader
        finding it current takes no lock."""
        version = self._store.version(collection)
        current = self._current.get(collection)
        if current is not None and current.version == version:
            return current
        with self._lock(collection):
            current = self._current.get(collection)
            if current is None or current.version != version:
                current = self._update(collection, current, version)
                self._current[collection] = current
        self._maybe_merge(collection)
        return current

    def latest(self, collection: str) -> LexicalIndex:
        """The index as the last ``get`` left it, without asking the store whether it changed since (a
        round trip; over HTTP 1-3 ms): for statistics read right after a search that did ask."""
        current = self._current.get(collection)
        return current if current is not None else self.get(collection)

    def _lock(self, collection: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(collection, threading.Lock())

    def _update(self, collection: str, current: LexicalIndex | None, version: str) -> LexicalIndex:
        if current is None:
            current = self._load(collection) or LexicalIndex("", Vocabulary(), Vocabulary())
        ready = self._store.ready_documents(collection)
        removed = [d for d, token in current.tokens.items() if ready.get(d) != token]
        added = sorted(d for d, token in ready.items() if current.tokens.get(d) != token)
        segment = None
        if added:
            chunks = self._store.chunks_of(collection, added)
            segment = Segment.build(chunks, current.stems, current.vocabulary)
            self.rebuilt[collection] = self.rebuilt.get(collection, 0) + len(chunks)
        return current.changed(version, removed, segment, {d: ready[d] for d in added})

    # -- merging and saving --------------------------------------------------------------------

    def _maybe_merge(self, collection: str) -> None:
        """Merge (and save) in the background when the plan says so; save alone once enough chunks were
        tokenised since the last save that a restart would feel it."""
        current = self._current.get(collection)
        if current is None:
            return
        unsaved = self.rebuilt.get(collection, 0) - self._saved.get(collection, 0)
        if not current.merge_plan() and (self._directory is None or unsaved < SAVE_AFTER):
            return
        with self._guard:
            running = self._merging.get(collection)
            if running is not None and running.is_alive():
                return
            thread = threading.Thread(
                target=self.merge, args=(collection,), name=f"lexical-merge-{collection}", daemon=True
            )
            self._merging[collection] = thread
        if self._background:
            thread.start()
        else:
            thread.run()

    def merge(self, collection: str) -> None:
        """Merge what the plan says, swap it in, and save the result (no reader waits for this)."""
        snapshot = self._current.get(collection)
        group = snapshot.merge_plan() if snapshot is not None else []
        if snapshot is None or not group:
            self.save(collection)
            return
        position = {id(s): i for i, s in enumerate(snapshot.segments)}
        parts = [(s, snapshot.alive[position[id(s)]]) for s in group]
        merged = Segment.merge(parts, len(snapshot.stems.ids), len(snapshot.vocabulary.ids))
        with self._lock(collection):
            current = self._current[collection].with_merged(group, merged)
            self._current[collection] = current
        self.save(collection)

    def save(self, collection: str) -> None:
        """Write the current index to the directory (atomically: a crash leaves the previous one)."""
        current = self._current.get(collection)
        if self._directory is None or current is None:
            return
        self._saved[collection] = self.rebuilt.get(collection, 0)
        try:
            _save(self._directory / collection, current)
        except OSError as exc:  # a full disk costs a slower restart, never an answer
            log.warning("could not save the lexical index of %r: %s", collection, exc)

    def _load(self, collection: str) -> LexicalIndex | None:
        if self._directory is None:
            return None
        try:
            return _load(self._directory / collection)
        except (OSError, ValueError, KeyError) as exc:
            log.warning("saved lexical index of %r not used (%s): rebuilding it", collection, exc)
            return None


def _save(path: Path, index: LexicalIndex) -> None:
    """One file of arrays and one manifest; the manifest names the arrays file, and is replaced last."""
    path.mkdir(parents=True, exist_ok=True)
    stems, vocabulary = len(index.stems.ids), len(index.vocabulary.ids)
    arrays: dict[str, np.ndarray] = {}
    segments = []
    for i, (segment, alive) in enumerate(zip(index.segments, index.alive, strict=True)):
        terms, word_matrix = _widen(segment.terms, stems), _widen(segment.words, vocabulary)
        for name, matrix in (("t", terms), ("w", word_matrix)):
            arrays[f"{i}{name}data"], arrays[f"{i}{name}indices"] = matrix.data, matrix.indices
            arrays[f"{i}{name}indptr"] = matrix.indptr
        arrays[f"{i}lengths"], arrays[f"{i}alive"] = segment.lengths, alive
        arrays[f"{i}numbers"] = np.array(
            [(c.index, c.start, c.end, -1 if c.page is None else c.page) for c in segment.chunks], dtype=np.int64
        ).reshape(-1, 4)
        for field_name in _TEXT_FIELDS:
            arrays[f"{i}{field_name}"], arrays[f"{i}{field_name}_lengths"] = _pack(
                [getattr(c, field_name) for c in segment.chunks]
            )
        segments.append(
            {
                "rows": segment.size,
                "chunks": [c.id for c in segment.chunks],
                "documents": [[d, a, b] for d, (a, b) in segment.rows_of.items()],
            }
        )
    name = f"arrays-{os.getpid()}-{threading.get_ident()}.npz"
    np.savez(path / name, **arrays)  # type: ignore[arg-type]
    manifest = {
        "format": FORMAT,
        "arrays": name,
        "stems": index.stems.terms(),
        "vocabulary": index.vocabulary.terms(),
        "segments": segments,
        "tokens": index.tokens,
    }
    temporary = path / f"manifest.json.{os.getpid()}.tmp"
    temporary.write_text(json.dumps(manifest), encoding="utf-8")
    os.replace(temporary, path / "manifest.json")
    for stale in path.glob("arrays-*.npz"):
        if stale.name != name:
            stale.unlink(missing_ok=True)


def _load(path: Path) -> LexicalIndex | None:
    """The saved index with its chunks. Its version is empty, so it is compared with the store before any
    use: a document deleted or written again since (its token differs) is dropped and re-read then."""
    manifest_path = path / "manifest.json"
    if not manifest_path.exists():
        return None
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        return None
    stems, vocabulary = Vocabulary(manifest["stems"]), Vocabulary(manifest["vocabulary"])
    with np.load(path / manifest["arrays"]) as arrays:
        segments, alive_masks = [], []
        for i, meta in enumerate(manifest["segments"]):
            rows = int(meta["rows"])
            owners = [""] * rows
            for document_id, start, end in meta["documents"]:
                owners[start:end] = [document_id] * (end - start)
            fields = {name: _unpack(arrays[f"{i}{name}"], arrays[f"{i}{name}_lengths"]) for name in _TEXT_FIELDS}
            numbers = arrays[f"{i}numbers"].tolist()
            chunks = tuple(
                Chunk(
                    id=cid,
                    document_id=owner,
                    index=index,
                    start=start,
                    end=end,
                    page=None if page < 0 else page,
                    **{name: fields[name][row] for name in _TEXT_FIELDS},
                )
                for row, (cid, owner, (index, start, end, page)) in enumerate(
                    zip(meta["chunks"], owners, numbers, strict=True)
                )
            )
            matrices = []
            for name, dtype, columns in (("t", np.float32, len(stems.ids)), ("w", np.bool_, len(vocabulary.ids))):
                data = arrays[f"{i}{name}data"].astype(dtype)
                matrices.append(
                    sparse.csc_matrix(
                        (data, arrays[f"{i}{name}indices"], arrays[f"{i}{name}indptr"]), shape=(rows, columns)
                    )
                )
            segments.append(Segment._assemble(chunks, matrices[0], matrices[1], arrays[f"{i}lengths"]))
            alive_masks.append(arrays[f"{i}alive"].astype(np.bool_))
    tokens: dict[str, str] = manifest["tokens"]
    live: dict[str, Segment] = {}
    for segment, alive in zip(segments, alive_masks, strict=True):
        for document_id, (start, end) in segment.rows_of.items():
            if alive[start:end].all() and document_id in tokens:
                live[document_id] = segment
            else:
                alive[start:end] = False
    rows = sum(int(a.sum()) for a in alive_masks)
    length = float(sum(s.lengths[a].sum() for s, a in zip(segments, alive_masks, strict=True)))
    pairs = zip(segments, alive_masks, strict=True)
    by_id = {c.id: c for s, a in pairs for c, ok in zip(s.chunks, a, strict=True) if ok}
    kept_tokens = {d: t for d, t in tokens.items() if d in live}
    return LexicalIndex(
        "", stems, vocabulary, tuple(segments), tuple(alive_masks), live, kept_tokens, by_id, rows, length
    )


_TEXT_FIELDS = ("text", "source", "title", "heading_path")  # a chunk's string fields, saved packed


def _pack(strings: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Strings as one UTF-8 byte array and their lengths in characters (100k chunk texts in ~0.1 s)."""
    joined = "".join(strings).encode("utf-8")
    return np.frombuffer(joined, dtype=np.uint8), np.fromiter((len(t) for t in strings), np.int64, len(strings))


def _unpack(data: np.ndarray, lengths: np.ndarray) -> list[str]:
    joined = data.tobytes().decode("utf-8")
    ends = np.cumsum(lengths).tolist()
    starts = [0, *ends][: len(ends)]
    return [joined[a:b] for a, b in zip(starts, ends, strict=True)]
