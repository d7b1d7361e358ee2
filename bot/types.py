"""What the bot makes of a question: the papers retrieved (``Hit``), the citations and the
``Answer`` every front end renders (terminal, JSON, Block Kit). The index's own types
(Paper, Chunk) are in index/types.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from index.types import Paper


@dataclass(frozen=True)
class Hit:
    """One paper retrieved for a query, with the evidence that got it there."""

    paper: Paper
    score: float  # fused score: only comparable within one query
    dense: float = 0.0  # best chunk cosine similarity (absolute scale, used for refusal)
    lexical: float = 0.0  # BM25 score of the paper
    best_chunk: str = ""

    def to_dict(self, rank: int) -> dict[str, Any]:
        return {
            "rank": rank,
            "paper_id": self.paper.id,
            "title": self.paper.title,
            "abstract": self.paper.abstract,
            "url": self.paper.url,
            **self.paper.details(),
            "score": round(self.score, 6),
            "dense": round(self.dense, 6),
            "lexical": round(self.lexical, 6),
        }


@dataclass(frozen=True)
class Citation:
    """Marker ``[n]`` in an answer, mapped to the paper and the sentence that supports it."""

    n: int
    paper: Paper
    evidence: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "paper_id": self.paper.id,
            "title": self.paper.title,
            "url": self.paper.url,
            **self.paper.details(),
            "abstract": self.paper.abstract,
            "evidence": self.evidence,
        }


# How sure paperbot is of an answer: "answer" (the abstracts state it), "tentative" (the closest
# evidence, quoted with a caveat: the abstracts do not state it directly) or "refused" (nothing
# close enough to quote; the nearest papers are listed).
Confidence = Literal["answer", "tentative", "refused"]
CONFIDENCES: tuple[Confidence, ...] = ("answer", "tentative", "refused")


@dataclass(frozen=True)
class Answer:
    """What every front end renders: text with ``[n]`` markers and the papers behind them."""

    question: str
    text: str
    citations: tuple[Citation, ...]
    hits: tuple[Hit, ...]
    refused: bool
    backend: str = "extractive"
    timings: dict[str, float] = field(default_factory=dict)
    notice: str = ""  # shown to the user, e.g. that the LLM failed and this is the fallback
    run_id: str = ""
    raw_output: str = ""  # what the LLM wrote before grounding ("" for extractive)
    removed_sentences: int = 0  # dropped by the grounding check
    kept_sentences: int = 0  # kept by the grounding check (0 for extractive answers: never checked)
    generation: str = ""  # the index generation the answer was read from
    # Said before a tentative answer (the closest evidence, not a statement of the answer): what
    # the abstracts do not state. An answer with a caveat is tentative.
    caveat: str = ""

    @property
    def confidence(self) -> Confidence:
        return "refused" if self.refused else "tentative" if self.caveat else "answer"

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.text,
            "refused": self.refused,
            "confidence": self.confidence,
            "caveat": self.caveat,
            "citations": [c.to_dict() for c in self.citations],
            "hits": [h.to_dict(i + 1) for i, h in enumerate(self.hits)],
            "backend": self.backend,
            "notice": self.notice,
            "run_id": self.run_id,
            "removed_sentences": self.removed_sentences,
            "kept_sentences": self.kept_sentences,
            "generation": self.generation,
            "timings_ms": {k: round(v * 1000, 1) for k, v in self.timings.items()},
        }
