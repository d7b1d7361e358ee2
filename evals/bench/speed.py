"""Speed numbers for the closing note, measured on this machine:

- the whole `paperbot ingest` command (process start to exit) on the bundled corpus from
  an empty embedding cache: seconds and papers/s, against the raw encode rate of the same
  model on the same papers (each paper once, title + abstract) in fp32 with torch and with
  onnxruntime, and in bf16 where ingest would use it (AMX or AVX-512 BF16); once on a machine that has not exported the model to ONNX yet (first use),
  once with the export in place (every later data folder);
- adding 10 new papers to the built index (`paperbot ingest FILE`: onnxruntime, no torch);
- query embedding latency with each runtime;
- `search` and `ask` latency p50/p95 in a warm process;
- cold `paperbot ask` wall time (a new process each time, index built) and `paperbot --help`.

    python -m evals.bench [--repeat 5]
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

from bot.answer.answerer import answer
from bot.query.query import understand
from bot.retrieval.search import search
from index.settings import Settings
from evals.beir import SCIFACT
from evals.metrics import percentile
from evals.questions import BUNDLED_DEV as DEV
from evals.questions import load_questions
from index.ingest import ingest, read_inputs
from index.embedding.embedders import load_embedder, load_ingest_embedder
from index.embedding.precision import resolve_precision
from index.reader import open_index
from index.papers import merge_papers

# The yardstick is the raw fp32 rate: the fastest of these on this host.
FP32_RUNTIMES = [("sentence-transformers", "fp32"), ("torchscript", "fp32"), ("onnx", "fp32")]


def _run(cmd: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, capture_output=True, timeout=1800)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5, help="cold `paperbot ask` runs")
    args = ap.parse_args()
    out: dict[str, float] = {}
    exe = str(Path(sys.executable).with_name("paperbot"))
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(index={"data_dir": Path(tmp), "export_dir": Path(tmp) / "export"})
        env = {**os.environ, "PAPERBOT_INDEX__DATA_DIR": tmp, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        first = {**env, "PAPERBOT_INDEX__DATA_DIR": f"{tmp}/first", "PAPERBOT_INDEX__EXPORT_DIR": f"{tmp}/export"}
        out["ingest_first_use_s"] = _run([exe, "ingest", "--no-progress"], first)
        out["ingest_s"] = _run([exe, "ingest", "--no-progress"], {**env, "PAPERBOT_INDEX__EXPORT_DIR": f"{tmp}/export"})
        papers = len(open_index(settings).papers)
        out["ingest_papers_per_s"] = papers / out["ingest_s"]
        new = Path(tmp) / "new.jsonl"
        with (SCIFACT / "corpus.jsonl").open() as f:
            docs = [json.loads(next(f)) for _ in range(10)]
        new.write_text("".join(json.dumps({"id": f"scifact-{d['_id']}", "title": d["title"], "abstract": d["text"]}) + "\n" for d in docs))
        out["add_10_papers_s"] = _run([exe, "ingest", "--no-progress", str(new)], {**env, "PAPERBOT_INDEX__EXPORT_DIR": f"{tmp}/export"})

        _, records = read_inputs(settings.index.corpus)
        texts = [p.text for p in merge_papers([], records)]
        for runtime, precision in FP32_RUNTIMES + [("torchscript", "bf16")]:
            if precision == "bf16" and resolve_precision("auto") == "fp32":
                continue  # emulated bf16 on this CPU: not a runtime ingest would pick
            update = {"ingest_embedder": runtime, "ingest_precision": precision}
            bulk = load_ingest_embedder(settings.index.model_copy(update=update))
            bulk.embed(texts[:8])  # warm-up
            t = time.perf_counter()
            bulk.embed(texts, batch_size=settings.index.batch_size)
            key = runtime if precision == "fp32" else f"{runtime}_{precision}"
            out[f"raw_{key}_papers_per_s"] = len(texts) / (time.perf_counter() - t)
            if runtime == "torchscript":
                continue  # an ingest runtime only
            embedder = load_embedder(settings.index.model_copy(update={"embedder": runtime}))
            embedder.embed(texts[:8])
            lat = []
            for q in texts[:50]:
                t = time.perf_counter()
                embedder.embed([q[:120]])
                lat.append(time.perf_counter() - t)
            out[f"query_embed_{runtime}_p50_ms"] = percentile(lat, 0.5) * 1e3
        fastest = max(out[f"raw_{r}_papers_per_s"] for r, _ in FP32_RUNTIMES)
        out["ingest_vs_fastest_raw_fp32"] = out["ingest_papers_per_s"] / fastest

        index = open_index(settings)
        questions = [q.question for q in load_questions(DEV)]
        for q in questions[:3]:
            search(index, understand(index, q, settings.retrieval), settings.retrieval)
        lat = []
        for q in questions * 2:
            index.forget_cached()  # a query never seen: its embedding is part of the latency
            t = time.perf_counter()
            search(index, understand(index, q, settings.retrieval), settings.retrieval)
            lat.append(time.perf_counter() - t)
        out["search_p50_ms"], out["search_p95_ms"] = percentile(lat, 0.5) * 1e3, percentile(lat, 0.95) * 1e3
        lat = []
        for q in questions:
            t = time.perf_counter()
            answer(q, settings, index)
            lat.append(time.perf_counter() - t)
        out["ask_warm_p50_ms"], out["ask_warm_p95_ms"] = percentile(lat, 0.5) * 1e3, percentile(lat, 0.95) * 1e3

        out["cold_ask_s_median"] = statistics.median(_run([exe, "ask", questions[0]], env) for _ in range(args.repeat))
        out["help_s_median"] = statistics.median(_run([exe, "--help"], env) for _ in range(3))

    for k, v in out.items():
        print(f"{k:<34} {v:10.2f}")
    print(json.dumps({k: round(v, 3) for k, v in out.items()}))


if __name__ == "__main__":
    main()
