"""Speed numbers for the closing note, measured on this machine:

- ingest of the bundled corpus from scratch (empty cache): seconds and papers/s,
  against the raw encode rate of the same model on the same papers' texts;
- `search` latency p50/p95 in a warm process (dev questions, after warm-up);
- `ask` latency p50/p95 in a warm process;
- cold `paperbot ask` wall time (a new process each time, index already built).

    python -m evals.bench [--repeat 3]
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

from bot.answer import answer
from bot.retrieval import search
from index.settings import Settings
from evals.metrics import percentile
from evals.questions import BUNDLED_DEV as DEV
from evals.questions import load_questions
from index.build import ingest, read_inputs
from index.embed import load_embedder
from index.loaded import open_index
from index.papers import merge_papers


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3, help="cold `paperbot ask` runs")
    args = ap.parse_args()
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(index={"data_dir": Path(tmp)})
        embedder = load_embedder(settings.index)

        t = time.perf_counter()
        report = ingest(settings, embedder=embedder)
        out["ingest_s"] = time.perf_counter() - t
        out["ingest_papers_per_s"] = report.papers / out["ingest_s"]
        out["chunks"] = report.chunks

        _, records = read_inputs(settings.index.corpus)
        texts = [f"{p.title}. {p.abstract}" if p.title else p.abstract for p in merge_papers([], records)]
        t = time.perf_counter()
        embedder.embed(texts, batch_size=settings.index.batch_size)
        out["raw_encode_papers_per_s"] = len(texts) / (time.perf_counter() - t)

        index = open_index(settings, embedder=embedder)
        questions = [q.question for q in load_questions(DEV)]
        for q in questions[:3]:
            search(index, q, settings.retrieval)
        lat = []
        for q in questions * 2:
            t = time.perf_counter()
            search(index, q, settings.retrieval)
            lat.append(time.perf_counter() - t)
        out["search_p50_ms"], out["search_p95_ms"] = percentile(lat, 0.5) * 1e3, percentile(lat, 0.95) * 1e3
        lat = []
        for q in questions:
            t = time.perf_counter()
            answer(q, settings, index)
            lat.append(time.perf_counter() - t)
        out["ask_warm_p50_ms"], out["ask_warm_p95_ms"] = percentile(lat, 0.5) * 1e3, percentile(lat, 0.95) * 1e3

        exe = str(Path(sys.executable).with_name("paperbot"))
        env = {**os.environ, "PAPERBOT_INDEX__DATA_DIR": tmp, "HF_HUB_OFFLINE": "1"}
        cold = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            subprocess.run([exe, "ask", questions[0]], env=env, check=True, capture_output=True)
            cold.append(time.perf_counter() - t)
        out["cold_ask_s_median"] = statistics.median(cold)

    for k, v in out.items():
        print(f"{k:<26} {v:10.2f}")
    print(json.dumps({k: round(v, 2) for k, v in out.items()}))


if __name__ == "__main__":
    main()
