"""BEIR benchmarks (corpus.jsonl, queries.jsonl, qrels/<split>.tsv): ingest the corpus into
its own index and score paperbot's ranking against the judgments."""

from __future__ import annotations

import argparse
import csv
import json
from dataclasses import dataclass
from pathlib import Path

from index.errors import BadInput
from bot.query.query import understand
from bot.retrieval.search import search
from index.settings import Settings
from evals.metrics import ranking_metrics
from index.ingest import ingest
from index.reader import LoadedIndex, open_index
from index.text import content_hash

# SciFact as the project's checkout has it beside itself (../shared, as on CI).
SCIFACT = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "scifact"


@dataclass(frozen=True)
class BeirSet:
    name: str
    corpus: Path
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


def load_beir(folder: Path, split: str) -> BeirSet:
    corpus, queries_file = folder / "corpus.jsonl", folder / "queries.jsonl"
    qrels_file = folder / "qrels" / f"{split}.tsv"
    for f in (corpus, queries_file, qrels_file):
        if not f.is_file():
            raise BadInput(
                f"{f}: missing; a BEIR folder holds corpus.jsonl, queries.jsonl and qrels/<split>.tsv "
                f"(splits here: {', '.join(p.stem for p in (folder / 'qrels').glob('*.tsv')) or 'none'})."
            )
    qrels: dict[str, dict[str, int]] = {}
    with qrels_file.open(encoding="utf-8") as f:
        for row in csv.reader(f, delimiter="\t"):
            if len(row) < 3 or row[0] == "query-id":
                continue
            qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    queries: dict[str, str] = {}
    with queries_file.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                q = json.loads(line)
                if str(q["_id"]) in qrels:
                    queries[str(q["_id"])] = q["text"]
    return BeirSet(folder.resolve().name, corpus, queries, qrels)


def beir_settings(settings: Settings, data: BeirSet) -> Settings:
    """Each benchmark gets its own index, so its papers never mix with the user's."""
    tag = content_hash(str(data.corpus.resolve()))[:8]
    return settings.model_copy(
        update={"index": settings.index.model_copy(update={"name": f"beir-{data.name}-{tag}"})}
    )


def prepare(settings: Settings, folder: Path, split: str, progress: bool = False) -> tuple[BeirSet, LoadedIndex]:
    data = load_beir(folder, split)
    s = beir_settings(settings, data)
    ingest(s, [data.corpus], progress=progress)
    return data, open_index(s)


def evaluate(data: BeirSet, index: LoadedIndex, settings: Settings, depth: int = 100) -> dict[str, float]:
    runs = []
    for qid, text in data.queries.items():
        hits = search(index, understand(index, text, settings.retrieval), settings.retrieval, k=depth)
        runs.append(([h.paper.id for h in hits], data.qrels[qid]))
    return {**ranking_metrics(runs), "queries": float(len(runs))}


def tuning_args(dry_run: bool = False) -> argparse.Namespace:
    """Command-line arguments of a tool that tunes on a BEIR split (``dir``, ``--split``, and
    ``--dry-run`` if asked): any split but test, which is for reporting only."""
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--split", default="train")
    if dry_run:
        ap.add_argument("--dry-run", action="store_true", help="print only, write nothing")
    args = ap.parse_args()
    if args.split == "test":
        raise SystemExit("Tune on a train/dev split; the test split is for reporting only.")
    return args
