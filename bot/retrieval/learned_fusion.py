"""Learned fusion: the candidates of both retrievers re-ranked by a linear model over features
of each (query, paper) pair, fitted on SciFact *train* (``python -m evals.fit.fusion`` writes
bot/fusion_model.py; never on test).

Weighted fusion knows each paper by two numbers, and a paper missing from one retriever's top
list gets that list's floor. Here every candidate gets both retrievers' exact scores (its
chunks' cosines from the generation's vectors, its BM25 score from the full score array) plus
signals neither ranking uses alone: the cosine of its other chunks, how much of the question's
wording (idf-weighted) the abstract and the title contain. All come from arrays a search
already has, so the stage costs a few milliseconds.

The model's similarities are those of the embedding model it was fitted with; with another
model (or the fake embedder of the tests) search falls back to weighted fusion."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bot.answer.refusal import fit_logistic
from index.lexical import K1, LexicalMatch
from index.reader import LoadedIndex
from index.settings import Settings

FEATURES = (
    "dense", "dense_mean", "dense_first", "dense_norm", "bm25_norm", "bm25_share",
    "coverage", "title_coverage", "in_dense", "in_bm25",
)  # fmt: skip


@dataclass(frozen=True)
class FusionModel:
    """score = sum(weight * feature); only the order within one query matters."""

    weights: dict[str, float]
    model: str  # the embedding model whose similarities it was fitted on
    trained_on: str

    def applies_to(self, settings: Settings) -> bool:
        return settings.index.embedder != "fake" and settings.index.model == self.model

    def score(self, features: dict[str, np.ndarray]) -> np.ndarray:
        n = len(next(iter(features.values())))
        return sum((w * features[f] for f, w in self.weights.items() if w), np.zeros(n))

    @classmethod
    def fitted(cls) -> "FusionModel | None":
        """The model in bot/fusion_model.py, or None before it was ever fitted."""
        from bot.fusion_model import PARAMS

        return cls(**PARAMS) if PARAMS else None


def _minmax(x: np.ndarray) -> np.ndarray:
    lo, hi = (float(x.min()), float(x.max())) if len(x) else (0.0, 0.0)
    return (x - lo) / (hi - lo) if hi > lo else np.ones_like(x)


def features(
    index: LoadedIndex,
    query_vector: np.ndarray,
    match: LexicalMatch,
    dense: dict[str, float],
    lexical: dict[str, float],
) -> tuple[list[str], dict[str, np.ndarray]]:
    """The candidates (the dense top papers, then BM25's) and each one's features."""
    candidates = list(dict.fromkeys([*dense, *lexical]))
    sims = index.chunk_similarities(query_vector, candidates)
    rows = np.array([index.lexical_rows[pid] for pid in candidates], dtype=np.int64)
    bm25 = match.scores[rows].astype(np.float64) if len(rows) else np.zeros(0)
    idf, total = match.idfs, match.total_idf
    title_share = []
    for pid in candidates:
        title = set(match.index.tokens(index.papers[pid].title))
        title_share.append(sum(v for t, v in idf.items() if t in title) / total if total else 0.0)
    best = np.array([float(s.max()) if len(s) else 0.0 for s in sims])
    return candidates, {
        "dense": best,
        "dense_mean": np.array([float(s.mean()) if len(s) else 0.0 for s in sims]),
        "dense_first": np.array([float(s[0]) if len(s) else 0.0 for s in sims]),
        "dense_norm": _minmax(best),
        "bm25_norm": _minmax(bm25),
        # a BM25 term scores at most (k1 + 1) * idf
        "bm25_share": bm25 / ((K1 + 1) * total) if total else np.zeros(len(candidates)),
        "coverage": match.matched[rows].astype(np.float64) / total if total else np.zeros(len(candidates)),
        "title_coverage": np.array(title_share),
        "in_dense": np.array([pid in dense for pid in candidates], dtype=np.float64),
        "in_bm25": np.array([pid in lexical for pid in candidates], dtype=np.float64),
    }


def rank(candidates: list[str], scores: np.ndarray) -> list[tuple[str, float]]:
    """Papers by score, best first; ties by paper id, so every process ranks alike."""
    return sorted(zip(candidates, scores.tolist()), key=lambda kv: (-kv[1], kv[0]))


def fit_pairwise(groups: list[tuple[np.ndarray, np.ndarray]], l2: float) -> np.ndarray:
    """Linear RankNet: logistic regression on the feature differences of (relevant, other)
    pairs of one query, standardised. ``groups``: per query, (features [candidates x
    features], relevance labels). Returns weights on raw features. Each difference goes in
    both ways (d: relevant first, -d: not), so the fitted bias is 0 and the loss is twice the
    pairs' (hence 2 * l2)."""
    diffs = []
    for x, y in groups:
        pos, neg = np.flatnonzero(y > 0), np.flatnonzero(y <= 0)
        diffs.extend(x[i] - x[neg] for i in pos)
    d = np.concatenate(diffs)
    scale = d.std(axis=0) + 1e-9
    z = d / scale
    labels = np.concatenate([np.ones(len(z)), np.zeros(len(z))])
    w, _ = fit_logistic(np.vstack([z, -z]), labels, 2 * l2)
    return w / scale
