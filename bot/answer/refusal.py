"""Whether the corpus answers a question: a small logistic model over several signals,
fitted on the dev questions only (``python -m evals.fit.refusal`` writes bot/refusal_model.py).

No single similarity separates "the paper is here" from "a paper on a neighbouring topic is
here": an unanswerable question about DPO still finds RLHF abstracts at cosine 0.6. What
differs is whether the retrieved papers contain what the question names (content-word
coverage, BM25), and whether one paper stands out (score gaps). The signals:

- ``dense_top``: best chunk cosine of any retrieved paper;
- ``sentence_top``: best cosine of a single sentence or title;
- ``coverage_top``: the largest idf-weighted share of the question's content words that one
  retrieved paper (title and abstract) contains;
- ``bm25_top``: the best BM25 score over the most the question's words could score (so long
  and short questions compare);
- ``dense_gap``: how far the best paper's chunk cosine is ahead of the next paper's;
- ``sentence_overlap``: the largest share of the question's content words in one sentence (or title);
- ``bigram_coverage``: the largest share of the question's adjacent content-word pairs one paper
  has ("sign language" is not "sign" and "language");
- ``missing_top``: over the retrieved papers, the least rare question word each one lacks,
  relative to the rarest possible (a named method the corpus lacks makes every paper miss it);
- ``absent``: the idf-weighted share of the question's content words no paper of the corpus has;
- ``late_mean``, ``late_low``: how well the question's words, one by one, find their match among
  a retrieved paper's contextual token vectors, on average and for its worst-matched fifth
  (bot/answer/late_interaction.py): the part of a question a neighbouring paper has nothing for.

The fit (``python -m evals.fit.refusal``) chooses among named feature sets by leave-one-out on
the dev questions; the weights of the chosen ones are stored, the others weigh nothing.

The model's similarities are those of the embedding model it was fitted with; with another
model (or the fake embedder of the tests) the answerer falls back to the single similarity
threshold ``retrieval.min_similarity``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bot.answer.late_interaction import late_features
from index.vocabulary import Vocabulary, content_sequence, content_stems, paper_text
from index.lexical import K1
from index.reader import LoadedIndex
from index.settings import Settings
from bot.types import Hit

if TYPE_CHECKING:  # bot.answer.answerer imports this module
    from bot.answer.answerer import Evidence

FEATURES = (
    "dense_top", "sentence_top", "coverage_top", "bm25_top", "dense_gap",
    "sentence_overlap", "bigram_coverage", "missing_top", "absent", "late_mean", "late_low",
)  # fmt: skip


@dataclass(frozen=True)
class RefusalModel:
    """p(answerable) = sigmoid(bias + sum(weight * (feature - mean) / scale))."""

    weights: dict[str, float]
    bias: float
    mean: dict[str, float]
    scale: dict[str, float]
    threshold: float  # answer when p >= threshold
    model: str  # the embedding model whose similarities it was fitted on

    def probability(self, features: dict[str, float]) -> float:
        z = self.bias + sum(w * (features[f] - self.mean[f]) / self.scale[f] for f, w in self.weights.items() if w)
        return 1.0 / (1.0 + math.exp(-z))

    def applies_to(self, settings: Settings) -> bool:
        return settings.index.embedder != "fake" and settings.index.model == self.model

    @classmethod
    def fitted(cls) -> "RefusalModel | None":
        """The model in bot/refusal_model.py, or None before it was ever fitted."""
        from bot.refusal_model import PARAMS

        return cls(**PARAMS) if PARAMS else None


def signals(
    index: LoadedIndex,
    question: str,
    hits: Sequence[Hit],
    evidence: Sequence["Evidence"],
    vocab: Vocabulary,
    settings: Settings,
) -> dict[str, float]:
    """The features of one question, whatever the retrieval mode: a retriever the mode skipped
    is asked for its best score here (one more search), so that the model reads the same
    signals in every mode."""
    mode = settings.retrieval.mode
    if mode == "bm25":
        from bot.retrieval.search import CHUNKS_PER_PAPER

        dense_scores = sorted(
            (e.similarity for e in index.dense(index.embed_query(question), 2 * CHUNKS_PER_PAPER).values()),
            reverse=True,
        )
    else:
        dense_scores = sorted((h.dense for h in hits), reverse=True)
    lexical = max((h.lexical for h in hits), default=0.0) if mode != "dense" else max(
        index.bm25(question, 1).values(), default=0.0
    )
    stems = content_stems(question)
    total = sum(vocab.idf(s) for s in stems)
    most = (K1 + 1) * total  # a BM25 term scores at most (k1 + 1) * idf
    ordered = content_sequence(question)
    pairs = set(zip(ordered, ordered[1:]))
    rarest = vocab.idf("")  # a word no paper has
    bigram, missing = 0.0, 1.0
    for h in hits:
        text = paper_text(h.paper)
        have = set(content_stems(text))
        if pairs:
            seq = content_sequence(text)
            bigram = max(bigram, len(pairs & set(zip(seq, seq[1:]))) / len(pairs))
        lacked = [vocab.idf(s) for s in stems if s not in have]
        missing = min(missing, max(lacked, default=0.0) / rarest)
    return {
        "dense_top": dense_scores[0] if dense_scores else 0.0,
        "sentence_top": max((e.similarity for e in evidence), default=0.0),
        "coverage_top": max((e.coverage for e in evidence), default=0.0),
        "bm25_top": lexical / most if most else 0.0,
        "dense_gap": dense_scores[0] - dense_scores[1] if len(dense_scores) > 1 else 0.0,
        "sentence_overlap": max((e.overlap for e in evidence), default=0.0),
        "bigram_coverage": bigram,
        "missing_top": missing if hits else 1.0,
        "absent": sum(vocab.idf(s) for s in stems if not vocab.df.get(s)) / total if total else 0.0,
        **late_features(index, question, hits),
    }


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float, steps: int = 50) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression by Newton's method on standardised features
    (the bias is not penalised). Returns (weights, bias). Small and exact, so no library."""
    n, d = x.shape
    xb = np.hstack([x, np.ones((n, 1))])
    w = np.zeros(d + 1)
    penalty = np.diag([l2] * d + [0.0])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-xb @ w))
        grad = xb.T @ (p - y) + penalty @ w
        hess = xb.T @ (xb * (p * (1 - p))[:, None]) + penalty + 1e-9 * np.eye(d + 1)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-10:
            break
    return w[:d], float(w[d])
