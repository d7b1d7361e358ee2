"""Hybrid retrieval: dense (chunks in Chroma, best chunk per paper) and BM25 (whole
papers), fused into one ranking of papers — each paper once, with its best evidence."""

from __future__ import annotations

import re

from bot.spelling import corrected
from index.errors import BadInput
from index.settings import RetrievalSettings
from index.types import Hit
from index.loaded import DenseEvidence, LiveIndex, LoadedIndex

# Chunks fetched per paper wanted: abstracts have ~1-3 chunks, so this reaches
# ``candidates`` distinct papers in nearly every query.
CHUNKS_PER_PAPER = 3


def _minmax(scores: dict[str, float]) -> dict[str, float]:
    if not scores:
        return {}
    lo, hi = min(scores.values()), max(scores.values())
    span = hi - lo
    return {k: (v - lo) / span if span > 0 else 1.0 for k, v in scores.items()}


def fuse(dense: dict[str, float], lexical: dict[str, float], s: RetrievalSettings) -> list[tuple[str, float]]:
    """Papers ranked by fused score, best first. Pure, so fusion can be tuned offline."""
    if s.mode == "dense":
        fused = dict(dense)
    elif s.mode == "bm25":
        fused = dict(lexical)
    elif s.fusion == "rrf":
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


def _search(index: LoadedIndex, query: str, s: RetrievalSettings, k: int | None) -> list[Hit]:
    k = k or s.top_k
    query = corrected(index, query, s)  # misspelt words as the corpus spells them
    want = max(s.candidates, k)
    dense: dict[str, DenseEvidence] = {}
    if s.mode != "bm25":
        dense = index.dense(index.embed_query(query), want * CHUNKS_PER_PAPER)
    lexical = index.bm25(query, want) if s.mode != "dense" else {}
    dense_scores = {pid: e.similarity for pid, e in dense.items()}
    floor = min(dense_scores.values(), default=0.0)
    hits = []
    for pid, score in fuse(dense_scores, lexical, s)[:k]:
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
