"""A day of arXiv into a big index: `paperbot feed arxiv` as a lab runs it, against the
loopback arXiv stand-in serving a day of cs.* (``synthetic_records``: recorded-shape records),
into an index of ``--base`` papers.

    python -m evals.bench.feed [--base 100000] [--records 1500] [--sets cs] [--interval 3]
                               [--embedder onnx] [--keep DIR] [--runs 1] [--json]

The base index is built once with stand-in vectors for its papers (as ``evals.bench.scale
--seed-base`` does: the whole pipeline except encoding, which would take hours at 100k papers on
two cores) and kept under ``--keep``; each run copies it, so every run adds the same day to the
same index, and the day's papers are encoded by the model. The command runs as its own process
(model load included). Reported: wall time, the time spent waiting on the politeness interval
(and Retry-After) and its share, the requests, and the records and papers per second."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from evals.bench.arxiv_standin import ArxivStandin
from evals.bench.arxiv_synthetic import synthetic_records
from evals.bench.scale import SENTENCE_CACHE, SentenceMeans, scifact_sentences, seed_cache, synthetic, write_jsonl
from index import layout
from index.embedding.embedders import load_ingest_embedder
from index.ingest import ingest
from index.settings import Settings

DAY = "2026-12-01"


def base_index(root: Path, n: int, embedder_name: str) -> Path:
    """A data dir holding an index of ``n`` synthetic papers (built once, kept in ``root``)."""
    data = root / f"base-{n}-{'fake' if embedder_name == 'fake' else 'model'}"
    current = layout.current_generation(data / "indexes" / "default")
    if current is not None and current.manifest()["papers"] == n:
        return data
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    sentences = scifact_sentences()
    used: set[str] = set()
    corpus = write_jsonl(data.parent / f"base-{n}.jsonl", synthetic(n, 1, "s", sentences, used))
    settings = Settings(index={"data_dir": data, "embedder": embedder_name})
    embedder = load_ingest_embedder(settings.index)
    if embedder_name != "fake":
        SENTENCE_CACHE.parent.mkdir(parents=True, exist_ok=True)
        seed_cache(settings, corpus, embedder, SentenceMeans(sorted(used), embedder))
    t = time.perf_counter()
    report = ingest(settings, [corpus], embedder=embedder)
    print(f"base index: {report.papers} papers, {report.chunks} chunks in {time.perf_counter() - t:.0f}s", file=sys.stderr)
    return data


def run_once(base: Path, records: int, sets: list[str], interval: float, embedder_name: str, page_size: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp, ArxivStandin(page_size=page_size) as arxiv:
        data = Path(tmp) / "data"
        shutil.copytree(base, data)
        day = synthetic_records(records, DAY)
        arxiv.put(*day)
        env = {
            **os.environ, "HF_HUB_OFFLINE": "1", "PAPERBOT_INDEX__DATA_DIR": str(data),
            "PAPERBOT_INDEX__EMBEDDER": embedder_name, "PAPERBOT_FEED__OAI_URL": arxiv.oai_url,
            "PAPERBOT_FEED__MIN_INTERVAL_S": str(interval), "PAPERBOT_FEED__CONTACT": "bench@example.org",
        }  # fmt: skip
        cmd = [sys.executable, "-m", "evals.cli", "feed", "arxiv", "--from", DAY, "--until", DAY, "--json"]
        for s in sets:
            cmd += ["--set", s]
        t = time.perf_counter()
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=7200, check=False)
        wall = time.perf_counter() - t
        if done.returncode != 0:
            raise SystemExit(f"feed failed ({done.returncode}): {done.stderr[-2000:]}")
        report = json.loads(done.stdout)
        return {
            "base_papers": layout.current_generation(base / "indexes" / "default").manifest()["papers"],
            "records_served": len(day), "harvested": report["harvested"], "new": report["new"],
            "updated": report["updated"], "removed": report["removed"], "requests": report["requests"],
            "wall_s": round(wall, 2), "command_s": report["seconds"], "ingest_s": report["ingest_s"],
            "waited_s": report["waited_s"], "waiting_share": round(report["waited_s"] / wall, 4),
            "papers_per_s": round(report["new"] / wall, 2), "sets": sets, "interval_s": interval,
        }  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", type=int, default=100_000, help="papers in the index the day is added to")
    ap.add_argument("--records", type=int, default=1500, help="records in the day (a day of cs.* is ~1,500)")
    ap.add_argument("--sets", nargs="+", default=["cs"], help="OAI-PMH sets harvested (default: cs)")
    ap.add_argument("--interval", type=float, default=3.0, help="PAPERBOT_FEED__MIN_INTERVAL_S (arXiv's: 3)")
    ap.add_argument("--page-size", type=int, default=2500, help="records per OAI-PMH page (arXiv's: 2,500)")
    ap.add_argument("--embedder", default="onnx", help="PAPERBOT_INDEX__EMBEDDER (fake: no model)")
    ap.add_argument("--keep", type=Path, default=Path.home() / ".cache" / "paperbot" / "bench-feed")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    base = base_index(args.keep, args.base, args.embedder)
    rows = [run_once(base, args.records, args.sets, args.interval, args.embedder, args.page_size) for _ in range(args.runs)]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"| base papers | records | sets | requests | wall s | ingest s | waiting s (share) | new papers/s |")
    print("|---:|---:|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['base_papers']:,} | {r['harvested']:,} | {' '.join(r['sets'])} | {r['requests']} | {r['wall_s']:.1f} | "
              f"{r['ingest_s']:.1f} | {r['waited_s']:.1f} ({r['waiting_share']:.1%}) | {r['papers_per_s']:.1f} |")


if __name__ == "__main__":
    main()



