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
    date: str = ""  # first published (an arXiv paper's first version), YYYY-MM-DD where known
    sources: tuple[str, ...] = ()  # "file:line" of every place it was read from
    categories: tuple[str, ...] = ()  # arXiv categories, primary first
    updated: str = ""  # last update (an arXiv paper's latest version), when later than ``date``

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
            "categories": list(self.categories), "updated": self.updated,
        }  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Paper":
        # Generations written before categories existed read with none.
        return cls(**{**d, "sources": tuple(d.get("sources", ())), "categories": tuple(d.get("categories", ()))})

    def details(self) -> dict[str, Any]:
        """What is known about the paper besides its text, as search --json and citations show it."""
        return {
            "authors": self.authors, "categories": list(self.categories), "date": self.date,
            "updated": self.updated,
        }  # fmt: skip

    @property
    def byline(self) -> str:
        """One short line: first authors, primary category, dates ("" when none is known)."""
        names = [a.strip() for a in self.authors.split(",") if a.strip()]
        who = ", ".join(names[:3]) + (" et al." if len(names) > 3 else "")
        when = self.date + (f", updated {self.updated}" if self.updated and self.updated != self.date else "")
        return " · ".join(part for part in (who, " ".join(self.categories[:3]), when) if part)


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
