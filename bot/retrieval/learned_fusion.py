"""Learned fusion: the candidates of both retrievers re-ranked by a linear model over features
of each (query, paper) pair, fitted on SciFact *train* (``python -m evals.fit.fusion`` writes
bot/fitted/fusion.json; never on test). Only the features of non-zero weight are computed for a
query (``FusionModel.used``).

Weighted fusion knows each paper by two numbers, and a paper missing from one retriever's top
list gets that list's floor. Here every candidate gets both retrievers' exact scores (its
chunks' cosines from the generation's vectors, its BM25 score from the full score array) plus
signals neither ranking uses alone: the cosine of its other chunks, how much of the question's
wording (idf-weighted) the abstract and the title contain. All come from arrays a search
already has, so the stage costs a few milliseconds.

The model's similarities are those of the embedding model it was fitted with; with another
model (or the fake embedder of the tests) search falls back to weighted fusion."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from bot.fitted.models import FittedModel, check_features
from index.lexical import K1, LexicalMatch
from index.reader import LoadedIndex

FEATURES = (
    "dense", "dense_mean", "dense_first", "dense_norm", "bm25_norm", "bm25_share",
    "coverage", "title_coverage", "in_dense", "in_bm25",
)  # fmt: skip


@dataclass(frozen=True)
class FusionModel(FittedModel):
    """score = sum(weight * feature), over the features of non-zero weight (``used``: only those
    are computed for a query); only the order within one query matters."""

    kind = "fusion"
    weights: dict[str, float]
    model: str  # the embedding model whose similarities it was fitted on

    def __post_init__(self) -> None:
        check_features(self.weights, FEATURES)

    def score(self, features: dict[str, np.ndarray]) -> np.ndarray:
        n = len(next(iter(features.values())))
        return sum((w * features[f] for f, w in self.weights.items() if w), np.zeros(n))


def _minmax(x: np.ndarray) -> np.ndarray:
    lo, hi = (float(x.min()), float(x.max())) if len(x) else (0.0, 0.0)
    return (x - lo) / (hi - lo) if hi > lo else np.ones_like(x)


def features(
    index: LoadedIndex,
    query_vector: np.ndarray,
    match: LexicalMatch,
    dense: dict[str, float],
    lexical: dict[str, float],
    only: Sequence[str] | None = None,
) -> tuple[list[str], dict[str, np.ndarray]]:
    """The candidates (the dense top papers, then BM25's) and each one's features. ``only``:
    just these features (a model's ``used``), each computed only if asked; all of FEATURES
    when None (the fit reads them all)."""
    names = FEATURES if only is None else tuple(only)
    check_features(names, FEATURES)
    c = _Candidates(index, query_vector, match, dense, lexical)
    return c.ids, {name: getattr(c, name)() for name in names}


@dataclass
class _Candidates:
    """The features of one query's candidates, a method each (named as in FEATURES). What
    several of them read (the chunk cosines, the BM25 rows) is computed once, by the first
    feature asked for that needs it."""

    index: LoadedIndex
    query_vector: np.ndarray
    match: LexicalMatch
    by_dense: dict[str, float]  # the dense retriever's papers
    by_bm25: dict[str, float]  # BM25's

    @cached_property
    def ids(self) -> list[str]:
        """The candidates: the dense top papers, then BM25's."""
        return list(dict.fromkeys([*self.by_dense, *self.by_bm25]))

    @cached_property
    def sims(self) -> list[np.ndarray]:
        """Each candidate's chunk cosines, exact (from the generation's vectors)."""
        return self.index.chunk_similarities(self.query_vector, self.ids)

    @cached_property
    def best(self) -> np.ndarray:
        return np.array([float(s.max()) if len(s) else 0.0 for s in self.sims])

    @cached_property
    def rows(self) -> np.ndarray:
        return np.array([self.index.lexical_rows[pid] for pid in self.ids], dtype=np.int64)

    @cached_property
    def bm25(self) -> np.ndarray:
        """Each candidate's BM25 score, from the full score array."""
        return self.match.scores[self.rows].astype(np.float64) if len(self.rows) else np.zeros(0)

    def dense(self) -> np.ndarray:
        return self.best

    def dense_mean(self) -> np.ndarray:
        return np.array([float(s.mean()) if len(s) else 0.0 for s in self.sims])

    def dense_first(self) -> np.ndarray:
        return np.array([float(s[0]) if len(s) else 0.0 for s in self.sims])

    def dense_norm(self) -> np.ndarray:
        return _minmax(self.best)

    def bm25_norm(self) -> np.ndarray:
        return _minmax(self.bm25)

    def bm25_share(self) -> np.ndarray:
        total = self.match.total_idf  # a BM25 term scores at most (k1 + 1) * idf
        return self.bm25 / ((K1 + 1) * total) if total else np.zeros(len(self.ids))

    def coverage(self) -> np.ndarray:
        total = self.match.total_idf
        return self.match.matched[self.rows].astype(np.float64) / total if total else np.zeros(len(self.ids))

    def title_coverage(self) -> np.ndarray:
        idf, total = self.match.idfs, self.match.total_idf
        share = []
        for pid in self.ids:
            title = set(self.match.index.tokens(self.index.papers[pid].title))
            share.append(sum(v for t, v in idf.items() if t in title) / total if total else 0.0)
        return np.array(share)

    def in_dense(self) -> np.ndarray:
        return np.array([pid in self.by_dense for pid in self.ids], dtype=np.float64)

    def in_bm25(self) -> np.ndarray:
        return np.array([pid in self.by_bm25 for pid in self.ids], dtype=np.float64)


def rank(candidates: list[str], scores: np.ndarray) -> list[tuple[str, float]]:
    """Papers by score, best first; ties by paper id, so every process ranks alike."""
    return sorted(zip(candidates, scores.tolist()), key=lambda kv: (-kv[1], kv[0]))
