"""Fit the learned fusion (bot/retrieval/learned_fusion.py) on a BEIR *train* split and write its weights to
bot/fusion_model.py. Never on the test split.

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

from bot.retrieval.learned_fusion import FEATURES, fit_pairwise, features, rank
from bot.retrieval.search import fuse, retrieve
from bot.query.spelling import corrected
from evals.beir import prepare, tuning_args
from evals.metrics import ranking_metrics
from index.settings import Settings

OUT = Path(__file__).resolve().parent.parent / "bot" / "fusion_model.py"
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
            query = corrected(idx, text, s)
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
    print(f"weighted fusion nDCG@10 {ranking_metrics(baseline)['nDCG@10']:.4f} ({len(groups)} {args.split} queries)")
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
    print(f"chosen: {name}, l2 {l2:g} (cross-validated {score:.4f}); on all of {args.split}: {ndcg(groups, weights):.4f}")
    params = {
        "weights": {f: round(float(w), 6) for f, w in zip(FEATURES, weights)},
        "model": settings.index.model,
        "trained_on": f"{Path(args.dir).resolve().name} {args.split} ({len(groups)} queries), features: {name}, l2 {l2:g}",
    }
    pprint.pprint(params, sort_dicts=False)
    if not args.dry_run:
        OUT.write_text(
            '"""Written by `python -m evals.fit.fusion`; do not edit by hand. Read by bot/retrieval/learned_fusion.py."""\n\n'
            f"PARAMS: dict = {pprint.pformat(params, sort_dicts=False)}\n"
        )
        print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
