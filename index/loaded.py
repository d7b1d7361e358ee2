"""An index opened for queries: papers, the BM25 index and the Chroma store of the
current generation, and the embedder (loaded on first use)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from bot.settings import Settings
from bot.types import Paper
from index import layout
from index.embed import Embedder, load_embedder
from index.lexical import LexicalIndex
from index.store import ChunkStore


MAX_CACHED_TEXTS = 50_000  # ~75 MB of MiniLM vectors


@dataclass(frozen=True)
class DenseEvidence:
    similarity: float
    chunk: str


@dataclass
class LoadedIndex:
    settings: Settings
    generation: layout.Generation
    papers: dict[str, Paper]
    _embedder: Embedder | None = field(default=None, repr=False)
    _vectors: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    _vectors_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @cached_property
    def lexical(self) -> LexicalIndex:
        return LexicalIndex.load(self.generation.bm25_dir, self.settings.retrieval.bm25_stemmer)

    @cached_property
    def store(self) -> ChunkStore:
        return ChunkStore(self.generation.chroma_dir)

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = load_embedder(self.settings.index)
        return self._embedder

    def embed_query(self, text: str) -> np.ndarray:
        return self.embedder.embed([text])[0]

    def embed_cached(self, texts: list[str]) -> np.ndarray:
        """Vectors for texts that recur from query to query (abstract sentences, titles, a
        question asked again): each is embedded once per process. Answering embeds ~50
        sentences of the retrieved abstracts per question, mostly seen before in a running bot.
        Thread-safe (Slack answers in parallel); bounded by MAX_CACHED_TEXTS."""
        with self._vectors_lock:
            found = {t: self._vectors[t] for t in texts if t in self._vectors}
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            fresh = dict(zip(missing, self.embedder.embed(missing)))
            found.update(fresh)
            with self._vectors_lock:
                if len(self._vectors) + len(fresh) > MAX_CACHED_TEXTS:
                    self._vectors.clear()  # rare; simpler than LRU and never wrong
                self._vectors.update(fresh)
        return np.stack([found[t] for t in texts]) if texts else np.zeros((0, self.embedder.dim))

    def forget_cached(self) -> None:
        """Drop the cached vectors (evaluations time every configuration from the same state)."""
        with self._vectors_lock:
            self._vectors.clear()

    def dense(self, query_vector: np.ndarray, n_chunks: int) -> dict[str, DenseEvidence]:
        """Best chunk per paper among the ``n_chunks`` nearest chunks, by paper id."""
        best: dict[str, DenseEvidence] = {}
        for m in self.store.query(query_vector, n_chunks):
            if m.paper_id in self.papers and (
                m.paper_id not in best or m.similarity > best[m.paper_id].similarity
            ):
                best[m.paper_id] = DenseEvidence(m.similarity, m.text)
        return best

    def bm25(self, query: str, n: int) -> dict[str, float]:
        """Top ``n`` papers by BM25 score (only papers sharing a term with the query)."""
        scores = self.lexical.scores(query)
        n = min(n, len(scores))
        top = np.argpartition(-scores, n - 1)[:n] if n else []
        ids = self.lexical.paper_ids
        return {ids[i]: float(scores[i]) for i in top if scores[i] > 0}


def open_index(settings: Settings, embedder: Embedder | None = None) -> LoadedIndex:
    gen = layout.require_generation(settings.index_dir)
    papers = {p.id: p for p in gen.papers()}
    return LoadedIndex(settings=settings, generation=gen, papers=papers, _embedder=embedder)
