"""What a paper costs to ingest, by chunking: texts and tokens per paper, ingest papers/s,
and SciFact nDCG@10 (train, for choosing; test, for reporting), hybrid and dense.

    python -m evals.bench.chunking [BEIR_FOLDER] [--variants default,no-overlap,first-chunk] [--json]

Each variant builds its own index from an empty embedding cache, with the ingest embedder
loaded once beforehand (so papers/s is the pipeline's rate, not an import's)."""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from evals.beir import SCIFACT, evaluate, load_beir
from index.ingest import ingest
from index.embedding.embedders import load_ingest_embedder
from index.reader import open_index
from index.vectors.base import CHUNKS
from index.settings import Settings

VARIANTS = {
    "default": {"chunk_tokens": 256, "chunk_overlap_sentences": 1, "max_chunks": 0},
    "no-overlap": {"chunk_tokens": 256, "chunk_overlap_sentences": 0, "max_chunks": 0},
    "first-chunk": {"chunk_tokens": 256, "chunk_overlap_sentences": 0, "max_chunks": 1},
    "two-chunks": {"chunk_tokens": 256, "chunk_overlap_sentences": 0, "max_chunks": 2},
    "two-short": {"chunk_tokens": 128, "chunk_overlap_sentences": 0, "max_chunks": 2},
}


def run_variant(name: str, folder: Path, embedder) -> dict[str, float | str]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(index={"data_dir": Path(tmp), **VARIANTS[name]})
        train, test = load_beir(folder, "train"), load_beir(folder, "test")
        t = time.perf_counter()
        report = ingest(settings, [train.corpus], embedder=embedder)
        seconds = time.perf_counter() - t
        index = open_index(settings)
        texts = [json.loads(line)["text"] for line in (index.generation.path / CHUNKS).open()]
        tokens = sum(min(n + 2, settings.index.max_tokens) for n in embedder.count_tokens(texts))
        out: dict[str, float | str] = {
            "variant": name, "papers": report.papers, "texts_per_paper": report.chunks / report.papers,
            "tokens_per_paper": tokens / report.papers, "ingest_papers_per_s": report.papers / seconds,
        }  # fmt: skip
        for mode in ("hybrid", "dense"):
            s = settings.model_copy(deep=True)
            s.retrieval.mode = mode
            for split, data in (("train", train), ("test", test)):
                out[f"{mode}_{split}_nDCG@10"] = evaluate(data, index, s)["nDCG@10"]
        index.close()
        return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("folder", nargs="?", default=str(SCIFACT))
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    embedder = load_ingest_embedder(Settings().index)
    for variant in args.variants.split(","):
        row = run_variant(variant, Path(args.folder), embedder)
        cells = "  ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items())
        print(json.dumps(row) if args.json else cells, flush=True)


if __name__ == "__main__":
    main()
