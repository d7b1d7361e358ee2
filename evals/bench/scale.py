"""The cost curve: synthetic corpora of growing size, built from SciFact's sentences
(deterministic), and what each costs.

    python -m evals.bench.scale --sizes 1000,10000,100000 [--embedder fake] [--seed-base] [--json]

For each size: ingest papers/s (one ingest of the whole corpus, in process, model loaded);
seconds to add 1% more papers to it (``incremental_s``) and to add the same papers to an
empty index (``fresh_s``); warm hybrid search p50/p95 over 100 SciFact queries in a serving
process (query embedding included, no caches); recall@10 of Chroma's HNSW search against
exact search over the same vectors (the exact store searches exactly; the HNSW index is what
a Chroma server searches: evals/bench/hnsw.py builds it); peak RSS of this process (the ingests) and of the
serving process; disk size. A Markdown report and PNG charts go to
``evals/reports/<timestamp>-scale/``.

Papers have 5–11 SciFact sentences: about 1.8 chunks each with the model's tokenizer, like
the bundled corpus.

In every mode both sides of the 1% add encode the same papers: the incremental add finds
only the base corpus's vectors in its embedding cache, and the fresh index starts from an
empty one. ``--embedder fake`` measures the pipeline without the model (its encoding is all but
free; recall on its hashed vectors is not the model's). ``--seed-base`` keeps the model but
writes stand-in vectors for the base corpus (the mean of the model's vectors of each chunk's
sentences, see ``SentenceMeans``) into the embedding cache under the model's name, so the
base ingest runs the whole pipeline except encoding — hours at 100k papers on 2 cores."""

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

import numpy as np

from evals.beir import SCIFACT
from evals.bench.hnsw import hnsw_recall
from evals.metrics import percentile
from index.ingest import ingest
from index.embedding.cache import EmbeddingCache
from index.chunking import embedded_chunks
from index.embedding.embedders import Embedder, FakeEmbedder, IngestEmbedder, load_ingest_embedder
from index.settings import Settings
from index.sources.registry import read_papers
from index.text import split_sentences

KEYS = (
    "papers", "chunks", "ingest_papers_per_s", "incremental_s", "fresh_s", "search_p50_ms", "search_p95_ms",
    "recall_at_10", "ingest_rss_mb", "serve_rss_mb", "disk_mb",
)  # fmt: skip
SERVE = r"""
import json, resource, sys, time
from bot.query.query import understand
from bot.retrieval.search import search
from index.reader import open_index
from index.settings import Settings
s = Settings()
index = open_index(s)
queries = json.loads(sys.argv[1])
for q in queries[:5]:
    search(index, understand(index, q, s.retrieval), s.retrieval)
lat = []
for q in queries:
    index.forget_cached()
    t = time.perf_counter()
    search(index, understand(index, q, s.retrieval), s.retrieval)
    lat.append(time.perf_counter() - t)
# VmHWM, not ru_maxrss: a child's ru_maxrss starts at its parent's peak (kept across exec).
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps({"lat": lat, "rss_mb": hwm / 1024}))
"""


