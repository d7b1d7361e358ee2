"""The index's data: papers, chunks and token vectors (what the bot makes of them, hits and
answers, is in bot/types.py).

These are paperbot's own types; third-party objects (Chroma results, numpy arrays) are
converted to them at the module that wraps the library.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class Paper:
    """One unique paper: the unit we cite."""

    id: str
    title: str
    abstract: str
    url: str = ""
    authors: str = ""
    date: str = ""
    sources: tuple[str, ...] = ()  # "file:line" of every place it was read from

    @property
    def text(self) -> str:
        """Title and abstract as one text: what BM25 reads, and the paper encoded whole."""
        return f"{self.title}. {self.abstract}" if self.title else self.abstract

    @property
    def display_title(self) -> str:
        return self.title or f"(untitled) {self.abstract[:70].rstrip()}…"

    def to_dict(self) -> dict[str, Any]:
        # Field by field: dataclasses.asdict deep-copies, 12 s of a 100k-paper ingest.
        return {
            "id": self.id, "title": self.title, "abstract": self.abstract, "url": self.url,
            "authors": self.authors, "date": self.date, "sources": list(self.sources),
        }  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Paper":
        return cls(**{**d, "sources": tuple(d.get("sources", ()))})


@dataclass(frozen=True)
class TokenVectors:
    """A text as the embedding model reads it: its word pieces ("##" marks a continuation) and
    one L2-normalised contextual vector each (tokens x dim, float32)."""

    tokens: tuple[str, ...]
    vectors: np.ndarray


@dataclass(frozen=True)
class Chunk:
    """A piece of one paper sized for the embedding model; the title travels with it."""

    id: str
    paper_id: str
    position: int
    text: str  # what gets embedded: title + a span of the abstract
