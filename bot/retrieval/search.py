"""Hybrid retrieval: dense (the nearest chunks, best chunk per paper) and BM25 (whole papers),
fused into one ranking of papers (bot/retrieval/fusion.py) — each paper once, with its best
evidence."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bot.retrieval.fusion import fuse, learned_fusion
from bot.retrieval.learned_fusion import features, rank
from bot.query.query import Query
from index.settings import RetrievalSettings
from bot.types import Hit
from index.lexical import LexicalMatch
from index.reader import DenseEvidence, LiveIndex, LoadedIndex

# Chunks fetched per paper wanted: abstracts have ~1-3 chunks, so this reaches
# ``candidates`` distinct papers in nearly every query.
CHUNKS_PER_PAPER = 3


def search(index: LiveIndex | LoadedIndex, query: Query, s: RetrievalSettings, k: int | None = None) -> list[Hit]:
    """The ``k`` best papers for ``query`` (default ``top_k``), all from one generation (with a
    live index, understand the query and search it inside one ``index.use()``, so that both read
    the same generation)."""
    with index.use() as idx:
        return _search(idx, query, s, k)


@dataclass(frozen=True)
class Retrieved:
    """Both retrievers' candidates for one query, before fusion."""

    query_vector: np.ndarray | None  # None in bm25 mode
    dense: dict[str, DenseEvidence]  # best chunk per paper among the nearest chunks
    match: LexicalMatch | None  # None in dense mode
    lexical: dict[str, float]  # BM25's top papers

    @property
    def dense_scores(self) -> dict[str, float]:
        return {pid: e.similarity for pid, e in self.dense.items()}


def retrieve(index: LoadedIndex, query: str, s: RetrievalSettings, want: int) -> Retrieved:
    """``want`` papers from each retriever the mode uses for ``query`` (a Query's ``searched`` text).
    One after the other: scoring BM25 in a thread while the query is embedded was no faster
    on 2 cores (onnxruntime's threads want both)."""
    vector, dense = None, {}
    if s.mode != "bm25":
        vector = index.embed_query(query)
        dense = index.dense(vector, want * CHUNKS_PER_PAPER)
    match = index.lexical.match(query) if s.mode != "dense" else None
    lexical = index.bm25_top(match, want) if match is not None else {}
    return Retrieved(vector, dense, match, lexical)


def _search(index: LoadedIndex, query: Query, s: RetrievalSettings, k: int | None) -> list[Hit]:
    k = k or s.top_k
    if query.translated:  # its English terms, not a sentence
        s = s.model_copy(update={"dense_weight": s.translated_dense_weight})
    c = retrieve(index, query.searched, s, max(s.candidates, k))
    dense, lexical = c.dense, c.lexical
    dense_scores = c.dense_scores
    floor = min(dense_scores.values(), default=0.0)
    model = learned_fusion(index, s)
    if model is not None and c.match is not None and c.query_vector is not None:
        candidates, f = features(index, c.query_vector, c.match, dense_scores, lexical, only=model.used)
        ranked = rank(candidates, model.score(f))
    else:
        ranked = fuse(dense_scores, lexical, s)
    hits = []
    for pid, score in ranked[:k]:
        evidence = dense.get(pid)
        hits.append(
            Hit(
                paper=index.papers[pid],
                score=score,
                # A paper outside the dense top list is at most as similar as the last one in it.
                dense=evidence.similarity if evidence else floor,
                lexical=lexical.get(pid, 0.0),
                best_chunk=evidence.chunk if evidence else "",
            )
        )
    return hits
