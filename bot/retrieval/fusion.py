"""Fusion of the two retrievers' candidates into one ranking of papers: weighted (min-max
normalised scores), reciprocal-rank, or the learned model (bot/retrieval/learned_fusion.py)
when it is fitted for the index's embedding model."""

from __future__ import annotations

from bot.retrieval.learned_fusion import FusionModel
from index.reader import LoadedIndex
from index.settings import RetrievalSettings


def _minmax(scores: dict[str, float]) -> dict[str, float]:
    if not scores:
        return {}
    lo, hi = min(scores.values()), max(scores.values())
    span = hi - lo
    return {k: (v - lo) / span if span > 0 else 1.0 for k, v in scores.items()}


def learned_fusion(index: LoadedIndex, s: RetrievalSettings) -> FusionModel | None:
    """The fitted fusion model when the settings ask for it and it fits the index's embedding
    model; otherwise None (weighted fusion)."""
    if s.mode != "hybrid" or s.fusion != "learned":
        return None
    model = FusionModel.fitted()
    return model if model is not None and model.applies_to(index.settings) else None


def fuse(dense: dict[str, float], lexical: dict[str, float], s: RetrievalSettings) -> list[tuple[str, float]]:
    """Papers ranked by fused score, best first. Pure, so fusion can be tuned offline."""
    if s.mode == "dense":
        fused = dict(dense)
    elif s.mode == "bm25":
        fused = dict(lexical)
    elif s.fusion == "rrf":  # ("learned" without a fitted model is weighted: see learned_fusion)
        fused = {}
        for weight, scores in ((s.dense_weight, dense), (1 - s.dense_weight, lexical)):
            ranked = sorted(scores, key=scores.__getitem__, reverse=True)
            for rank, pid in enumerate(ranked, start=1):
                fused[pid] = fused.get(pid, 0.0) + 2 * weight / (s.rrf_k + rank)
    else:
        # Convex combination of per-query min-max normalised scores; a paper missing from
        # one list gets that list's floor (0 after normalisation).
        dn, ln = _minmax(dense), _minmax(lexical)
        fused = {
            pid: s.dense_weight * dn.get(pid, 0.0) + (1 - s.dense_weight) * ln.get(pid, 0.0)
            for pid in dn.keys() | ln.keys()
        }
    return sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))
