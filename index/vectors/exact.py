"""The exact store (the default): each generation keeps its own chunk vectors, ``vectors.npy``
(float32, row for row with the chunk table), and readers memory-map it and score every chunk
by its cosine to the query. From ``prefilter_min_chunks`` chunks on, ingest also writes the
two-stage search's projection (prefilter.py) and queries scan that first. Nothing to prune:
the vectors live in the generation's folder and are deleted with it (layout.py, rule 5)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.layout import Generation
from index.types import Chunk
from index.vectors.base import ChunkTable, Neighbour, VectorsOf
from index.vectors.prefilter import Prefilter

VECTORS = "vectors.npy"


def save_vectors(folder: Path, vectors: np.ndarray) -> None:
    with (folder / VECTORS).open("wb") as f:
        np.save(f, np.ascontiguousarray(vectors, dtype=np.float32))


def stored_vectors(folder: Path) -> np.ndarray | None:
    """A generation's vectors, memory-mapped; None where its store keeps none on disk."""
    path = folder / VECTORS
    return np.load(path, mmap_mode="r") if path.is_file() else None


class ExactStore:
    name = "exact"

    def __init__(self, prefilter_min_chunks: int = 0) -> None:
        self.prefilter_min_chunks = prefilter_min_chunks  # 0: never

    def write(self, gen: Generation, chunks: list[Chunk], vectors_of: VectorsOf) -> dict[str, Any]:
        vectors = np.asarray(vectors_of(range(len(chunks))), dtype=np.float32).reshape(len(chunks), -1)
        save_vectors(gen.path, vectors)
        if self.prefilter_min_chunks and len(chunks) >= self.prefilter_min_chunks:
            Prefilter.fit(vectors).save(gen.path)
        return {}

    def prune(self, index_dir: Path) -> None:
        return None

    def open(self, gen: Generation, table: ChunkTable) -> "ExactVectors":
        return ExactVectors(table, np.load(gen.path / VECTORS, mmap_mode="r"), Prefilter.load(gen.path))


class ExactVectors:
    """Exact cosine over the memory-mapped matrix (or over the prefilter's candidates)."""

    def __init__(self, table: ChunkTable, matrix: np.ndarray, prefilter: Prefilter | None = None) -> None:
        self.table = table
        self.matrix = matrix
        self.prefilter = prefilter

    def nearest(self, query: np.ndarray, n: int) -> list[Neighbour]:
        query = np.asarray(query, dtype=np.float32)
        if not len(self.table.chunks):
            return []
        if self.prefilter is not None:
            rows, sims = self.prefilter.nearest(self.matrix, query, n)
        else:
            rows, sims = None, np.asarray(self.matrix @ query, dtype=np.float32)
        n = min(n, len(sims))
        top = np.argpartition(-sims, n - 1)[:n]
        return self.table.ranked([(int(rows[i]) if rows is not None else int(i), float(sims[i])) for i in top], n)

    def similarities(self, query: np.ndarray, paper_ids: Sequence[str]) -> list[np.ndarray]:
        query = np.asarray(query, dtype=np.float32)
        return self.table.per_paper(paper_ids, lambda rows: self.matrix[rows] @ query)

    def close(self) -> None:
        return None
