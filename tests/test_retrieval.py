from pathlib import Path

from bot.retrieval import fuse, search
from index.settings import RetrievalSettings
from index.build import ingest
from index.loaded import open_index

DATA = Path(__file__).parent / "data"


def test_fuse_modes():
    dense = {"a": 0.9, "b": 0.5, "c": 0.1}
    lexical = {"c": 10.0, "b": 6.0}
    assert [p for p, _ in fuse(dense, lexical, RetrievalSettings(mode="dense"))] == ["a", "b", "c"]
    assert [p for p, _ in fuse(dense, lexical, RetrievalSettings(mode="bm25"))] == ["c", "b"]
    w = fuse(dense, lexical, RetrievalSettings(fusion="weighted", dense_weight=0.5))
    assert dict(w) == {"a": 0.5, "b": 0.5 * 0.5 + 0.5 * 0.0, "c": 0.5}
    rrf = dict(fuse(dense, lexical, RetrievalSettings(fusion="rrf", rrf_k=60, dense_weight=0.5)))
    assert rrf["b"] > rrf["a"]  # second in both lists beats first in one
    assert abs(rrf["a"] - 1 / 61) < 1e-12


def test_search_returns_each_paper_once_with_best_evidence(fake_settings):
    ingest(fake_settings, [DATA / "papers.jsonl", DATA / "papers.csv", DATA / "corpus.jsonl"])
    index = open_index(fake_settings)
    hits = search(index, "gardeners routing tomatoes to experts", fake_settings.retrieval, k=10)
    ids = [h.paper.id for h in hits]
    assert ids[0] == "u1" and len(ids) == len(set(ids))
    assert hits[0].best_chunk and "gardeners" in hits[0].best_chunk
    assert hits[0].dense >= hits[-1].dense


def test_recurring_texts_are_embedded_once_per_process(fake_settings, counting_embedder):
    import threading

    import numpy as np

    from index.embed import FakeEmbedder

    ingest(fake_settings, [Path(__file__).parent / "data" / "papers.jsonl"])
    embedder = counting_embedder
    index = open_index(fake_settings, embedder)
    texts = ["a b c", "d e", "a b c"]
    first = index.embed_cached(texts)
    assert np.allclose(first, FakeEmbedder().embed(texts)) and embedder.embedded == ["a b c", "d e"]
    threads = [threading.Thread(target=index.embed_cached, args=(["d e", "f g"],)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert np.allclose(index.embed_cached(["f g", "a b c"]), FakeEmbedder().embed(["f g", "a b c"]))
    assert embedder.embedded.count("d e") == 1 and embedder.embedded.count("a b c") == 1
    index.forget_cached()
    index.embed_cached(["a b c"])
    assert embedder.embedded.count("a b c") == 2


def test_feedback_rescores_dense_candidates_toward_the_best_papers(fake_settings, monkeypatch):
    from bot import retrieval
    from bot.retrieval import feedback_scores, retrieve

    ingest(fake_settings, [DATA / "papers.jsonl", DATA / "papers.csv", DATA / "corpus.jsonl"])
    s = fake_settings.retrieval
    with open_index(fake_settings).use() as idx:
        c = retrieve(idx, "gardeners routing tomatoes to experts", s, 10)
        ranked = fuse(c.dense_scores, c.lexical, s)
        # no move: the candidates' exact chunk cosine, i.e. their dense scores
        still = feedback_scores(idx, c.query_vector, ranked, c.dense_scores, s.model_copy(update={"feedback_papers": 1, "feedback_weight": 0.0}))
        assert still.keys() == c.dense_scores.keys()
        assert all(abs(still[p] - c.dense_scores[p]) < 1e-5 for p in still)
        # a long way toward the best paper: it becomes the query, so it scores highest
        top = next(p for p, _ in ranked if p in c.dense_scores)
        far = feedback_scores(idx, c.query_vector, [(top, 1.0)], c.dense_scores, s.model_copy(update={"feedback_papers": 1, "feedback_weight": 100.0}))
        assert max(far, key=far.__getitem__) == top and far[top] > 0.99
        assert idx.chunk_vectors([]).shape == (0, c.query_vector.shape[0])  # nothing to move toward
    # a search ranks with them, and only ranks: hits keep the question's own similarity
    calls = []
    real = retrieval.feedback_scores
    monkeypatch.setattr(retrieval, "feedback_scores", lambda *a: calls.append(1) or real(*a))
    with open_index(fake_settings).use() as idx:
        plain = search(idx, "gardeners routing tomatoes to experts", s, k=5)
        moved = search(idx, "gardeners routing tomatoes to experts", s.model_copy(update={"feedback_papers": 2, "feedback_weight": 3.0}), k=5)
    assert len(calls) == (1 if s.feedback_papers else 0) + 1
    before = {h.paper.id: h.dense for h in plain}
    assert all(h.dense == before[h.paper.id] for h in moved if h.paper.id in before)
    assert [(h.paper.id, h.score) for h in moved] != [(h.paper.id, h.score) for h in plain]
