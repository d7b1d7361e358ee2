"""`paperbot ingest` beside llama-index's default pipeline, whole process, on the bundled papers
(or ``--corpus``), and both against the bare model's fp32 encode rate:

- paperbot: `paperbot ingest` into a new data folder (an empty embedding cache), once where the
  model has not been exported yet (first use on a machine: the ONNX export and the trace) and
  once with the exports in place (every later ingest);
- llama-index: the same model through ``HuggingFaceEmbedding`` into a Chroma collection on disk
  (``chromadb.PersistentClient``, ``ChromaVectorStore``), one ``Document`` a paper (title and
  abstract), ``VectorStoreIndex.from_documents`` with its defaults;
- the bare model: sentence-transformers encoding each paper's title and abstract once, in fp32,
  in this process, the model loaded before the clock starts.

Each command is timed from process start to exit, each round in that order. The issue's
yardstick: the whole command at >= 0.8x the bare fp32 rate, and ahead of llama-index.

    pip install -e '.[bench-peer]'     # llama-index's HuggingFace embeddings (bench only)
    python -m evals.bench.peer [--repeat 3] [--corpus PATH ...] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from index.embedding.embedders import SentenceTransformerEmbedder, resolve_model_path
from index.embedding.precision import host_bf16, resolve_precision
from index.ingest import read_inputs
from index.papers import merge_papers
from index.settings import Settings

# The peer, as its documentation builds an index: everything at its defaults but the model.
PEER = r"""
import json, sys
import chromadb
from llama_index.core import Document, StorageContext, VectorStoreIndex
from llama_index.embeddings.huggingface import HuggingFaceEmbedding
from llama_index.vector_stores.chroma import ChromaVectorStore

model, papers, folder = sys.argv[1], json.load(open(sys.argv[2])), sys.argv[3]
client = chromadb.PersistentClient(path=folder, settings=chromadb.Settings(anonymized_telemetry=False))
collection = client.get_or_create_collection("papers")
VectorStoreIndex.from_documents(
    [Document(text=p["text"], id_=p["id"]) for p in papers],
    storage_context=StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=collection)),
    embed_model=HuggingFaceEmbedding(model_name=model),
)
print(json.dumps({"chunks": collection.count()}))
"""
ROWS = {
    "paperbot": "paperbot ingest",
    "paperbot_first_use": "paperbot ingest, first use (exports the model)",
    "llama_index": "llama-index VectorStoreIndex + Chroma",
}


def _process(cmd: list[str], env: dict[str, str]) -> tuple[float, dict]:
    """Seconds from start to exit, and the JSON object the command printed last."""
    t = time.perf_counter()
    run = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800)
    seconds = time.perf_counter() - t
    if run.returncode != 0:
        sys.exit(f"{' '.join(cmd[:3])} failed:\n{run.stderr[-3000:]}")
    return seconds, json.loads(run.stdout.strip().splitlines()[-1])


def _bare_fp32_rate(embedder: SentenceTransformerEmbedder, texts: list[str]) -> float:
    embedder.embed(texts[:8])  # warm-up
    t = time.perf_counter()
    embedder.embed(texts)
    return len(texts) / (time.perf_counter() - t)


def measure(corpus: list[Path], repeat: int) -> dict:
    settings = Settings()
    _, records = read_inputs(corpus)
    papers = merge_papers([], records)
    texts = [p.text for p in papers]
    model = resolve_model_path(settings.index.model)
    bare = SentenceTransformerEmbedder(model, settings.index.max_tokens, device="cpu")
    exe = str(Path(sys.executable).with_name("paperbot"))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    runs: dict[str, list[float]] = {name: [] for name in ROWS}
    rates: list[float] = []
    chunks: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        given = Path(tmp) / "papers.json"  # the peer reads the papers parsed (paperbot parses them itself)
        given.write_text(json.dumps([{"id": p.id, "text": p.text} for p in papers]))
        ingest = [exe, "ingest", "--no-progress", "--json", *map(str, corpus)]
        for i in range(repeat):
            export = {"PAPERBOT_INDEX__EXPORT_DIR": f"{tmp}/export{i}"}
            for name, data in (("paperbot_first_use", "first"), ("paperbot", "again")):
                s, report = _process(ingest, {**env, **export, "PAPERBOT_INDEX__DATA_DIR": f"{tmp}/{data}{i}"})
                runs[name].append(s)
                chunks[name] = report["chunks"]
            s, peer = _process([sys.executable, "-c", PEER, str(model), str(given), f"{tmp}/chroma{i}"], env)
            runs["llama_index"].append(s)
            chunks["llama_index"] = peer["chunks"]
            rates.append(_bare_fp32_rate(bare, texts))
    bare_rate = statistics.median(rates)
    median = {name: statistics.median(seconds) for name, seconds in runs.items()}
    return {
        "papers": len(papers), "cpus": os.cpu_count(), "native_bf16": host_bf16(),
        "ingest_precision": resolve_precision(settings.index.ingest_precision),
        "bare_fp32_papers_per_s": bare_rate, "bare_fp32_runs": rates, "runs_s": runs, "median_s": median,
        "chunks": chunks,
        "papers_per_s": {name: len(papers) / s for name, s in median.items()},
        "vs_bare_fp32": {name: len(papers) / s / bare_rate for name, s in median.items()},
        "paperbot_vs_llama_index": median["llama_index"] / median["paperbot"],
    }  # fmt: skip


def table(result: dict) -> str:
    lines = [
        f"{result['papers']} papers, {result['cpus']} CPUs, native bf16: {result['native_bf16']}, "
        f"paperbot encodes in {result['ingest_precision']}",
        f"{'':48} {'median s':>9} {'papers/s':>9} {'x bare fp32':>12} {'chunks':>7}  runs (s)",
    ]
    for name, label in ROWS.items():
        runs = " ".join(f"{s:.1f}" for s in result["runs_s"][name])
        lines.append(f"{label:48} {result['median_s'][name]:9.1f} {result['papers_per_s'][name]:9.1f} "
                     f"{result['vs_bare_fp32'][name]:12.2f} {result['chunks'][name]:7}  {runs}")  # fmt: skip
    runs = " ".join(f"{r:.1f}" for r in result["bare_fp32_runs"])
    lines.append(f"{'bare model, fp32 (encode only, papers/s)':48} {'':9} {result['bare_fp32_papers_per_s']:9.1f} "
                 f"{1:12.2f} {'':7}  {runs}")  # fmt: skip
    lines.append(f"llama-index takes {result['paperbot_vs_llama_index']:.2f}x paperbot's time")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m evals.bench.peer", description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="rounds (each runs every command once)")
    ap.add_argument("--corpus", type=Path, nargs="+", help="papers to ingest (default: the bundled corpus)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    try:
        import llama_index.embeddings.huggingface  # noqa: F401
    except ImportError:
        sys.exit("llama-index's HuggingFace embeddings are not installed: pip install -e '.[bench-peer]'")
    result = measure(args.corpus or Settings().index.corpus, args.repeat)
    print(json.dumps(result) if args.json else table(result))


if __name__ == "__main__":
    main()
