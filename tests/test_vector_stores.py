"""The vector-store seam (index/vectors/): the registry, the exact store against brute force on
a fake-embedder index, and `paperbot export chroma DIR` into a Chroma folder that a separate
chromadb process opens and queries (the chroma-server store runs against a real `chroma run`
in test_chroma_server.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import get_args

import numpy as np
import pytest
from pydantic import ValidationError

from index import layout
from index.errors import ConfigError
from index.ingest import ingest
from index.reader import open_index
from index.settings import BUNDLED_CORPUS, IndexSettings, Settings, index_fingerprint
from index.vectors.base import ChunkTable
from index.vectors.chroma import ChromaServerStore, stored_id
from index.vectors.exact import VECTORS, ExactStore, ExactVectors
from index.vectors.registry import STORES, load_vector_store

DATA = Path(__file__).parent / "data"


def test_the_registry_names_its_stores_and_auto_follows_the_server_url():
    assert isinstance(load_vector_store(IndexSettings()), ExactStore)
    assert isinstance(load_vector_store(IndexSettings(chroma_url="http://127.0.0.1:9")), ChromaServerStore)
    explicit = IndexSettings(vector_store="exact", chroma_url="http://127.0.0.1:9")
    assert isinstance(load_vector_store(explicit), ExactStore)
    with pytest.raises(ValidationError, match="vector_store"):  # a typo stops at the settings
        IndexSettings(vector_store="faiss")
    # the setting names exactly the registry's stores
    assert set(get_args(IndexSettings.model_fields["vector_store"].annotation)) == {"auto", *STORES}
    with pytest.raises(ConfigError, match=r"Unknown vector store 'faiss'.*auto or one of: exact, chroma-server"):
        load_vector_store(IndexSettings.model_construct(vector_store="faiss"))
    with pytest.raises(ConfigError, match="needs the server: set PAPERBOT_INDEX__CHROMA_URL"):
        load_vector_store(IndexSettings(vector_store="chroma-server"))


def test_the_fingerprint_keeps_the_names_generations_recorded():
    # Generations record "embedded" (vectors in the generation) or "server" since before the
    # registry: indexes built then open without a rebuild.
    assert index_fingerprint(Settings())["vector_store"] == "embedded"
    assert index_fingerprint(Settings(index={"chroma_url": "http://h:1"}))["vector_store"] == "server"
    assert index_fingerprint(Settings(index={"vector_store": "chroma-server", "chroma_url": "http://h:1"})) == (
        index_fingerprint(Settings(index={"chroma_url": "http://h:1"}))
    )


def test_an_explicit_store_that_differs_from_the_built_one_names_the_fix(fake_settings):
    ingest(fake_settings, [DATA / "papers.jsonl"])
    other = fake_settings.model_copy(deep=True)
    other.index.vector_store, other.index.chroma_url = "chroma-server", "http://127.0.0.1:9"
    with pytest.raises(ConfigError, match="run `paperbot ingest`.*set PAPERBOT_INDEX__VECTOR_STORE=exact"):
        open_index(other)


def test_exact_store_is_brute_force_cosine(fake_settings):
    ingest(fake_settings, [BUNDLED_CORPUS])
    live = open_index(fake_settings)
    with live.use() as idx:
        vectors = idx.vectors
        assert isinstance(vectors, ExactVectors) and vectors.prefilter is None
        chunks = vectors.table.chunks
        matrix = np.load(idx.generation.path / VECTORS)
        for text in ["mixture of experts routing", "diffusion models", "tomatoes"]:
            q = idx.embed_query(text)
            sims = matrix @ q.astype(np.float32)
            truth = sorted(range(len(chunks)), key=lambda r: (-sims[r], chunks[r].id))[:25]
            got = vectors.nearest(q, 25)
            assert [m.chunk for m in got] == [chunks[r] for r in truth]
            assert np.allclose([m.similarity for m in got], sims[truth], atol=1e-6)
            papers = [chunks[r].paper_id for r in truth[:4]] + ["no-such-paper"]
            per_paper = vectors.similarities(q, papers)
            for pid, got_sims in zip(papers, per_paper):
                rows = vectors.table.rows_by_paper.get(pid, [])
                assert [chunks[r].position for r in rows] == sorted(chunks[r].position for r in rows)
                assert np.allclose(got_sims, sims[rows], atol=1e-6)
    live.close()


# Opens an exported folder in a fresh process, as a user's own chromadb would: what it holds,
# and its nearest chunks to a few vectors.
PROBE = r"""
import json, sys, chromadb
import numpy as np
client = chromadb.PersistentClient(path=sys.argv[1])
col = client.get_collection(sys.argv[2])
got = col.get(include=["documents", "metadatas", "embeddings"])
queries = json.loads(sys.argv[3])
res = col.query(query_embeddings=queries, n_results=3, include=["distances"])
print(json.dumps({
    "rows": {i: [d, m["paper_id"], np.asarray(e, dtype=np.float32).tolist()]
             for i, d, m, e in zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"])},
    "nearest": res["ids"],
}))
"""


def _probe(folder: Path, queries: np.ndarray) -> dict:
    run = subprocess.run([sys.executable, "-c", PROBE, str(folder), "paperbot-default", json.dumps(queries.tolist())],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def _export(folder: Path) -> int:
    from evals.cli import main

    return main(["export", "chroma", "--json", str(folder)])


def test_export_writes_a_chroma_folder_and_keeps_it_in_step(fake_env, tmp_path, capsys):
    settings = Settings()  # fake_env: the fake embedder on fake_env's data folder
    ingest(settings, [DATA / "papers.jsonl", BUNDLED_CORPUS])
    folder = tmp_path / "chroma"
    assert _export(folder) == 0
    report = json.loads(capsys.readouterr().out)
    gen = layout.require_generation(settings.index_dir)
    assert report["generation"] == gen.name and report["added"] == report["chunks"] > 400

    def holds(probed: dict, gen: layout.Generation) -> bool:
        """Whether the folder holds exactly ``gen``'s chunks (ids, texts, papers; vectors to
        float32 precision: Chroma's cosine space stores them normalised)."""
        chunks, matrix = ChunkTable.read(gen.path).chunks, np.load(gen.path / VECTORS)
        rows = probed["rows"]
        return sorted(rows) == sorted(stored_id(c) for c in chunks) and all(
            rows[stored_id(c)][:2] == [c.text, c.paper_id] and np.allclose(rows[stored_id(c)][2], v, atol=1e-6)
            for c, v in zip(chunks, matrix)
        )

    queries = np.load(gen.path / VECTORS)[[0, 7, 42]]
    probed = _probe(folder, queries)
    assert holds(probed, gen)
    live = open_index(settings)
    with live.use() as idx:  # Chroma's HNSW search finds the exact store's nearest chunks
        for q, ids in zip(queries, probed["nearest"]):
            assert ids == [stored_id(m.chunk) for m in idx.vectors.nearest(q, 3)]
    live.close()

    # Papers corrected, added and removed: exporting again changes the folder by difference,
    # to what an export from scratch holds, with the change in Chroma's HNSW files (not left in
    # its log for every client to replay), and a client opening the folder rewrites none of them.
    from index.ingest import remove

    def hnsw() -> dict[str, bytes]:
        return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*.bin")}

    first = hnsw()

    fix = tmp_path / "fix.jsonl"
    fix.write_text(json.dumps({"id": "u1", "title": "Sparse Mixture of Gardeners", "abstract": "Cucumbers."}) + "\n")
    ingest(settings, [fix, DATA / "papers.csv"])
    remove(settings, sorted(p.id for p in layout.require_generation(settings.index_dir).papers() if p.id != "u1")[:3])
    gen = layout.require_generation(settings.index_dir)
    assert _export(folder) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["added"] > 0 and report["deleted"] > 0
    assert _export(folder) == 0 and json.loads(capsys.readouterr().out)["added"] == 0  # in step: nothing to do
    second = hnsw()
    assert first and second != first
    assert holds(_probe(folder, queries), gen)
    assert hnsw() == second
    assert _export(tmp_path / "scratch") == 0
    assert holds(_probe(tmp_path / "scratch", queries), gen)


def test_llama_index_reads_an_exported_collection_as_its_own(fake_env, tmp_path, capsys):
    """Collections are written through llama-index's Chroma integration: its vector store reads
    an exported folder back as nodes, with the chunk's text, paper and id."""
    import chromadb
    from llama_index.core.vector_stores.types import VectorStoreQuery
    from llama_index.vector_stores.chroma import ChromaVectorStore

    settings = Settings()
    ingest(settings, [DATA / "papers.jsonl"])
    assert _export(tmp_path / "chroma") == 0
    capsys.readouterr()
    gen = layout.require_generation(settings.index_dir)
    chunks, vectors = ChunkTable.read(gen.path).chunks, np.load(gen.path / VECTORS)
    client = chromadb.PersistentClient(
        path=str(tmp_path / "chroma"), settings=chromadb.config.Settings(anonymized_telemetry=False)
    )
    try:
        store = ChromaVectorStore(chroma_collection=client.get_collection("paperbot-default"))
        found = store.query(VectorStoreQuery(query_embedding=vectors[1].tolist(), similarity_top_k=1))
        assert found.ids == [stored_id(chunks[1])]
        assert found.nodes[0].get_content() == chunks[1].text
        assert found.nodes[0].metadata["paper_id"] == chunks[1].paper_id
    finally:
        client.close()
