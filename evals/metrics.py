"""Ranking metrics, as BEIR / trec_eval define them (linear gain nDCG, uncapped recall)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


def ndcg_at(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    dcg = sum(
        relevant.get(doc, 0) / math.log2(i + 2) for i, doc in enumerate(ranked[:k])
    )
    ideal = sorted((r for r in relevant.values() if r > 0), reverse=True)[:k]
    idcg = sum(r / math.log2(i + 2) for i, r in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    rel = {d for d, r in relevant.items() if r > 0}
    return len(rel & set(ranked[:k])) / len(rel) if rel else 0.0


def mrr_at(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    for i, doc in enumerate(ranked[:k]):
        if relevant.get(doc, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def hit_at(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    return 1.0 if any(relevant.get(d, 0) > 0 for d in ranked[:k]) else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile, q in [0, 1] (p50 = 0.5), for latency reports."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def ranking_metrics(runs: Sequence[tuple[Sequence[str], Mapping[str, int]]]) -> dict[str, float]:
    """The metrics `paperbot eval beir` reports, averaged over queries."""
    return {
        "nDCG@10": mean([ndcg_at(r, q, 10) for r, q in runs]),
        "Recall@10": mean([recall_at(r, q, 10) for r, q in runs]),
        "Recall@100": mean([recall_at(r, q, 100) for r, q in runs]),
        "MRR@10": mean([mrr_at(r, q, 10) for r, q in runs]),
    }
