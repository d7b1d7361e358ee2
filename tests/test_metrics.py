import math

from evals.metrics import hit_at, mrr_at, ndcg_at, ranking_metrics, recall_at


def test_hand_computed_values():
    ranked = ["x", "a", "y", "b"]
    rel = {"a": 1, "b": 1, "c": 1}
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    idcg = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert abs(ndcg_at(ranked, rel, 10) - dcg / idcg) < 1e-12
    assert recall_at(ranked, rel, 2) == 1 / 3 and recall_at(ranked, rel, 10) == 2 / 3
    assert mrr_at(ranked, rel, 10) == 0.5 and mrr_at(ranked, rel, 1) == 0.0
    assert hit_at(ranked, rel, 1) == 0.0 and hit_at(ranked, rel, 2) == 1.0
    assert ndcg_at(["a"], {"a": 1}, 10) == 1.0 and ndcg_at(["z"], {}, 10) == 0.0
    m = ranking_metrics([(["a", "b"], {"a": 1}), (["b", "a"], {"a": 1})])
    assert m["MRR@10"] == 0.75 and m["Recall@10"] == 1.0
