"""Bulk encoding on a GPU: the same vectors as on the CPU, and how much faster.

    python -m evals.bench.gpu [--model DIR] [--texts 2000]

Encodes the bundled corpus's papers (repeated up to --texts) with torch on the CPU and with
``index.device=auto`` (a CUDA GPU when torch sees one), and prints both rates and the lowest
cosine between the two vectors of a text; then the ONNX export of the same model, run by
onnxruntime on the CPU, against torch. Nothing here needs a GPU: without one both runs
are on the CPU."""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from index.ingest import read_inputs
from index.embedding.embedders import SentenceTransformerEmbedder, cache_name, export_onnx, resolve_model_path
from index.papers import merge_papers
from index.settings import BUNDLED_CORPUS


def _rate(embedder, texts: list[str], batch_size: int) -> tuple[np.ndarray, float]:
    embedder.embed(texts[:batch_size], batch_size=batch_size)  # warm-up (CUDA kernels, caches)
    t = time.perf_counter()
    vectors = embedder.embed(texts, batch_size=batch_size)
    return vectors, len(texts) / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="bundled", help="sentence-transformers folder (default: bundled)")
    ap.add_argument("--texts", type=int, default=2000)
    ap.add_argument("--batch-size", type=int, default=64)
    args = ap.parse_args()
    path = resolve_model_path(args.model)
    _, records = read_inputs([BUNDLED_CORPUS])
    papers = [p.text for p in merge_papers([], records)]
    texts = (papers * (args.texts // len(papers) + 1))[: args.texts]

    cpu = SentenceTransformerEmbedder(path, 256, "cpu")
    auto = SentenceTransformerEmbedder(path, 256, "auto")
    cpu_vecs, cpu_rate = _rate(cpu, texts[:256], args.batch_size)
    auto_vecs, auto_rate = _rate(auto, texts, args.batch_size)
    out = {
        "device": auto.device,
        "cpu_texts_per_s": round(cpu_rate, 1),
        "auto_texts_per_s": round(auto_rate, 1),
        "min_cosine_auto_vs_cpu": float((cpu_vecs * auto_vecs[:256]).sum(axis=1).min()),
    }
    from index.embedding.onnx import OnnxEmbedder

    with tempfile.TemporaryDirectory() as tmp:
        onnx_path = Path(tmp) / "model.onnx"
        export_onnx(path, onnx_path)
        onnx = OnnxEmbedder(path, onnx_path, cache_name(path, 256), 256)
        out["min_cosine_onnx_vs_torch"] = float((onnx.embed(texts[:256]) * cpu_vecs).sum(axis=1).min())
    print(json.dumps(out))


if __name__ == "__main__":
    main()
