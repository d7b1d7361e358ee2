"""The two-stage dense search (index/vectors/prefilter.py): what it returns is exact, it finds the
nearest chunks, and ingest writes it only for large indexes."""

from pathlib import Path

import numpy as np
import pytest

import index.vectors.prefilter as prefilter
from bot.query.query import understand
from bot.retrieval.search import search
from index import layout
from index.ingest import ingest
from index.reader import open_index
from index.vectors.prefilter import BASIS, PROJECTED, Prefilter

DATA = Path(__file__).parent / "data"


def _clustered(n: int, dim: int = 64, seed: int = 0) -> np.ndarray:
    """Unit vectors around a few hundred topic centres that span a few directions (as text
    embeddings do: most of their variance lies in few dimensions), with a little noise."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(300, 12)) @ np.random.default_rng(99).normal(size=(12, dim))
    v = centres[rng.integers(0, 300, n)] + 0.3 * rng.normal(size=(n, dim))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def test_candidates_are_scored_exactly_and_hold_the_nearest(monkeypatch):
    monkeypatch.setattr(prefilter, "MIN_CANDIDATES", 300)
    monkeypatch.setattr(prefilter, "CANDIDATES_PER_RESULT", 10)
    vectors = _clustered(20_000)
    pf = Prefilter.fit(vectors, dims=24)
    queries = _clustered(50, seed=1)
    recalls = []
    for q in queries:
        rows, sims = pf.nearest(vectors, q, 30)
        assert len(rows) == 300 and np.allclose(sims, vectors[rows] @ q)
        exact = vectors @ q
        kth = np.sort(exact)[-30]
        best = rows[np.argsort(-sims)[:30]]
        recalls.append(np.mean(exact[best] >= kth - 1e-6))
    assert np.mean(recalls) >= 0.99
    # A projection that keeps too little misses neighbours: the test can tell.
    poor = Prefilter.fit(vectors, dims=2)
    missed = []
    for q in queries:
        rows, sims = poor.nearest(vectors, q, 30)
        exact = vectors @ q
        missed.append(np.mean(exact[rows[np.argsort(-sims)[:30]]] >= np.sort(exact)[-30] - 1e-6))
    assert np.mean(missed) < 0.95


def test_fit_is_deterministic_and_saved(tmp_path):
    vectors = _clustered(30_000)
    a, b = Prefilter.fit(vectors, dims=16), Prefilter.fit(vectors, dims=16)
    assert np.array_equal(a.basis, b.basis) and np.array_equal(a.projected, b.projected)
    a.save(tmp_path)
    loaded = Prefilter.load(tmp_path)
    assert loaded is not None and np.array_equal(loaded.projected, a.projected)
    assert Prefilter.load(tmp_path / "elsewhere") is None


def test_ingest_writes_it_for_large_indexes_and_search_uses_it(fake_settings, monkeypatch):
    ingest(fake_settings)  # the bundled corpus (500 chunks with the fake embedder)
    exact_gen = layout.require_generation(fake_settings.index_dir).path
    assert not (exact_gen / BASIS).exists()  # below prefilter_min_chunks
    queries = ["multiplication-free language models", "diffusion models for images", "tomatoes"]
    exact_index = open_index(fake_settings)
    exact = [[h.paper.id for h in search(exact_index, understand(exact_index, q, fake_settings.retrieval), fake_settings.retrieval, k=10)] for q in queries]

    index_settings = fake_settings.index.model_copy(
        update={"prefilter_min_chunks": 100, "data_dir": fake_settings.index.data_dir / "two-stage"}
    )
    two = fake_settings.model_copy(update={"index": index_settings})
    ingest(two)
    gen = layout.require_generation(two.index_dir).path
    assert (gen / BASIS).is_file() and (gen / PROJECTED).is_file()
    index = open_index(two)
    # Candidates (4,000 at least) cover this index: the same rankings as exact search.
    assert [[h.paper.id for h in search(index, understand(index, q, two.retrieval), two.retrieval, k=10)] for q in queries] == exact
    # Few candidates: the first stage really filters, and what it returns is scored exactly.
    monkeypatch.setattr(prefilter, "MIN_CANDIDATES", 60)
    monkeypatch.setattr(prefilter, "CANDIDATES_PER_RESULT", 1)
    with index.use() as idx, exact_index.use() as ex:
        projection = idx.vectors.prefilter
        assert projection is not None and len(projection.projected) == len(idx.vectors.table.chunks) > 400
        for q in queries:
            v = idx.embed_query(q)
            got, truth = idx.vectors.nearest(v, 30), ex.vectors.nearest(v, 30)
            assert len(got) == 30 and got[0] == truth[0]
            exact_sims = {m.chunk.id: m.similarity for m in ex.vectors.nearest(v, len(ex.vectors.table.chunks))}
            assert all(abs(exact_sims[m.chunk.id] - m.similarity) < 1e-5 for m in got)


@pytest.mark.parametrize("n", [1, 5])
def test_fewer_chunks_than_candidates(n):
    vectors = _clustered(n, dim=8)
    pf = Prefilter.fit(vectors, dims=4)
    rows, sims = pf.nearest(vectors, vectors[0], 3)
    assert sorted(rows.tolist()) == list(range(n)) and np.allclose(sims, vectors @ vectors[0])
