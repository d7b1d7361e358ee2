"""Fit the learned fusion (bot/retrieval/learned_fusion.py) on a BEIR *train* split and write it to
bot/fitted/fusion.json: the chosen features' weights, with the fit's provenance (this command, the
hashes of the split's files and of the corpus, the commit, the cross-validated nDCG@10). Never on
the test split.

    python -m evals.fit.fusion ../shared/benchmarks/scifact            # fit, print, write
    python -m evals.fit.fusion ../shared/benchmarks/scifact --dry-run  # fit and print only

Each train query is retrieved as `paperbot eval beir` retrieves it (100 candidates from each
retriever) and every candidate's features computed by the code search runs. The feature set
and the L2 strength are chosen by 5-fold cross-validation over the queries (nDCG@10 of the
held-out folds; within 0.001 of the best, the smaller set, then the stronger L2); the
chosen model is then fitted on every train query."""

from __future__ import annotations

import pprint
from pathlib import Path

import numpy as np

from bot.retrieval.learned_fusion import FEATURES, features, rank
from bot.retrieval.fusion import fuse
from bot.retrieval.search import retrieve
from bot.query.query import understand
from evals.beir import prepare, tuning_args
from evals.fit.logistic import fit_pairwise
from evals.fit.provenance import fitted_file, write
from evals.metrics import ranking_metrics
from index.settings import Settings

DEPTH = 100  # what `paperbot eval beir` asks for
L2 = (1.0, 100.0, 1000.0)
FOLDS = 5
TOLERANCE = 0.001
FEATURE_SETS = {
    "scores": ("dense_norm", "bm25_norm"),
    "chunks": ("dense_norm", "bm25_norm", "dense_mean", "dense_first"),
    "words": ("dense_norm", "bm25_norm", "bm25_share", "coverage", "title_coverage"),
    "all": FEATURES,
}


def gather(settings: Settings, folder: Path, split: str) -> tuple[list, list]:
    """Per query: (candidates, feature matrix, labels, qrels) and the weighted fusion's run."""
    data, live = prepare(settings, folder, split)
    s = settings.retrieval
    groups, baseline = [], []
    with live.use() as idx:
        for qid, text in data.queries.items():
            query = understand(idx, text, s).searched
            c = retrieve(idx, query, s, max(s.candidates, DEPTH))
            assert c.query_vector is not None and c.match is not None
            candidates, f = features(idx, c.query_vector, c.match, c.dense_scores, c.lexical)
            x = np.stack([f[name] for name in FEATURES], axis=1)
            y = np.array([1.0 if data.qrels[qid].get(p, 0) > 0 else 0.0 for p in candidates])
            groups.append((candidates, x, y, data.qrels[qid]))
            baseline.append(([p for p, _ in fuse(c.dense_scores, c.lexical, s)][:DEPTH], data.qrels[qid]))
    return groups, baseline


def ndcg(groups: list, weights: np.ndarray) -> float:
    runs = [([p for p, _ in rank(cands, x @ weights)][:DEPTH], qrels) for cands, x, _, qrels in groups]
    return ranking_metrics(runs)["nDCG@10"]


def fit(groups: list, names: tuple[str, ...], l2: float) -> np.ndarray:
    """Weights over all FEATURES, zero outside ``names``."""
    cols = [FEATURES.index(n) for n in names]
    w = fit_pairwise([(x[:, cols], y) for _, x, y, _ in groups if y.any()], l2)
    full = np.zeros(len(FEATURES))
    full[cols] = w
    return full


def cross_validate(groups: list, names: tuple[str, ...], l2: float) -> float:
    order = np.random.default_rng(0).permutation(len(groups))
    total = 0.0
    for fold in np.array_split(order, FOLDS):
        held = set(fold.tolist())
        w = fit([g for i, g in enumerate(groups) if i not in held], names, l2)
        total += ndcg([groups[i] for i in fold], w) * len(fold)
    return total / len(groups)


def main() -> None:
    args = tuning_args(dry_run=True)
    settings = Settings()
    groups, baseline = gather(settings, Path(args.dir), args.split)
    weighted = ranking_metrics(baseline)["nDCG@10"]
    print(f"weighted fusion nDCG@10 {weighted:.4f} ({len(groups)} {args.split} queries)")
    results = []
    for name, names in FEATURE_SETS.items():
        for l2 in L2:
            score = cross_validate(groups, names, l2)
            results.append((score, name, l2))
            print(f"{name:8s} l2={l2:<7g} cross-validated nDCG@10 {score:.4f}")
    best = max(r[0] for r in results)
    # Within the tolerance of the best: the smaller feature set, then the stronger L2.
    size = {name: len(names) for name, names in FEATURE_SETS.items()}
    score, name, l2 = min((r for r in results if r[0] >= best - TOLERANCE), key=lambda r: (size[r[1]], -r[2]))
    weights = fit(groups, FEATURE_SETS[name], l2)
    in_sample = ndcg(groups, weights)
    print(f"chosen: {name}, l2 {l2:g} (cross-validated {score:.4f}); on all of {args.split}: {in_sample:.4f}")
    rounded = {f: round(float(w), 6) for f, w in zip(FEATURES, weights)}
    # Only the features of non-zero weight are stored, and computed for a query.
    params = {"weights": {f: w for f, w in rounded.items() if w}, "model": settings.index.model}
    pprint.pprint(params, sort_dicts=False)
    metrics = {
        "queries": len(groups), "split": args.split, "chosen": {"features": name, "l2": l2},
        "cross_validated_ndcg@10": round(score, 4), "folds": FOLDS, "in_sample_ndcg@10": round(in_sample, 4),
        "weighted_fusion_ndcg@10": round(weighted, 4),
    }  # fmt: skip
    if not args.dry_run:
        folder = Path(args.dir)
        files = ("corpus.jsonl", "queries.jsonl", f"qrels/{args.split}.tsv")  # what evals.beir.load_beir reads
        read = {f"{folder.resolve().name}/{f}": folder / f for f in files}
        print(f"Wrote {write(fitted_file('fusion', params, read, metrics))}")


if __name__ == "__main__":
    main()
