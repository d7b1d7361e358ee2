"""The embedding model run by onnxruntime and tokenizers: no torch at query time.

onnxruntime and tokenizers live here and nowhere else. The ONNX file is exported once from
the installed sentence-transformers folder (``index.embed.export_onnx``, which needs torch)
and kept under the data folder; loading it takes ~0.1 s against ~7 s for importing
sentence-transformers. The pipeline is the model's own: its tokenizer (cut at max_tokens),
the transformer, mean pooling over real tokens, L2 normalisation — so the vectors equal
sentence-transformers' (cosine 1.000), and the two share the embedding cache."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import numpy as np


class OnnxEmbedder:
    def __init__(self, model_dir: Path, onnx_path: Path, name: str, max_tokens: int, bulk: bool = False) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=max_tokens)
        self._tokenizer.no_padding()
        self._counter = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._counter.no_truncation()
        self._counter.no_padding()
        options = ort.SessionOptions()
        options.log_severity_level = 3  # no warnings about unused initialisers on users' terminals
        if not bulk:
            # Threads that sleep when idle: onnxruntime's pool spins between runs by default
            # and then fights numpy's BLAS threads (the vector search) for 2 cores: warm search
            # p50 17 -> 13 ms, p95 41 -> 18 ms at 1,000 papers (python -m evals.scale --serve).
            # (One thread did as well for search but halved the speed of embedding an
            # answer's sentences.)
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        self.name = name
        self.dim = int(self._session.get_outputs()[0].shape[-1])

    def embed(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Similar lengths together: less padding per batch; results go back in input order.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            out[rows] = self._embed_batch([texts[i] for i in rows])
        return out

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(texts), width), dtype=np.int64)
        mask = np.zeros((len(texts), width), dtype=np.int64)
        types = np.zeros((len(texts), width), dtype=np.int64)
        for row, e in enumerate(encodings):
            ids[row, : len(e.ids)] = e.ids
            mask[row, : len(e.ids)] = e.attention_mask
            types[row, : len(e.ids)] = e.type_ids
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        hidden = self._session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)

    def count_tokens(self, texts: list[str]) -> list[int]:
        if not texts:
            return []
        return [len(e.ids) for e in self._counter.encode_batch(texts, add_special_tokens=False)]


def ensure_exported(onnx_path: Path, export) -> Path:
    """The ONNX file at ``onnx_path``, exported by ``export(tmp_path)`` if missing. Several
    processes may start at once: one exports (under a lock), the others wait and reuse it;
    the file appears whole (rename) or not at all."""
    if onnx_path.is_file():
        return onnx_path
    onnx_path.parent.mkdir(parents=True, exist_ok=True)
    with (onnx_path.parent / ".export.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not onnx_path.is_file():
            tmp = onnx_path.with_name(f"{onnx_path.name}.{os.getpid()}.tmp")
            export(tmp)
            os.replace(tmp, onnx_path)
    return onnx_path
