"""The one entry point every front end calls: question -> ``Answer``.

The default answerer is extractive: it quotes the sentence of each relevant abstract
that is closest to the question and cites it. It needs no LLM, so paperbot answers
fully offline; every sentence it writes is a quotation of the paper it cites."""

from __future__ import annotations

import time

import numpy as np

from bot.retrieval import check_query, search
from bot.settings import Settings
from bot.types import Answer, Citation, Hit
from index.loaded import LoadedIndex
from index.text import split_sentences

REFUSAL = "No evidence in the corpus: none of the indexed abstracts is close enough to answer this."


def is_answerable(hits: list[Hit], min_similarity: float) -> bool:
    """Evidence threshold on the absolute dense similarity: fused scores are relative to
    the query and say nothing about whether anything relevant was found."""
    return bool(hits) and max(h.dense for h in hits) >= min_similarity


def select_cited(hits: list[Hit], settings: Settings) -> list[Hit]:
    """Hits good enough to quote, in ranking order; the most similar one always qualifies."""
    a = settings.answer
    best = max(h.dense for h in hits)
    floor = min(best, max(a.cite_min_similarity, a.cite_relative * best))
    return [h for h in hits if h.dense >= floor][: a.max_citations]


def _best_sentences(index: LoadedIndex, question: str, cited: list[Hit]) -> list[str]:
    """For each cited paper, its sentence closest to the question (one model call for all)."""
    per_paper = [split_sentences(h.paper.abstract) or [h.paper.abstract] for h in cited]
    flat = [s for sents in per_paper for s in sents]
    vecs = index.embedder.embed([question, *flat])
    sims = vecs[1:] @ vecs[0]
    out, offset = [], 0
    for sents in per_paper:
        out.append(sents[int(np.argmax(sims[offset : offset + len(sents)]))])
        offset += len(sents)
    return out


def extractive_answer(question: str, hits: list[Hit], index: LoadedIndex, settings: Settings) -> Answer:
    if not is_answerable(hits, settings.retrieval.min_similarity):
        return Answer(question=question, text=REFUSAL, citations=(), hits=tuple(hits), refused=True)
    cited = select_cited(hits, settings)
    sentences = _best_sentences(index, question, cited)
    citations = tuple(
        Citation(n=n, paper=h.paper, evidence=s) for n, (h, s) in enumerate(zip(cited, sentences), start=1)
    )
    text = " ".join(f"{c.evidence} [{c.n}]" for c in citations)
    return Answer(question=question, text=text, citations=citations, hits=tuple(hits), refused=False)


def answer(question: str, settings: Settings, index: LoadedIndex) -> Answer:
    """Retrieve, then answer with citations (or refuse, listing the nearest papers)."""
    question = check_query(question)
    t0 = time.perf_counter()
    hits = search(index, question, settings.retrieval)
    t1 = time.perf_counter()
    result = extractive_answer(question, hits, index, settings)
    t2 = time.perf_counter()
    result.timings.update({"retrieve": t1 - t0, "answer": t2 - t1, "total": t2 - t0})
    return result
