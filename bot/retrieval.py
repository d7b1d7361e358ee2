"""Hybrid retrieval: dense (chunks in Chroma, best chunk per paper) and BM25 (whole
papers), fused into one ranking of papers — each paper once, with its best evidence."""

from __future__ import annotations

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


def check_query(text: str) -> str:
    text = " ".join(text.split())
    if not text:
        raise BadInput("The question is empty; type a question, e.g. paperbot ask \"what is LoRA?\"")
    return text


def search(index: LiveIndex | LoadedIndex, query: str, s: RetrievalSettings, k: int | None = None) -> list[Hit]:
    """The ``k`` best papers for ``query`` (default ``top_k``), all from one generation."""
    query = check_query(query)
    with index.use() as idx:
        return _search(idx, query, s, k)


def _search(index: LoadedIndex, query: str, s: RetrievalSettings, k: int | None) -> list[Hit]:
    k = k or s.top_k
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
