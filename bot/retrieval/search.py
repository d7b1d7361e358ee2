"""Hybrid retrieval: dense (chunks in Chroma, best chunk per paper) and BM25 (whole
papers), fused into one ranking of papers — each paper once, with its best evidence."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from bot.retrieval.learned_fusion import FusionModel, features, rank
from bot.query.language import non_english
from bot.query.spelling import corrected
from index.errors import BadInput
from index.settings import RetrievalSettings
from bot.types import Hit
from index.lexical import LexicalMatch
from index.reader import DenseEvidence, LiveIndex, LoadedIndex

# Chunks fetched per paper wanted: abstracts have ~1-3 chunks, so this reaches
# ``candidates`` distinct papers in nearly every query.
CHUNKS_PER_PAPER = 3


def _minmax(scores: dict[str, float]) -> dict[str, float]:
    if not scores:
        return {}
    lo, hi = min(scores.values()), max(scores.values())
    span = hi - lo
    return {k: (v - lo) / span if span > 0 else 1.0 for k, v in scores.items()}


def learned_fusion(index: LoadedIndex, s: RetrievalSettings) -> FusionModel | None:
    """The fitted fusion model when the settings ask for it and it fits the index's embedding
    model; otherwise None (weighted fusion)."""
    if s.mode != "hybrid" or s.fusion != "learned":
        return None
    model = FusionModel.fitted()
    return model if model is not None and model.applies_to(index.settings) else None


def fuse(dense: dict[str, float], lexical: dict[str, float], s: RetrievalSettings) -> list[tuple[str, float]]:
    """Papers ranked by fused score, best first. Pure, so fusion can be tuned offline."""
    if s.mode == "dense":
        fused = dict(dense)
    elif s.mode == "bm25":
        fused = dict(lexical)
    elif s.fusion == "rrf":  # ("learned" without a fitted model is weighted: see learned_fusion)
        fused = {}
        for weight, scores in ((s.dense_weight, dense), (1 - s.dense_weight, lexical)):
            ranked = sorted(scores, key=scores.__getitem__, reverse=True)
            for rank, pid in enumerate(ranked, start=1):
                fused[pid] = fused.get(pid, 0.0) + 2 * weight / (s.rrf_k + rank)
    else:
        # Convex combination of per-query min-max normalised scores; a paper missing from
        # one list gets that list's floor (0 after normalisation).
        dn, ln = _minmax(dense), _minmax(lexical)
        fused = {
            pid: s.dense_weight * dn.get(pid, 0.0) + (1 - s.dense_weight) * ln.get(pid, 0.0)
            for pid in dn.keys() | ln.keys()
        }
    return sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))


MAX_QUERY_CHARS = 4_000  # room for a Slack follow-up made standalone from its thread
# ANSI escape sequences, control characters and invisible marks (zero-width space, bidi
# overrides, BOM) come from terminals and pastes, never from the question; echoed back they
# would restyle the user's terminal.
_CONTROL = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|[\x00-\x08\x0e-\x1f\x7f-\x9f\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]"
)


def check_query(text: str) -> str:
    # A lone surrogate (a broken emoji from a paste, a non-UTF-8 byte in argv) can be
    # neither printed nor stored: it becomes "?".
    text = text.encode("utf-8", "replace").decode("utf-8")
    text = " ".join(_CONTROL.sub(" ", text).split())
    if not text:
        raise BadInput("The question is empty; type a question, e.g. paperbot ask \"what is LoRA?\"")
    if len(text) > MAX_QUERY_CHARS:
        raise BadInput(
            f"The question is {len(text):,} characters long; ask it in at most {MAX_QUERY_CHARS:,} "
            "(the question itself, not the text it is about)."
        )
    return text


def search(index: LiveIndex | LoadedIndex, query: str, s: RetrievalSettings, k: int | None = None) -> list[Hit]:
    """The ``k`` best papers for ``query`` (default ``top_k``), all from one generation."""
    query = check_query(query)
    with index.use() as idx:
        return _search(idx, query, s, k)


@dataclass(frozen=True)
class Retrieved:
    """Both retrievers' candidates for one query, before fusion."""

    query_vector: np.ndarray | None  # None in bm25 mode
    dense: dict[str, DenseEvidence]  # best chunk per paper among the nearest chunks
    match: LexicalMatch | None  # None in dense mode
    lexical: dict[str, float]  # BM25's top papers

    @property
    def dense_scores(self) -> dict[str, float]:
        return {pid: e.similarity for pid, e in self.dense.items()}


def retrieve(index: LoadedIndex, query: str, s: RetrievalSettings, want: int) -> Retrieved:
    """``want`` papers from each retriever the mode uses (``query`` already corrected).
    One after the other: scoring BM25 in a thread while the query is embedded was no faster
    on 2 cores (onnxruntime's threads want both)."""
    vector, dense = None, {}
    if s.mode != "bm25":
        vector = index.embed_query(query)
        dense = index.dense(vector, want * CHUNKS_PER_PAPER)
    match = index.lexical.match(query) if s.mode != "dense" else None
    lexical = index.bm25_top(match, want) if match is not None else {}
    return Retrieved(vector, dense, match, lexical)


def _search(index: LoadedIndex, query: str, s: RetrievalSettings, k: int | None) -> list[Hit]:
    k = k or s.top_k
    asked, query = query, corrected(index, query, s)  # misspelt words as the corpus spells them
    if query != asked and non_english(asked):  # its English terms, not a sentence
        s = s.model_copy(update={"dense_weight": s.translated_dense_weight})
    c = retrieve(index, query, s, max(s.candidates, k))
    dense, lexical = c.dense, c.lexical
    dense_scores = c.dense_scores
    floor = min(dense_scores.values(), default=0.0)
    model = learned_fusion(index, s)
    if model is not None and c.match is not None and c.query_vector is not None:
        candidates, f = features(index, c.query_vector, c.match, dense_scores, lexical)
        ranked = rank(candidates, model.score(f))
    else:
        ranked = fuse(dense_scores, lexical, s)
    hits = []
    for pid, score in ranked[:k]:
        evidence = dense.get(pid)
        hits.append(
            Hit(
                paper=index.papers[pid],
                score=score,
                # A paper outside the dense top list is at most as similar as the last one in it.
                dense=evidence.similarity if evidence else floor,
                lexical=lexical.get(pid, 0.0),
                best_chunk=evidence.chunk if evidence else "",
            )
        )
    return hits
