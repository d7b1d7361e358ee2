from pathlib import Path

from bot.query.query import understand

from bot.retrieval.search import fuse, search
from index.settings import RetrievalSettings
from index.ingest import ingest
from index.reader import open_index

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
    hits = search(index, understand(index, "gardeners routing tomatoes to experts", fake_settings.retrieval), fake_settings.retrieval, k=10)
    ids = [h.paper.id for h in hits]
    assert ids[0] == "u1" and len(ids) == len(set(ids))
    assert hits[0].best_chunk and "gardeners" in hits[0].best_chunk
    assert hits[0].dense >= hits[-1].dense


def test_recurring_texts_are_embedded_once_per_process(fake_settings, counting_embedder):
    import threading

    import numpy as np

    from index.embedding.embedders import FakeEmbedder

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

