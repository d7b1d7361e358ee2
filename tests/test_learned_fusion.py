"""Learned fusion (bot/retrieval/learned_fusion.py): its features come from the index's real arrays, its fit
recovers a ranking, and search uses it only where it applies."""

from pathlib import Path

import numpy as np
import pytest

from bot.retrieval.learned_fusion import FEATURES, FusionModel, features, rank
from bot.query.query import understand
from bot.retrieval.search import learned_fusion, retrieve, search
from evals.fit.logistic import fit_pairwise
from index.ingest import ingest
from index.reader import open_index
from index.settings import Settings

DATA = Path(__file__).parent / "data"
QUERY = "gardeners routing tomatoes to experts"


@pytest.fixture
def loaded(fake_settings):
    ingest(fake_settings, [DATA / "papers.jsonl", DATA / "papers.csv", DATA / "corpus.jsonl"])
    with open_index(fake_settings).use() as idx:
        yield idx


def test_lexical_match_counts_each_query_term_once(loaded):
    lex = loaded.lexical
    match = lex.match("tomatoes tomatoes experts unheardofword")
    assert np.array_equal(match.scores, lex.scores("tomatoes tomatoes experts unheardofword"))
    idf = {t: lex.idf(lex.term_id(t)) for t in lex.tokens("tomatoes experts")}
    for row, pid in enumerate(lex.paper_ids):
        text = set(lex.tokens(loaded.papers[pid].text))
        assert match.matched[row] == pytest.approx(sum(v for t, v in idf.items() if t in text), rel=1e-5)
    # The unknown word weighs in the total with the highest idf: it is what no paper has.
    assert match.total_idf == pytest.approx(sum(idf.values()) + lex.idf(-1))


def test_chunk_similarities_are_exact_per_paper(loaded):
    q = loaded.embed_query(QUERY)
    vectors, pids = loaded.vectors.matrix, [c.paper_id for c in loaded.vectors.table.chunks]
    some = sorted(set(pids))[:3]
    for pid, sims in zip(some, loaded.chunk_similarities(q, some)):
        rows = [i for i, p in enumerate(pids) if p == pid]
        assert np.allclose(sims, np.asarray(vectors[rows]) @ q)
    assert len(loaded.chunk_similarities(q, ["no-such-paper"])[0]) == 0


def test_features_rank_like_the_retriever_they_weigh(loaded, fake_settings):
    s = fake_settings.retrieval
    c = retrieve(loaded, QUERY, s, 10)
    candidates, f = features(loaded, c.query_vector, c.match, c.dense_scores, c.lexical)
    assert set(candidates) == set(c.dense) | set(c.lexical) and set(f) == set(FEATURES)
    bm25_only = FusionModel({"bm25_norm": 1.0}, "bundled")
    by_bm25 = [p for p, _ in rank(candidates, bm25_only.score(f))]
    top = sorted(c.lexical, key=lambda p: (-c.lexical[p], p))
    assert by_bm25[: len(top)] == top
    dense_only = FusionModel({"dense": 1.0}, "bundled")
    assert [p for p, _ in rank(candidates, dense_only.score(f))][0] == max(c.dense_scores, key=c.dense_scores.get)


def test_pairwise_fit_recovers_a_linear_ranking():
    rng = np.random.default_rng(1)
    truth = np.array([2.0, -1.0, 0.0])
    groups = []
    for _ in range(200):
        x = rng.normal(size=(20, 3))
        y = np.zeros(20)
        y[np.argmax(x @ truth)] = 1.0
        groups.append((x, y))
    w = fit_pairwise(groups, l2=1.0)
    agree = np.mean([np.argmax(x @ w) == np.argmax(y) for x, y in groups])
    assert agree > 0.95 and w[0] > 0 > w[1] and abs(w[2]) < 0.2 * w[0]


def test_learned_fusion_applies_only_to_its_model(fake_settings, monkeypatch):
    model = FusionModel.fitted()
    assert model is not None and set(model.weights) <= set(FEATURES) and any(model.weights.values())
    learned = fake_settings.retrieval.model_copy(update={"fusion": "learned"})

    class Idx:
        settings = fake_settings

    assert learned_fusion(Idx, learned) is None  # the fake embedder: weighted fusion
    Idx.settings = Settings(index={"data_dir": fake_settings.index.data_dir})  # the bundled model
    assert learned_fusion(Idx, learned) == model
    assert learned_fusion(Idx, learned.model_copy(update={"mode": "dense"})) is None
    assert learned_fusion(Idx, fake_settings.retrieval) is None  # weighted asked for


@pytest.mark.integration
def test_learned_fusion_through_the_real_model(real_index):
    s = real_index.settings.retrieval.model_copy(update={"fusion": "learned"})
    question = "Which papers make LLMs multiplication-free?"
    hits = search(real_index, understand(real_index, question, s), s, k=10)
    assert "shiftaddllm" in hits[0].paper.title.lower()
    assert [h.paper.id for h in hits] == [h.paper.id for h in search(real_index, understand(real_index, question, s), s, k=10)]
    assert hits[0].score >= hits[-1].score
