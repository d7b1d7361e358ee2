"""Choose fusion settings on a BEIR *train* split (never the test split).

Retrieves dense and BM25 candidates once per query, then replays the pure ``fuse``
function over a grid of settings and prints nDCG@10 for each, best last.

    python -m evals.fit.fusion_weights ../shared/benchmarks/scifact --split train
"""

from __future__ import annotations

from pathlib import Path

from bot.retrieval.search import fuse, retrieve
from bot.query.query import understand
from index.settings import Settings
from evals.beir import prepare, tuning_args
from evals.metrics import ranking_metrics


def main() -> None:
    args = tuning_args()
    settings = Settings()
    data, index = prepare(settings, Path(args.dir), args.split)
    s = settings.retrieval.model_copy(update={"mode": "hybrid"})
    cached = []
    with index.use() as idx:
        for qid, text in data.queries.items():
            c = retrieve(idx, understand(idx, text, s).searched, s, s.candidates)
            cached.append((c.dense_scores, c.lexical, data.qrels[qid]))

    grid = [{"mode": "dense"}, {"mode": "bm25"}]
    grid += [{"fusion": "rrf", "rrf_k": k, "dense_weight": w} for k in (10, 30, 60) for w in (0.3, 0.4, 0.5, 0.6)]
    grid += [{"fusion": "weighted", "dense_weight": w} for w in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7)]
    results = []
    for g in grid:
        s = settings.retrieval.model_copy(update=g)
        runs = [([p for p, _ in fuse(d, l, s)][:100], rel) for d, l, rel in cached]
        results.append((ranking_metrics(runs)["nDCG@10"], g))
    for ndcg, g in sorted(results, key=lambda r: r[0]):
        print(f"{ndcg:.4f}  {g}")
    print(f"({len(cached)} {args.split} queries)")


if __name__ == "__main__":
    main()
