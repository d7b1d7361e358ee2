"""The evidence for an answer: each retrieved paper's sentences scored for the question
(bot/answer/sentences.py), its best sentence, and how much of the question it covers; and the
single-similarity refusal signal."""

from __future__ import annotations

from dataclasses import dataclass

from bot.answer.sentences import asks, pick, score_sentences
from bot.query.focus import asking_part
from bot.query.query import Query
from bot.types import Hit
from index.reader import LiveIndex, LoadedIndex
from index.settings import AnswerSettings
from index.text import split_sentences
from index.vocabulary import content_stems, paper_text


@dataclass(frozen=True)
class Evidence:
    """A retrieved paper with its sentences that best answer the question."""

    hit: Hit
    sentence: str  # its best sentence (the citation's evidence)
    similarity: float  # best cosine between the question and a sentence or the title
    quote: tuple[str, ...] = ()  # what the answer quotes when this is the strongest paper
    coverage: float = 0.0  # idf-weighted share of the question's content words in title + abstract
    score: float = 0.0  # the best sentence's score (bot/answer/sentences.py)
    overlap: float = 0.0  # the largest share of the question's content words in one sentence or the title


def gather_evidence(index: LiveIndex | LoadedIndex, question: str, hits: list[Hit], s: AnswerSettings) -> list[Evidence]:
    """Every hit's sentences scored for the question (sentences embedded once per process).

    A short question matches one sentence far better than a 256-token chunk; the score adds
    to that similarity the question's content words and the kind of answer asked for."""
    with index.use() as idx:
        vocab = idx.vocabulary
    kinds = asks(question)
    stems = content_stems(question)
    per_paper = [split_sentences(h.paper.abstract) or [h.paper.abstract] for h in hits]
    texts = []
    for h, sents in zip(hits, per_paper):
        texts.extend(sents + ([h.paper.title] if h.paper.title else []))
    vectors = index.embed_cached(texts)
    sims = vectors @ index.embed_query(question)
    # Sentences are chosen by their closeness to what the question asks (bot/query/focus.py):
    # dev fact coverage in the first 80 words 0.728 -> 0.745 (392 answerable questions, all
    # answered), 0.650 -> 0.721 on the dev set written as held-out sets are (u). The paper's
    # closeness (``similarity``: citations, refusal) stays the whole question's.
    asking = asking_part(question)
    chooses = vectors @ index.embed_query(asking) if asking else sims
    out, offset = [], 0
    for h, sents in zip(hits, per_paper):
        n = len(sents) + (1 if h.paper.title else 0)
        paper_sims = sims[offset : offset + n]
        scored = score_sentences(question, sents, chooses[offset : offset + len(sents)].tolist(), vocab, s, kinds)
        offset += n
        out.append(
            Evidence(
                hit=h,
                sentence=scored[0].text,
                similarity=float(paper_sims.max()),
                quote=tuple(x.text for x in pick(scored, s, s.lead_sentences)),
                coverage=vocab.coverage(stems, set(content_stems(paper_text(h.paper)))),
                score=scored[0].score,
                overlap=max(
                    max(x.overlap for x in scored),
                    vocab.coverage(stems, set(content_stems(h.paper.title))) if h.paper.title else 0.0,
                ),
            )
        )
    return out


def evidence_score(hits: list[Hit], evidence: list[Evidence], dense: bool = True) -> float:
    """The single-similarity refusal signal (answerability 'similarity'): the mean of the best
    chunk similarity and the best sentence/title similarity; chunks favour long questions,
    sentences short ones. Without the dense retriever (``dense`` False: BM25-only) there are
    no chunk similarities, and the sentence similarity stands alone."""
    sentence = max(e.similarity for e in evidence)
    return (max(h.dense for h in hits) + sentence) / 2 if dense else sentence


def judged_evidence(index: LoadedIndex, query: Query, hits: list[Hit], evidence: list[Evidence], s: AnswerSettings) -> list[Evidence]:
    """The evidence the refusal model reads: gathered for ``query.judged`` (the question with
    the typos spelling left read as their nearest words), which is ``evidence`` (gathered for
    ``query.answered``) when the two texts are the same. The answer itself is still picked
    from ``evidence``. `python -m evals.fit.refusal` fits the model on what this returns."""
    if not evidence or query.judged == query.answered:
        return evidence
    return gather_evidence(index, query.judged, hits, s)


