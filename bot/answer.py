"""The one entry point every front end calls: question -> ``Answer``.

The default answerer is extractive: it quotes the sentence of each relevant abstract
that is closest to the question and cites it. It needs no LLM, so paperbot answers
fully offline; every sentence it writes is a quotation of the paper it cites."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from bot.retrieval import check_query, search
from bot.settings import AnswerSettings, Settings
from bot.types import Answer, Citation, Hit
from index.loaded import LoadedIndex
from index.text import split_sentences

REFUSAL = "No evidence in the corpus: none of the indexed abstracts is close enough to answer this."

# Sentences that state what a paper does, rather than the field's background.
_CONTRIBUTION = re.compile(
    r"\b(we|our|this (paper|work|study))\b.{0,40}\b(propose|introduce|present|show|find|develop|"
    r"achiev|demonstrat|design|reveal|outperform)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Evidence:
    """A retrieved paper with its sentence that best answers the question."""

    hit: Hit
    sentence: str  # quoted in the answer
    similarity: float  # best cosine between the question and a sentence or the title


def gather_evidence(index: LoadedIndex, question: str, hits: list[Hit], s: AnswerSettings) -> list[Evidence]:
    """Sentence-level similarity for every hit, in one model call.

    A short question matches one sentence far better than a 256-token chunk, so this,
    not the chunk similarity, is what the evidence threshold is set on."""
    per_paper = [split_sentences(h.paper.abstract) or [h.paper.abstract] for h in hits]
    texts = [question]
    for h, sents in zip(hits, per_paper):
        texts.extend(sents + ([h.paper.title] if h.paper.title else []))
    vecs = index.embedder.embed(texts)
    sims = vecs[1:] @ vecs[0]
    out, offset = [], 0
    for h, sents in zip(hits, per_paper):
        n = len(sents) + (1 if h.paper.title else 0)
        paper_sims = sims[offset : offset + n]
        offset += n
        quoted = max(
            range(len(sents)),
            key=lambda i: paper_sims[i] + (s.contribution_bonus if _CONTRIBUTION.search(sents[i]) else 0.0),
        )
        out.append(Evidence(hit=h, sentence=sents[quoted], similarity=float(paper_sims.max())))
    return out


def select_cited(evidence: list[Evidence], s: AnswerSettings) -> list[Evidence]:
    """Evidence good enough to quote, in ranking order; the strongest always qualifies."""
    best = max(e.similarity for e in evidence)
    floor = min(best, max(s.cite_min_similarity, s.cite_relative * best))
    return [e for e in evidence if e.similarity >= floor][: s.max_citations]


def extractive_answer(question: str, hits: list[Hit], index: LoadedIndex, settings: Settings) -> Answer:
    evidence = gather_evidence(index, question, hits, settings.answer) if hits else []
    if not evidence or max(e.similarity for e in evidence) < settings.retrieval.min_similarity:
        return Answer(question=question, text=REFUSAL, citations=(), hits=tuple(hits), refused=True)
    citations = tuple(
        Citation(n=n, paper=e.hit.paper, evidence=e.sentence)
        for n, e in enumerate(select_cited(evidence, settings.answer), start=1)
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
