"""The vector-store seam: where a generation's chunk vectors are kept, and how queries search them.

A backend is a ``VectorStore`` (registry.py names them; PAPERBOT_INDEX__VECTOR_STORE picks one):

- at ingest, under the ingest lock, ``write`` stores the vectors of a new generation before it
  is sealed, and returns what its manifest records of where they are; after the switch,
  ``prune`` drops whatever no generation on disk uses any more. Removing papers is a new
  generation without them: ``write`` stores only what a backend lacks, ``prune`` removes the rest.
- for queries, ``open`` gives a sealed generation's ``Vectors``, read-only (readers never write,
  layout.py rule 3): the nearest chunks to a query vector, and the cosine of a query to every
  chunk of given papers (learned fusion's features).

Every backend shares the generation's chunk table (``chunks.jsonl``: chunk ids, paper ids,
texts, written by ingest and small), so a store keeps vectors and what it needs to find them.
Vectors are unit length (cosine = dot product)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from index.jsonl import read_rows, write_rows
from index.layout import Generation
from index.types import Chunk

CHUNKS = "chunks.jsonl"

# The vectors of chunks by their rows in the generation's chunk list, in that order: a store
# asks only for what it lacks (a server already holds unchanged chunks).
VectorsOf = Callable[[Sequence[int]], np.ndarray]


def write_chunks(folder: Path, chunks: list[Chunk]) -> None:
    """The generation's chunk table, one row per chunk, in order."""
    write_rows(folder / CHUNKS, ({"id": c.id, "paper_id": c.paper_id, "text": c.text} for c in chunks))


def read_chunks(folder: Path) -> list[Chunk]:
    """The chunks ``write_chunks`` wrote (a chunk's position is its id's suffix)."""
    return [
        Chunk(c["id"], c["paper_id"], int(c["id"].rsplit(":", 1)[1]), c["text"]) for c in read_rows(folder / CHUNKS)
    ]


@dataclass(frozen=True)
class Neighbour:
    chunk: Chunk
    similarity: float  # cosine


class ChunkTable:
    """A generation's chunks in row order, and each paper's rows."""

    def __init__(self, chunks: list[Chunk]) -> None:
        self.chunks = chunks

    @classmethod
    def read(cls, folder: Path) -> "ChunkTable":
        return cls(read_chunks(folder))

    @cached_property
    def rows_by_paper(self) -> dict[str, list[int]]:
        rows: dict[str, list[int]] = {}
        for i, c in enumerate(self.chunks):
            rows.setdefault(c.paper_id, []).append(i)
        return rows

    def ranked(self, found: list[tuple[int, float]], n: int) -> list[Neighbour]:
        """The ``n`` best of (row, similarity) pairs, nearest first; ties by chunk id, so
        every process and every backend orders alike."""
        found = sorted(found, key=lambda rs: (-rs[1], self.chunks[rs[0]].id))[:n]
        return [Neighbour(self.chunks[row], sim) for row, sim in found]

    def per_paper(self, paper_ids: Sequence[str], similarities: Callable[[list[int]], np.ndarray]) -> list[np.ndarray]:
        """Each paper's chunk similarities in chunk order, from one call of ``similarities``
        (rows -> cosines) for all of them; an unknown paper has none."""
        wanted = [self.rows_by_paper.get(pid, []) for pid in paper_ids]
        flat = [r for rows in wanted for r in rows]
        sims = np.asarray(similarities(flat), dtype=np.float32) if flat else np.zeros(0, dtype=np.float32)
        out, start = [], 0
        for rows in wanted:
            out.append(sims[start : start + len(rows)])
            start += len(rows)
        return out


class Vectors(Protocol):
    """A sealed generation's chunk vectors, opened for queries (thread-safe, read-only)."""

    def nearest(self, query: np.ndarray, n: int) -> list[Neighbour]:
        """The ``n`` chunks nearest to ``query``, nearest first (ties by chunk id)."""
        ...

    def similarities(self, query: np.ndarray, paper_ids: Sequence[str]) -> list[np.ndarray]:
        """The cosine of ``query`` to every chunk of each paper, in chunk order."""
        ...

    def close(self) -> None: ...


class VectorStore(Protocol):
    """One way of keeping chunk vectors: written at ingest, opened by readers."""

    name: str

    def write(self, gen: Generation, chunks: list[Chunk], vectors_of: VectorsOf) -> dict[str, Any]:
        """Store the vectors of ``gen``'s ``chunks`` (asking ``vectors_of`` for the rows it
        lacks); returns the fields ``gen``'s manifest records about them."""
        ...

    def prune(self, index_dir: Path) -> None:
        """Drop stored vectors that no generation in ``index_dir`` uses."""
        ...

    def open(self, gen: Generation, table: ChunkTable) -> Vectors:
        """``gen``'s vectors for queries; ``table`` is its chunk table."""
        ...
