"""The model's pipeline around its transformer, shared by the runtimes that run the exported
graph (onnxruntime for queries, TorchScript for bulk ingest): its own tokenizer (cut at
max_tokens), batches of similar lengths, mean pooling over real tokens, L2 normalisation —
so every runtime gives sentence-transformers' vectors (cosine 1.000) and they share the
embedding cache. tokenizers lives here and nowhere else."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from index.errors import ConfigError


class TokenModel:
    """A runtime subclass sets ``dim`` and implements ``_hidden``: the transformer's token
    embeddings (batch, tokens, dim) for padded int64 inputs."""

    dim: int
    _inputs: set[str] = {"input_ids", "attention_mask", "token_type_ids"}

    def __init__(self, model_dir: Path, name: str, max_tokens: int) -> None:
        from tokenizers import Tokenizer

        if not (model_dir / "tokenizer.json").is_file():
            raise ConfigError(
                f"{model_dir} has no tokenizer.json (a fast tokenizer); save the model with a recent "
                "sentence-transformers, or set PAPERBOT_INDEX__EMBEDDER and __INGEST_EMBEDDER to "
                "sentence-transformers."
            )
        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=max_tokens)
        self._tokenizer.no_padding()
        self._counter = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._counter.no_truncation()
        self._counter.no_padding()
        self.name = name

    def _hidden(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        raise NotImplementedError

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
        hidden = self._hidden({k: v for k, v in feed.items() if k in self._inputs})
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)

    def count_tokens(self, texts: list[str]) -> list[int]:
        if not texts:
            return []
        return [len(e.ids) for e in self._counter.encode_batch(texts, add_special_tokens=False)]
