"""Indexes opened for queries.

``LoadedIndex`` is one sealed generation, read-only (readers never write, layout.py): its
papers, BM25 index and chunk vectors, opened through the vector store it was built with
(index/vectors/: the generation's own vectors searched exactly, or a Chroma server).
``LiveIndex`` is what long-running processes hold: before each question it moves to the
newest generation ``CURRENT`` names, keeping a lease on every generation a question in
flight still uses. Both share one ``Encoder`` (the model and a per-process text cache)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from index import layout
from index.embedding.embedders import Embedder, load_embedder
from index.errors import ConfigError
from index.lexical import LexicalIndex, LexicalMatch
from index.settings import RECORDED_STORES, Settings, index_fingerprint
from index.types import Paper, TokenVectors
from index.vectors.base import ChunkTable, Vectors
from index.vectors.registry import load_vector_store
from index.vocabulary import Vocabulary, paper_text

MAX_CACHED_TEXTS = 50_000  # ~75 MB of MiniLM vectors
MAX_CACHED_TOKEN_TEXTS = 128  # chunks of ~250 pieces: ~50 MB of MiniLM token vectors


@dataclass(frozen=True)
class DenseEvidence:
    similarity: float
    chunk: str


class _Bounded:
    """Values computed once per process for keys that recur, thread-safe; emptied when full
    (rare; simpler than LRU and never wrong)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: dict[str, Any] = {}
        self._lock = threading.Lock()

    def get(self, keys: list[str], compute: Callable[[list[str]], Sequence[Any]]) -> list[Any]:
        with self._lock:
            found = {k: self._items[k] for k in keys if k in self._items}
        missing = [k for k in dict.fromkeys(keys) if k not in found]
        if missing:
            fresh = dict(zip(missing, compute(missing)))
            found.update(fresh)
            with self._lock:
                if len(self._items) + len(fresh) > self.limit:
                    self._items.clear()
                self._items.update(fresh)
        return [found[k] for k in keys]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class Encoder:
    """The embedding model (loaded on first use) and vectors of texts seen before."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self._settings = settings
        self._embedder = embedder
        self._load_lock = threading.Lock()
        self._vectors = _Bounded(MAX_CACHED_TEXTS)
        self._tokens = _Bounded(MAX_CACHED_TOKEN_TEXTS)

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            with self._load_lock:
                if self._embedder is None:
                    self._embedder = load_embedder(self._settings.index)
        return self._embedder

    def embed_query(self, text: str) -> np.ndarray:
        # Cached: a question is embedded for retrieval and again to pick sentences.
        return self.embed_cached([text])[0]

    def embed_cached(self, texts: list[str]) -> np.ndarray:
        """Vectors for texts that recur from query to query (abstract sentences, titles, a
        question asked again): each is embedded once per process. Answering embeds ~50
        sentences of the retrieved abstracts per question, mostly seen before in a running bot.
        Thread-safe (Slack answers in parallel); bounded by MAX_CACHED_TEXTS."""
        if not texts:
            return np.zeros((0, self.embedder.dim))
        return np.stack(self._vectors.get(texts, self.embedder.embed))

    def token_vectors_cached(self, texts: list[str]) -> list[TokenVectors]:
        """Each text's word pieces and their vectors (late interaction, bot/answer/late_interaction.py),
        the retrieved papers' kept for the next question; bounded by MAX_CACHED_TOKEN_TEXTS."""
        return self._tokens.get(texts, self.embedder.token_vectors)

    def forget_cached(self) -> None:
        self._vectors.clear()
        self._tokens.clear()


