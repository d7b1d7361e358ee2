"""HNSW recall of the collection settings paperbot gives Chroma, on an index's real vectors.

    python -m evals.bench.hnsw DATA_DIR [--queries 100]

Builds a fresh Chroma collection (in a temporary folder) from the current generation's chunk
vectors with index/vectors/chroma.py's collection metadata, then asks
it SciFact's first queries and reports the share of the exact top-10 found (a returned chunk
as similar as the exact 10th counts), the build time and the query latency. Useful where an
index was built before the settings changed (evals.bench.scale reports the recall of the collection
each generation was built with)."""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from evals.beir import SCIFACT
from evals.metrics import percentile
from evals.bench.scale import hnsw_found
from index import layout
from index.embedding.embedders import load_ingest_embedder
from index.reader import read_chunks
from index.settings import Settings
from index.vectors.chroma import ChunkStore, close_embedded



def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m evals.bench.hnsw", description=__doc__.split("\n\n")[0])
    ap.add_argument("data_dir", type=Path, help="a paperbot data folder (PAPERBOT_INDEX__DATA_DIR)")
    ap.add_argument("--queries", type=int, default=100)
    args = ap.parse_args(argv)
    settings = Settings(index={"data_dir": args.data_dir})
    chunks, vectors = read_chunks(layout.require_generation(settings.index_dir).path)
    vectors = np.ascontiguousarray(vectors)
    with (SCIFACT / "queries.jsonl").open() as f:
        texts = [json.loads(line)["text"] for line in f][: args.queries]
    queries = load_ingest_embedder(settings.index).embed(texts)
    with tempfile.TemporaryDirectory() as tmp:
        store = ChunkStore.embedded(Path(tmp), expected=len(chunks))
        t = time.perf_counter()
        store.add(chunks, vectors)
        build_s = time.perf_counter() - t
        m = store._collection.configuration["hnsw"]["max_neighbors"]
        found, lat = zip(*hnsw_found(store, {c.id: i for i, c in enumerate(chunks)}, vectors, queries))
        del store
        close_embedded(Path(tmp))
    print(json.dumps({
        "chunks": len(chunks), "M": m, "recall_at_10": round(float(np.mean(found)), 4),
        "build_s": round(build_s, 1), "query_p50_ms": round(percentile(lat, 0.5) * 1e3, 1),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
