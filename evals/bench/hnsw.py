"""HNSW recall of the collection settings paperbot gives Chroma, on an index's real vectors.

    python -m evals.bench.hnsw DATA_DIR [--queries 100]

Builds a fresh Chroma collection (in a temporary folder) from the current generation's chunk
vectors, as `paperbot export chroma` and the chroma-server store build theirs
(index/vectors/chroma.py's collection metadata), then asks it SciFact's first queries and
reports the share of the exact top-10 found (a returned chunk as similar as the exact 10th
counts), the build time and the query latency. The exact store searches every vector; the
HNSW index is what a Chroma server searches."""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from evals.beir import SCIFACT
from evals.metrics import percentile
from index import layout
from index.embedding.embedders import load_ingest_embedder
from index.settings import Settings
from index.vectors.base import read_chunks
from index.vectors.chroma import ChunkStore, export_collection, stored_id
from index.vectors.exact import VECTORS, stored_vectors

COLLECTION = "paperbot-bench"


@contextmanager
def hnsw_collection(settings: Settings) -> Iterator[tuple[ChunkStore, dict[str, int], np.ndarray, float]]:
    """The current generation's vectors in a new Chroma collection: the open collection, each
    stored id's row in the vectors, the vectors, and the seconds the build took."""
    gen = layout.require_generation(settings.index_dir)
    vectors = stored_vectors(gen.path)
    if vectors is None:
        raise SystemExit(  # one line, not a traceback
            f"{settings.index_dir} keeps its vectors on a Chroma server (no {VECTORS}): this benchmark "
            "compares Chroma's HNSW search with exact search over an index built with the exact store "
            "(PAPERBOT_INDEX__VECTOR_STORE=exact)."
        )
    vectors, chunks = np.array(vectors), read_chunks(gen.path)  # in memory, as the exact side reads them
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        export_collection(Path(tmp), COLLECTION, chunks, lambda rows: vectors[np.asarray(rows, dtype=np.int64)])
        build_s = time.perf_counter() - t
        store = ChunkStore.embedded(Path(tmp), COLLECTION)
        try:
            yield store, {stored_id(c): i for i, c in enumerate(chunks)}, vectors, build_s
        finally:
            store.close()


def hnsw_found(
    store: ChunkStore, row: dict[str, int], vectors: np.ndarray, queries: np.ndarray, k: int = 10
) -> list[tuple[float, float]]:
    """Per query: the share of the exact top-``k`` chunks (``vectors``, rows by stored id in
    ``row``) that ``store``'s HNSW search returns, ties counted as found, and that search's
    seconds."""
    out = []
    for q in queries:
        sims = np.asarray(vectors @ q)
        kth = np.sort(sims)[-k]
        t = time.perf_counter()
        approx = [i for i, _ in store.query(q, k)]
        seconds = time.perf_counter() - t
        out.append((sum(sims[row[i]] >= kth - 1e-6 for i in approx) / k, seconds))
    return out


def hnsw_recall(settings: Settings, queries: np.ndarray, k: int = 10) -> float:
    """Mean share of the exact top-``k`` chunks that Chroma's HNSW index over the current
    generation's vectors also returns."""
    with hnsw_collection(settings) as (store, row, vectors, _):
        return float(np.mean([share for share, _ in hnsw_found(store, row, vectors, queries, k)]))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m evals.bench.hnsw", description=__doc__.split("\n\n")[0])
    ap.add_argument("data_dir", type=Path, help="a paperbot data folder (PAPERBOT_INDEX__DATA_DIR)")
    ap.add_argument("--queries", type=int, default=100)
    args = ap.parse_args(argv)
    settings = Settings(index={"data_dir": args.data_dir})
    with (SCIFACT / "queries.jsonl").open() as f:
        texts = [json.loads(line)["text"] for line in f][: args.queries]
    queries = load_ingest_embedder(settings.index).embed(texts)
    with hnsw_collection(settings) as (store, row, vectors, build_s):
        m = store._collection.configuration["hnsw"]["max_neighbors"]
        found, lat = zip(*hnsw_found(store, row, vectors, queries))
        print(json.dumps({
            "chunks": len(row), "M": m, "recall_at_10": round(float(np.mean(found)), 4),
            "build_s": round(build_s, 1), "query_p50_ms": round(percentile(lat, 0.5) * 1e3, 1),
        }))  # fmt: skip


if __name__ == "__main__":
    main()
