"""Written by `python -m evals.fit.fusion`; do not edit by hand. Read by bot/retrieval/learned_fusion.py."""

PARAMS: dict = {'weights': {'dense': 0.0,
             'dense_mean': 0.0,
             'dense_first': 0.0,
             'dense_norm': 8.358329,
             'bm25_norm': 5.460335,
             'bm25_share': -9.14221,
             'coverage': 0.925389,
             'title_coverage': 1.295128,
             'in_dense': 0.0,
             'in_bm25': 0.0},
 'model': 'bundled',
 'trained_on': 'scifact train (809 queries), features: words, l2 1'}