def check_fingerprint(settings: Settings, gen: layout.Generation) -> None:
    """An index answers only with the settings it was built with (never silently wrong)."""
    built = gen.manifest().get("settings", {})
    wanted = index_fingerprint(settings)
    diff = [k for k in wanted if built.get(k) != wanted[k]]
    if not diff:
        return
    if "format" in diff or any(k not in built for k in diff):
        raise ConfigError(
            f"{gen.path.parent} was built by an older paperbot; run `paperbot ingest` once to "
            "rebuild it (embeddings are cached: nothing is embedded again)."
        )
    undo = []
    for k in diff:
        if k == "vector_store" and settings.index.vector_store == "auto" and built[k] in ("server", "embedded"):
            undo.append("set PAPERBOT_INDEX__CHROMA_URL" if built[k] == "server" else "unset PAPERBOT_INDEX__CHROMA_URL")
        elif k == "vector_store":
            store = {v: name for name, v in RECORDED_STORES.items()}.get(built[k], built[k])
            undo.append(f"set PAPERBOT_INDEX__VECTOR_STORE={store}")
        else:
            undo.append(f"set PAPERBOT_{'RETRIEVAL' if k == 'bm25_stemmer' else 'INDEX'}__{k.upper()}={built[k]}")
    said = ", ".join(f"{k}={built[k]!r} (the settings say {wanted[k]!r})" for k in diff)
    raise ConfigError(
        f"{gen.path.parent} was built with {said}; run `paperbot ingest` to rebuild it with the new "
        f"settings, or {' and '.join(undo)}."
    )


class _Encoding:
    """The embedding calls of an index, answered by its shared ``encoder``."""

    encoder: Encoder

    @property
    def embedder(self) -> Embedder:
        return self.encoder.embedder

    def embed_query(self, text: str) -> np.ndarray:
        return self.encoder.embed_query(text)

    def embed_cached(self, texts: list[str]) -> np.ndarray:
        return self.encoder.embed_cached(texts)

    def token_vectors_cached(self, texts: list[str]) -> list[TokenVectors]:
        return self.encoder.token_vectors_cached(texts)

    def forget_cached(self) -> None:
        self.encoder.forget_cached()


@dataclass(eq=False)
class LoadedIndex(_Encoding):
    """One sealed generation. Thread-safe for reading; holds its lease until ``close``."""

    settings: Settings
    generation: layout.Generation
    papers: dict[str, Paper]
    encoder: Encoder
    lease: layout.Lease | None = field(default=None, repr=False)
    _init_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @contextmanager
    def use(self) -> Iterator["LoadedIndex"]:
        yield self

    def _once(self, name: str, build: Callable[[], Any]) -> Any:
        """A cached property's value, built by one thread only: from Python 3.12 cached_property
        has no lock of its own, and the others wait here and take what the first built (a
        vocabulary built from 100k papers takes ~12 s; a server store holds a client)."""
        with self._init_lock:
            if name not in self.__dict__:
                self.__dict__[name] = build()
            return self.__dict__[name]

    @cached_property
    def lexical(self) -> LexicalIndex:
        return self._once(
            "lexical", lambda: LexicalIndex.load(self.generation.bm25_dir, self.settings.retrieval.bm25_stemmer)
        )

    @cached_property
    def vocabulary(self) -> Vocabulary:
        """The generation's corpus vocabulary (index/vocabulary.py), kept while it is loaded: read
        from the file ingest saved (~0.03 s at 100k papers); a generation built by an older
        paperbot has none, and its vocabulary is built from its papers (~12 s at 100k papers)."""

        def build() -> Vocabulary:
            saved = Vocabulary.load(self.generation.path)
            return saved if saved is not None else Vocabulary.build(map(paper_text, self.papers.values()))

        return self._once("vocabulary", build)

    @cached_property
    def vectors(self) -> Vectors:
        """The generation's chunk vectors, through the store the settings name (the one it was
        built with: the fingerprint says so)."""
        return self._once(
            "vectors",
            lambda: load_vector_store(self.settings.index).open(self.generation, ChunkTable.read(self.generation.path)),
        )

    def dense(self, query_vector: np.ndarray, n_chunks: int) -> dict[str, DenseEvidence]:
        """Best chunk per paper among the ``n_chunks`` nearest chunks, by paper id. Ties go by
        chunk id, so every process ranks alike."""
        best: dict[str, DenseEvidence] = {}
        for m in self.vectors.nearest(np.asarray(query_vector, dtype=np.float32), n_chunks):
            pid = m.chunk.paper_id
            if pid in self.papers and pid not in best:
                best[pid] = DenseEvidence(m.similarity, m.chunk.text)
        return best

    def bm25(self, query: str, n: int) -> dict[str, float]:
        """Top ``n`` papers by BM25 score (only papers sharing a term with the query)."""
        return self.bm25_top(self.lexical.match(query), n)

    def bm25_top(self, match: LexicalMatch, n: int) -> dict[str, float]:
        scores = match.scores
        n = min(n, len(scores))
        top = np.argpartition(-scores, n - 1)[:n] if n else []
        ids = self.lexical.paper_ids
        return {ids[i]: float(scores[i]) for i in top if scores[i] > 0}

    @cached_property
    def lexical_rows(self) -> dict[str, int]:
        """Each paper's row in the lexical index's arrays."""
        return {pid: i for i, pid in enumerate(self.lexical.paper_ids)}

    def chunk_similarities(self, query_vector: np.ndarray, paper_ids: list[str]) -> list[np.ndarray]:
        """Cosine of the query to every chunk of each paper, in chunk order."""
        return self.vectors.similarities(query_vector, paper_ids)

    def close(self) -> None:
        if "vectors" in self.__dict__:
            self.vectors.close()
        if self.lease is not None:
            self.lease.release()


