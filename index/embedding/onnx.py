"""The embedding model run by onnxruntime and tokenizers: no torch at query time.

onnxruntime lives here and nowhere else. The ONNX file is exported once from
the installed sentence-transformers folder (``index.embedding.embedders.export_onnx``, which needs torch)
and kept under the data folder; loading it takes ~0.1 s against ~7 s for importing
sentence-transformers. Tokenizing and pooling are index/embedding/pipeline.py's, so the vectors equal
sentence-transformers' (cosine 1.000), and the two share the embedding cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from index.embedding.pipeline import TokenModel


class OnnxEmbedder(TokenModel):
    def __init__(self, model_dir: Path, onnx_path: Path, name: str, max_tokens: int, bulk: bool = False) -> None:
        import onnxruntime as ort

        super().__init__(model_dir, name, max_tokens)
        options = ort.SessionOptions()
        options.log_severity_level = 3  # no warnings about unused initialisers on users' terminals
        if not bulk:
            # Threads that sleep when idle: onnxruntime's pool spins between runs by default
            # and then fights numpy's BLAS threads (the vector search) for 2 cores (warm search
            # p95 at 1,000 papers less than half with sleeping threads: python -m evals.bench.scale --serve).
            # (One thread did as well for search but halved the speed of embedding an
            # answer's sentences.)
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        self.dim = int(self._session.get_outputs()[0].shape[-1])

    def _hidden(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        return self._session.run(None, feed)[0]
