"""Ranking metrics, as BEIR / trec_eval define them (linear gain nDCG, uncapped recall), the
answer metrics scored per question, and the intervals reports show beside their means."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from statistics import NormalDist
from typing import Any


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


def precision_at(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    """Share of the first ``k`` places (not of what was ranked) holding a relevant document."""
    return sum(1 for d in ranked[:k] if relevant.get(d, 0) > 0) / k


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


# Answer metrics, one question at a time; None where a metric does not apply to the question
# (the harness averages only the questions a metric applies to).


def citation_precision(cited: Sequence[str], gold: Iterable[str]) -> float | None:
    """Share of the cited papers that are gold; None when nothing was cited."""
    cited_set, gold_set = set(cited), set(gold)
    return len(cited_set & gold_set) / len(cited_set) if cited_set else None


def citation_recall(cited: Sequence[str], gold: Iterable[str]) -> float | None:
    """Share of the gold papers that were cited; None when there is no gold."""
    gold_set = set(gold)
    return len(set(cited) & gold_set) / len(gold_set) if gold_set else None


def has_fact(text: str, fact: str) -> bool:
    # Abstracts keep LaTeX escapes ("2.46\\%"); facts are written plainly.
    return fact.lower() in text.replace("\\", "").lower()


FACT_WORDS = 80  # the length of a short answer: a fact counts only if it is stated this early
_MARKER = re.compile(r"\[\d+(?:\s*[,;]\s*\d+)*\]")


def first_words(text: str, n: int = FACT_WORDS) -> str:
    """The answer's first ``n`` words, citation markers ("[2]") not counted as words."""
    return " ".join(_MARKER.sub(" ", text).split()[:n])


def fact_coverage(text: str, facts: Sequence[str], max_words: int = FACT_WORDS) -> float | None:
    """Share of the required facts stated within the answer's first ``max_words`` words; None
    when none are required. The cut keeps the metric honest: quoting more of an abstract
    cannot raise it, only putting the asked fact first can."""
    head = first_words(text, max_words)
    return sum(1 for f in facts if has_fact(head, f)) / len(facts) if facts else None


def citation_precision_with_refusals(cited: Sequence[str], gold: Iterable[str], refused: bool) -> float | None:
    """Citation precision with a refusal of an answerable question counted as 0 (it cites no
    right paper), so that refusing the hard questions cannot raise precision."""
    if refused:
        return 0.0 if set(gold) else None
    return citation_precision(cited, gold)


def kept_share(kept: int, removed: int) -> float | None:
    """Share of an LLM answer's sentences the grounding check kept; None when nothing was checked."""
    return kept / (kept + removed) if kept + removed else None


def mean_defined(values: Iterable[float | None]) -> float | None:
    """Mean of the values a metric applies to; None when it applies to none."""
    defined = [v for v in values if v is not None]
    return sum(defined) / len(defined) if defined else None


def bootstrap_ci(
    values: Sequence[float],
    resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
    weights: Sequence[float] | None = None,
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean over questions (seeded: reports reproduce);
    with ``weights``, of the weighted mean (a pooled share, such as sentences kept over all
    answers, resampled by answer)."""
    import numpy as np

    if not values:
        return (math.nan, math.nan)
    data = np.asarray(values, dtype=float)
    w = np.ones_like(data) if weights is None else np.asarray(weights, dtype=float)
    rng = np.random.default_rng(seed)
    # Drawn in blocks of about a million indices, so that thousands of BEIR queries stay small
    # in memory (consecutive draws continue one stream: the blocks change no result).
    block = max(1, 1_000_000 // len(data))
    means = []
    for start in range(0, resamples, block):
        idx = rng.integers(0, len(data), (min(block, resamples - start), len(data)))
        means.append((data * w)[idx].sum(axis=1) / w[idx].sum(axis=1))
    tail = (1 - confidence) / 2
    pooled = np.concatenate(means)
    return float(np.quantile(pooled, tail)), float(np.quantile(pooled, 1 - tail))


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a rate of yes/no outcomes, ``successes`` of ``n``: unlike the
    normal approximation it stays inside [0, 1] and is not zero-width at 0/n or n/n."""
    if n <= 0:
        return (math.nan, math.nan)
    z = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    p, z2 = successes / n, z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    # Exact at the ends (the formula gives 0 and 1 there up to rounding).
    return (0.0 if successes == 0 else centre - half, 1.0 if successes == n else centre + half)


def interval(
    values: Sequence[float], weights: Sequence[float] | None = None, confidence: float = 0.95
) -> dict[str, Any] | None:
    """The interval a report shows beside a mean over questions, None when there are no values:
    Wilson's when every value is 0 or 1 (a rate: ``k`` of ``n`` questions), else the percentile
    bootstrap of the (weighted) mean. JSON-ready: lo, hi, n, k (None for a bootstrap), method."""
    if not values:
        return None
    if weights is None and all(v in (0.0, 1.0) for v in values):
        k = int(sum(values))
        lo, hi = wilson_interval(k, len(values), confidence)
        return {"lo": lo, "hi": hi, "n": len(values), "k": k, "method": "wilson"}
    lo, hi = bootstrap_ci(values, confidence=confidence, weights=weights)
    return {"lo": lo, "hi": hi, "n": len(values), "k": None, "method": "bootstrap"}


def paired_bootstrap(
    a: Sequence[float], b: Sequence[float], resamples: int = 2000, confidence: float = 0.95, seed: int = 0
) -> dict[str, float]:
    """Difference of means b - a over the same questions, resampling questions (not values)
    so per-question difficulty cancels; the change is significant when the interval excludes 0."""
    if len(a) != len(b):
        raise ValueError("paired bootstrap needs the same questions on both sides")
    diffs = [y - x for x, y in zip(a, b)]
    lo, hi = bootstrap_ci(diffs, resamples, confidence, seed)
    return {"delta": mean(diffs), "lo": lo, "hi": hi, "n": float(len(diffs))}