def _load(settings: Settings, lease: layout.Lease, encoder: Encoder) -> LoadedIndex:
    try:
        check_fingerprint(settings, lease.generation)
        papers = {p.id: p for p in lease.generation.papers()}
    except BaseException:
        lease.release()
        raise
    return LoadedIndex(settings, lease.generation, papers, encoder, lease)


class LiveIndex(_Encoding):
    """The newest generation, followed across ingests with no restart (layout rule 4).

    ``use()`` is how a question reads the index: it moves to a newer generation when one
    was published, and pins the one it yields until the question is done. A generation is
    closed (its lease released, so the next ingest may delete it) once it is neither the
    newest nor in use. Attribute reads such as ``papers`` see the newest generation."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.encoder = Encoder(settings, embedder)
        self._lock = threading.Lock()
        self._in_use: dict[int, int] = {}  # id(LoadedIndex) -> questions using it
        self._current = _load(settings, layout.lease_current(settings.index_dir), self.encoder)

    def current(self) -> LoadedIndex:
        """The newest generation (moving to it if an ingest published one)."""
        with self._lock:
            return self._newest()

    def _newest(self) -> LoadedIndex:
        """``current`` under ``self._lock``."""
        name = layout.current_name(self.settings.index_dir)
        if name is not None and name != self._current.generation.name:
            fresh = _load(self.settings, layout.lease_current(self.settings.index_dir), self.encoder)
            old, self._current = self._current, fresh
            if not self._in_use.get(id(old)):
                old.close()
        return self._current

    @contextmanager
    def use(self) -> Iterator[LoadedIndex]:
        # Marked in use under the same lock that chose it: another thread moving to a newer
        # generation in between would otherwise close it under this question.
        with self._lock:
            idx = self._newest()
            self._in_use[id(idx)] = self._in_use.get(id(idx), 0) + 1
        try:
            yield idx
        finally:
            with self._lock:
                left = self._in_use[id(idx)] - 1
                if left:
                    self._in_use[id(idx)] = left
                else:
                    del self._in_use[id(idx)]
                    if idx is not self._current:
                        idx.close()

    # LoadedIndex's read API, on the newest generation.
    @property
    def generation(self) -> layout.Generation:
        return self.current().generation

    @property
    def papers(self) -> dict[str, Paper]:
        return self.current().papers


    def close(self) -> None:
        with self._lock:
            self._current.close()


def open_index(settings: Settings, embedder: Embedder | None = None) -> LiveIndex:
    """The index the settings point at, followed across ingests."""
    return LiveIndex(settings, embedder)
