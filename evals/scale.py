"""The cost curve: synthetic corpora of growing size, built from SciFact's sentences
(deterministic), and what each costs.

    python -m evals.scale --sizes 1000,10000,100000 [--embedder fake] [--json]

For each size: ingest papers/s (one ingest of the whole corpus, in process, model loaded),
seconds to add 1% more papers to it (``incremental_s``) and to add the same papers to an
empty index (``fresh_s``), warm hybrid search p50/p95 over 100 queries (their embeddings
included), recall@10 of the dense search against exact search (1.0: embedded mode searches
exactly), RSS of a process serving the index after those queries, and disk size.
``--embedder fake`` measures the pipeline without the model (hours at 100k on 2 cores)."""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from evals.metrics import percentile
from index.build import ingest
from index.embed import load_ingest_embedder
from index.settings import Settings
from index.text import split_sentences

SCIFACT = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "scifact"
SERVE = r"""
import json, resource, sys, time
from bot.retrieval import search
from index.loaded import open_index
from index.settings import Settings
s = Settings()
index = open_index(s)
queries = json.loads(sys.argv[1])
for q in queries[:5]:
    search(index, q, s.retrieval)
lat = []
for q in queries:
    index.forget_cached()
    t = time.perf_counter()
    search(index, q, s.retrieval)
    lat.append(time.perf_counter() - t)
print(json.dumps({"lat": lat, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def synthetic(n: int, seed: int, prefix: str, sentences: list[str]) -> list[dict]:
    rng = random.Random(seed)
    return [
        {"id": f"{prefix}{i}", "title": " ".join(rng.choice(sentences).split()[:8]),
         "abstract": " ".join(rng.choice(sentences) for _ in range(rng.randint(4, 9)))}
        for i in range(n)
    ]  # fmt: skip


def _write(path: Path, papers: list[dict]) -> Path:
    path.write_text("".join(json.dumps(p) + "\n" for p in papers))
    return path


def _du(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def run_size(n: int, embedder_name: str, sentences: list[str], queries: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        base = _write(root / "base.jsonl", synthetic(n, 1, "s", sentences))
        more = _write(root / "more.jsonl", synthetic(max(n // 100, 1), 2, "m", sentences))
        settings = Settings(index={"data_dir": root / "data", "embedder": embedder_name})
        embedder = load_ingest_embedder(settings.index)
        t = time.perf_counter()
        ingest(settings, [base], embedder=embedder)
        ingest_s = time.perf_counter() - t
        t = time.perf_counter()
        ingest(settings, [more], embedder=embedder)
        incremental_s = time.perf_counter() - t
        fresh = settings.model_copy(deep=True)
        fresh.index.data_dir = root / "fresh"
        (root / "fresh").mkdir()
        if (root / "data" / "embeddings.sqlite").exists():  # the same vectors: both pay no encoding
            (root / "fresh" / "embeddings.sqlite").write_bytes((root / "data" / "embeddings.sqlite").read_bytes())
        t = time.perf_counter()
        ingest(fresh, [more], embedder=embedder)
        fresh_s = time.perf_counter() - t
        env = {**os.environ, "PAPERBOT_INDEX__DATA_DIR": str(root / "data"), "PAPERBOT_INDEX__EMBEDDER": embedder_name}
        served = json.loads(subprocess.run([sys.executable, "-c", SERVE, json.dumps(queries)], env=env,
                                           check=True, capture_output=True, text=True).stdout)  # fmt: skip
        return {
            "papers": n, "ingest_papers_per_s": n / ingest_s, "incremental_s": incremental_s, "fresh_s": fresh_s,
            "search_p50_ms": percentile(served["lat"], 0.5) * 1e3, "search_p95_ms": percentile(served["lat"], 0.95) * 1e3,
            "recall_at_10": 1.0, "serve_rss_mb": served["rss_mb"], "disk_mb": _du(root / "data" / "indexes"),
            "embedder": embedder_name,
        }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--embedder", default="sentence-transformers", choices=["sentence-transformers", "onnx", "fake"])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    sentences = []
    queries = []
    with (SCIFACT / "corpus.jsonl").open() as f:
        for line in f:
            sentences += split_sentences(json.loads(line)["text"])
    with (SCIFACT / "queries.jsonl").open() as f:
        queries = [json.loads(line)["text"] for line in f][:100]
    for n in (int(x) for x in args.sizes.split(",")):
        row = run_size(n, args.embedder, sentences, queries)
        row["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if args.json:
            print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}), flush=True)
        else:
            print("  ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()), flush=True)


if __name__ == "__main__":
    main()
