"""Retrieval quality of each number format the traced model can ingest in
(index/embedding/precision.py), on a BEIR split: a format becomes 'auto''s choice for a kind of
CPU only if its nDCG@10 stays within 0.001 of fp32's. Every format runs on any CPU (where
its hardware is missing, emulated and slower), so a route can be checked on another kind of host.

Each format ingests the corpus into its own data folder (its own embedding cache: fp32 and bf16
vectors share the cache's name), then the split's queries are searched as usual (queries
embed in fp32 either way).

    python -m evals.bench.precision [DIR] [--splits train,test] [--formats fp32,bf16,bf16-autocast]
        [--modes hybrid,dense] [--json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from evals.beir import SCIFACT, evaluate, load_beir
from index.embedding.embedders import torchscript_embedder
from index.embedding.precision import PRECISIONS
from index.ingest import ingest
from index.reader import open_index
from index.settings import Settings


def measure(folder: Path, splits: list[str], formats: list[str], modes: list[str]) -> dict[str, dict]:
    """{format: {"ingest_s": s, "<split> <mode>": nDCG@10, "<split> <mode> delta": to the first format}}."""
    sets = [load_beir(folder, split) for split in splits]
    out: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for precision in formats:
            settings = Settings(index={"data_dir": Path(tmp) / precision})
            t = time.perf_counter()
            ingest(settings, [sets[0].corpus], embedder=torchscript_embedder(settings.index, precision))
            row: dict = {"ingest_s": time.perf_counter() - t}
            index = open_index(settings)
            for split, data in zip(splits, sets):
                for mode in modes:
                    s = settings.model_copy(update={"retrieval": settings.retrieval.model_copy(update={"mode": mode})})
                    row[f"{split} {mode}"] = evaluate(data, index, s)["nDCG@10"]
            out[precision] = row
    for row in out.values():
        for key in [k for k in row if k != "ingest_s"]:
            row[f"{key} delta"] = row[key] - out[formats[0]][key]
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m evals.bench.precision", description=__doc__.split("\n\n")[0])
    ap.add_argument("dir", nargs="?", type=Path, default=SCIFACT, help="a BEIR folder (default: SciFact)")
    ap.add_argument("--splits", default="train", help="choose on train/dev; test is for reporting")
    ap.add_argument("--formats", default=",".join(PRECISIONS), help="the first is the reference")
    ap.add_argument("--modes", default="hybrid,dense")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    splits, formats, modes = args.splits.split(","), args.formats.split(","), args.modes.split(",")
    unknown = set(formats) - set(PRECISIONS)
    if unknown:
        ap.error(f"unknown formats {sorted(unknown)}; choose from {', '.join(PRECISIONS)}")
    result = measure(args.dir, splits, formats, modes)
    if args.json:
        print(json.dumps(result))
        return
    print(f"{args.dir.name}: nDCG@10 (delta to {formats[0]})")
    for precision, row in result.items():
        keys = [f"{split} {mode}" for split in splits for mode in modes]
        cells = "  ".join(f"{k} {row[k]:.4f} ({row[k + ' delta']:+.4f})" for k in keys)
        print(f"  {precision:<14} {cells}  ingest {row['ingest_s']:.0f} s")


if __name__ == "__main__":
    main()
