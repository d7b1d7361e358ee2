"""Ingest: files -> papers -> chunks -> embeddings -> a new index generation.

All input is parsed and checked before anything is written, so bad input leaves the
existing index untouched. Embeddings come from the content-hash cache when the same text
was embedded before; only new or changed chunks reach the model."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.settings import Settings
from bot.types import Chunk, Paper
from index import layout
from index.cache import EmbeddingCache
from index.chunking import chunk_paper
from index.embed import Embedder, load_embedder
from index.lexical import LexicalIndex
from index.papers import merge_papers
from index.sources import expand_paths, read_papers
from index.store import ChunkStore


@dataclass(frozen=True)
class IngestReport:
    files: int
    records: int
    papers: int
    new_papers: int
    changed_papers: int
    chunks: int
    embedded: int  # chunks that went through the model (not from the cache)
    seconds: float
    generation: str
    unchanged: bool

    def summary(self) -> str:
        if self.unchanged:
            return (
                f"Nothing new: {self.records} records from {self.files} file(s) are already in the "
                f"index ({self.papers} papers). Nothing was embedded."
            )
        return (
            f"Indexed {self.papers} papers ({self.new_papers} new, {self.changed_papers} updated) "
            f"from {self.records} records in {self.files} file(s): {self.chunks} chunks, "
            f"{self.embedded} embedded now, {self.chunks - self.embedded} from cache, "
            f"{self.seconds:.1f}s ({self.generation})."
        )


def read_inputs(paths: list[Path]) -> tuple[list[Path], list[Paper]]:
    files = expand_paths(paths)
    records: list[Paper] = []
    for f in files:
        records.extend(read_papers(f))
    return files, records


def _fingerprint(settings: Settings) -> dict[str, object]:
    """Everything besides the papers that decides an index's contents."""
    s = settings.index
    return {
        "embedder": s.embedder,
        "model": s.model,
        "max_tokens": s.max_tokens,
        "chunk_tokens": s.chunk_tokens,
        "chunk_overlap_sentences": s.chunk_overlap_sentences,
        "bm25_stemmer": settings.retrieval.bm25_stemmer,
    }


def _embed_missing(
    chunks: list[Chunk],
    embedder: Embedder,
    cache: EmbeddingCache,
    batch_size: int,
    progress: bool,
) -> tuple[np.ndarray, int]:
    """Vectors for all chunks, in order; returns how many had to be computed."""
    from tqdm import tqdm

    texts = [c.text for c in chunks]
    found = cache.get_many(texts)
    missing = list(dict.fromkeys(t for t in texts if t not in found))
    with tqdm(
        total=len(missing), desc="Embedding", unit="chunk", disable=not progress or not missing
    ) as bar:
        # Commit to the cache batch by batch: an interrupted ingest resumes where it stopped.
        step = batch_size * 8
        for i in range(0, len(missing), step):
            part = missing[i : i + step]
            vecs = embedder.embed(part, batch_size=batch_size)
            cache.put_many(part, vecs)
            found.update(zip(part, vecs))
            bar.update(len(part))
    return np.stack([found[t] for t in texts]) if texts else np.zeros((0, embedder.dim)), len(missing)


def ingest(
    settings: Settings,
    paths: list[Path] | None = None,
    progress: bool = False,
    embedder: Embedder | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> IngestReport:
    """Add the papers in ``paths`` (default: the configured corpus) to the index."""
    start = time.perf_counter()
    files, records = read_inputs(paths or settings.index.corpus)
    index_dir = settings.index_dir

    with layout.ingest_lock(index_dir):
        layout.discard_incomplete(index_dir)
        current = layout.current_generation(index_dir)
        existing = current.papers() if current else []
        merged = merge_papers(existing, records)
        before = {p.id: p for p in existing}
        new = sum(1 for p in merged if p.id not in before)
        changed = sum(1 for p in merged if p.id in before and before[p.id] != p)
        same_settings = current is not None and current.manifest()["settings"] == _fingerprint(settings)
        if current is not None and same_settings and not new and not changed:
            # Same papers, same settings: skip loading the model at all.
            return IngestReport(
                len(files), len(records), len(merged), 0, 0,
                current.manifest()["chunks"], 0, time.perf_counter() - start, current.path.name, True,
            )  # fmt: skip

        embedder = embedder or load_embedder(settings.index)
        if current is not None and not same_settings:
            log("Settings or model changed since the last ingest: re-chunking every paper.")

        chunks: list[Chunk] = []
        for paper in merged:
            chunks.extend(
                chunk_paper(
                    paper,
                    embedder.count_tokens,
                    settings.index.chunk_tokens,
                    settings.index.chunk_overlap_sentences,
                )
            )
        cache = EmbeddingCache(settings.cache_path, embedder.name, embedder.dim)
        try:
            vectors, embedded = _embed_missing(
                chunks, embedder, cache, settings.index.batch_size, progress
            )
        finally:
            cache.close()

        gen = layout.new_generation(index_dir)
        # The vector store is rebuilt from cached vectors each time: simple and never
        # inconsistent with papers.jsonl; adding vectors is cheap next to embedding them.
        ChunkStore(gen.chroma_dir).add(chunks, vectors)
        LexicalIndex.build(
            [p.id for p in merged],
            [f"{p.title}. {p.abstract}" if p.title else p.abstract for p in merged],
            settings.retrieval.bm25_stemmer,
        ).save(gen.bm25_dir)
        gen.write_papers(merged)
        gen.seal(
            {
                "papers": len(merged),
                "chunks": len(chunks),
                "settings": _fingerprint(settings),
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            }
        )
        layout.publish(index_dir, gen)
    return IngestReport(
        len(files), len(records), len(merged), new, changed, len(chunks), embedded,
        time.perf_counter() - start, gen.path.name, False,
    )  # fmt: skip