class SentenceMeans:
    """Stand-in chunk vectors for ``--seed-base``: the normalised mean of the model's own
    vectors of the chunk's SciFact sentences (encoded once, kept in ``SENTENCE_CACHE``), so
    the vectors have the model's geometry and HNSW recall means what it would with the
    model. (Hashed bag-of-words vectors are far harder for HNSW: recall@10 0.96 at 1,800.)"""

    def __init__(self, sentences: list[str], embedder: Embedder) -> None:
        self.dim = embedder.dim
        cache = EmbeddingCache(SENTENCE_CACHE, embedder.name, embedder.dim)
        try:
            self._table = cache.get_many(sentences)
            missing = [t for t in dict.fromkeys(sentences) if t not in self._table]
            for i in range(0, len(missing), 2048):
                part = missing[i : i + 2048]
                vectors = embedder.embed(part, batch_size=64)
                cache.put_many(part, vectors)
                self._table.update(zip(part, vectors))
        finally:
            cache.close()

    def embed(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            found = [self._table[s] for s in split_sentences(text) if s in self._table]
            v = np.mean(found, axis=0) if found else np.resize(_FAKE.embed([text])[0], self.dim)
            out[i] = v / max(float(np.linalg.norm(v)), 1e-9)
        return out


_FAKE = FakeEmbedder()
SENTENCE_CACHE = Path.home() / ".cache" / "paperbot" / "scale-sentences.sqlite"


def scifact_sentences() -> list[str]:
    """Every sentence of SciFact's corpus, in order: what synthetic papers are made of."""
    sentences: list[str] = []
    with (SCIFACT / "corpus.jsonl").open() as f:
        for line in f:
            sentences += split_sentences(json.loads(line)["text"])
    return sentences


def synthetic(n: int, seed: int, prefix: str, sentences: list[str], used: set[str] | None = None) -> list[dict]:
    """``n`` papers of random SciFact sentences (``used`` collects the sentences drawn)."""
    rng = random.Random(seed)
    papers = []
    for i in range(n):
        title = " ".join(rng.choice(sentences).split()[:8])
        drawn = [rng.choice(sentences) for _ in range(rng.randint(5, 11))]
        if used is not None:
            used.update(drawn)
        papers.append({"id": f"{prefix}{i}", "title": title, "abstract": " ".join(drawn)})
    return papers


def write_jsonl(path: Path, papers: list[dict]) -> Path:
    path.write_text("".join(json.dumps(p) + "\n" for p in papers))
    return path


def _du(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def seed_cache(settings: Settings, corpus: Path, embedder: Embedder, stand_in: SentenceMeans) -> None:
    """Stand-in vectors for every chunk the base ingest will make, cached under the model."""
    s = settings.index
    texts = [c.text for p in read_papers(corpus) for c in embedded_chunks(p, embedder.count_tokens, s)]
    cache = EmbeddingCache(settings.cache_path, embedder.name, embedder.dim)
    try:
        for i in range(0, len(texts), 5000):
            cache.put_many(texts[i : i + 5000], stand_in.embed(texts[i : i + 5000]))
    finally:
        cache.close()


def run_size(
    n: int, embedder_name: str, seed_base: bool, sentences: list[str], queries: list[str], keep: Path | None = None
) -> dict:  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) if keep is None else keep / str(n)
        root.mkdir(parents=True, exist_ok=True)
        used: set[str] = set()
        base = write_jsonl(root / "base.jsonl", synthetic(n, 1, "s", sentences, used))
        more = write_jsonl(root / "more.jsonl", synthetic(max(n // 100, 1), 2, "m", sentences))
        settings = Settings(index={"data_dir": root / "data", "embedder": embedder_name})
        embedder = load_ingest_embedder(settings.index)
        if seed_base:
            SENTENCE_CACHE.parent.mkdir(parents=True, exist_ok=True)
            seed_cache(settings, base, embedder, SentenceMeans(sorted(used), embedder))
        t = time.perf_counter()
        report = ingest(settings, [base], embedder=embedder)
        ingest_s = time.perf_counter() - t
        # The runtime that encodes the 1% is loaded before either timing (the fresh ingest
        # reuses it): process start and imports are the same for both, and not what is compared.
        added = [c.text for p in read_papers(more) for c in embedded_chunks(p, embedder.count_tokens, settings.index)]
        if isinstance(embedder, IngestEmbedder):
            embedder.plan(len(added))
        embedder.embed(added[:1])
        t = time.perf_counter()
        ingest(settings, [more], embedder=embedder)
        incremental_s = time.perf_counter() - t
        # The same work on both sides: the fresh index starts from an empty embedding cache, so it
        # encodes the papers the incremental add just encoded (its cache held only the base's).
        fresh = settings.model_copy(deep=True)
        fresh.index.data_dir = root / "fresh"
        (root / "fresh").mkdir()
        t = time.perf_counter()
        ingest(fresh, [more], embedder=embedder)
        fresh_s = time.perf_counter() - t
        served = serve(root / "data", embedder_name, queries)
        query_vectors = embedder.embed(queries)
        return {
            "papers": n, "chunks": report.chunks, "ingest_papers_per_s": n / ingest_s,
            "incremental_s": incremental_s, "fresh_s": fresh_s,
            "search_p50_ms": percentile(served["lat"], 0.5) * 1e3, "search_p95_ms": percentile(served["lat"], 0.95) * 1e3,
            "recall_at_10": hnsw_recall(settings, query_vectors),
            "ingest_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "serve_rss_mb": served["rss_mb"], "disk_mb": _du(root / "data" / "indexes"),
            "embedder": embedder_name + (" (base vectors seeded)" if seed_base else ""),
        }  # fmt: skip


def serve(data: Path, embedder_name: str, queries: list[str]) -> dict:
    """Warm search latencies (s) and peak RSS (MB) of a new process serving the index in ``data``."""
    env = {**os.environ, "PAPERBOT_INDEX__DATA_DIR": str(data), "PAPERBOT_INDEX__EMBEDDER": embedder_name}
    run = subprocess.run([sys.executable, "-c", SERVE, json.dumps(queries)], env=env, check=True, capture_output=True, text=True, timeout=3600)
    return json.loads(run.stdout)


def write_report(rows: list[dict], command: str) -> Path:
    from evals import plots
    from evals.report import new_report_dir

    out = new_report_dir()
    out = out.rename(out.with_name(out.name + "-scale"))
    xs = [r["papers"] for r in rows]
    lines = [
        "# paperbot cost curve", "", f"`{command}` — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{os.cpu_count()} CPUs, embedder: {rows[0]['embedder']}", "",
        "| " + " | ".join(KEYS) + " |", "|" + "---|" * len(KEYS),
        *("| " + " | ".join(f"{r[k]:.3g}" if isinstance(r[k], float) else str(r[k]) for k in KEYS) + " |" for r in rows),
        "", "incremental_s: add 1% more papers to the index; fresh_s: the same papers into an empty index.",
        "recall_at_10: Chroma HNSW against exact search, chunk level. RSS in MB (ingest: this process's peak so far).",
        "", "![throughput](throughput.png) ![latency](latency.png) ![memory](memory.png) ![adding](adding.png)",
    ]  # fmt: skip
    (out / "report.md").write_text("\n".join(lines) + "\n")
    (out / "scale.json").write_text(json.dumps(rows, indent=2))
    col = lambda k: [r[k] for r in rows]  # noqa: E731
    plots.curves(out / "throughput.png", "Ingest throughput", xs, {"papers/s": col("ingest_papers_per_s")},
                 "papers", "papers/s", ylim=None)  # fmt: skip
    plots.curves(out / "latency.png", "Warm hybrid search", xs,
                 {"p50": col("search_p50_ms"), "p95": col("search_p95_ms")}, "papers", "ms", ylim=None)  # fmt: skip
    plots.curves(out / "memory.png", "Peak RSS", xs, {"ingest": col("ingest_rss_mb"), "serve": col("serve_rss_mb")},
                 "papers", "MB", ylim=None)  # fmt: skip
    plots.curves(out / "adding.png", "Adding 1% more papers", xs,
                 {"to the index": col("incremental_s"), "to an empty index": col("fresh_s")}, "papers", "s", ylim=None)  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m evals.bench.scale", description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--embedder", default="onnx", choices=["sentence-transformers", "onnx", "fake"],
                    help="the index's embedder (queries); ingest encodes with index.ingest_embedder")  # fmt: skip
    ap.add_argument("--seed-base", action="store_true",
                    help="stand-in vectors for the base corpus via the cache; only the 1%% added is encoded")  # fmt: skip
    ap.add_argument("--json", action="store_true", help="one JSON object a line")
    ap.add_argument("--no-report", action="store_true", help="skip the Markdown/PNG report")
    ap.add_argument("--keep", type=Path, metavar="DIR", help="build under DIR/<size>/ and keep it (default: a temporary folder)")
    ap.add_argument("--serve", type=Path, metavar="DIR",
                    help="only measure search, serving RSS and recall again on the indexes a --keep DIR run left")  # fmt: skip
    args = ap.parse_args(argv)
    sentences = scifact_sentences()
    with (SCIFACT / "queries.jsonl").open() as f:
        queries = [json.loads(line)["text"] for line in f][:100]
    if args.serve:
        for n in (int(x) for x in args.sizes.split(",")):
            data = args.serve / str(n) / "data"
            served = serve(data, args.embedder, queries)
            settings = Settings(index={"data_dir": data, "embedder": args.embedder})
            recall = hnsw_recall(settings, load_ingest_embedder(settings.index).embed(queries))
            print(json.dumps({"papers": n, "search_p50_ms": round(percentile(served["lat"], 0.5) * 1e3, 3),
                              "search_p95_ms": round(percentile(served["lat"], 0.95) * 1e3, 3),
                              "serve_rss_mb": round(served["rss_mb"], 1), "recall_at_10": round(recall, 4)}), flush=True)  # fmt: skip
        return
    rows = []
    for n in (int(x) for x in args.sizes.split(",")):
        row = run_size(n, args.embedder, args.seed_base, sentences, queries, args.keep)
        rows.append(row)
        if args.json:
            print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}), flush=True)
        else:
            print("  ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()), flush=True)
    if not args.no_report:
        out = write_report(rows, "python -m evals.bench.scale " + " ".join(argv if argv is not None else sys.argv[1:]))
        print(f"report: {out / 'report.md'}", file=sys.stderr)


if __name__ == "__main__":
    main()
