"""The extractive answer (no LLM): the strongest paper's best sentences, then one sentence of
each further paper that answers part of the question on its own; every sentence a quotation of
the paper it cites. And the refusal every backend gives when the evidence is too thin."""

from __future__ import annotations

from dataclasses import replace

from bot.answer.evidence import Evidence
from bot.query.several import asks_for_several, compounds, holds_compound
from bot.types import Answer, Citation, Hit
from index.settings import AnswerSettings, Settings
from index.vocabulary import paper_text

REFUSAL = "No evidence in the corpus: none of the indexed abstracts is close enough to answer this."
# Said before a tentative answer (bot/types.Answer.caveat), never inside its text: the quoted
# evidence is what the metrics read.
CAVEAT = "These abstracts do not state this directly; the closest evidence is:"


def select_cited(
    evidence: list[Evidence], s: AnswerSettings, several: bool = False, terms: tuple[str, ...] = ()
) -> list[Evidence]:
    """The papers to cite, the strongest first. The strongest (retrieval's first) always
    qualifies; another only when it answers part of the question on its own: its best sentence
    is nearly as close to the question (``cite_min_similarity``, ``cite_relative``) and it holds
    the question's content words (``cite_min_coverage``), not only its topic. When the question
    asks for ``several`` papers, a paper below that bound but within ``cite_relative_several``
    qualifies too if it also holds one of the question's hyphenated ``terms`` (several.compounds)
    that the strongest paper holds, where it holds any: "multiplication-free" is not "context-free" and "free"."""
    # The top-ranked paper leads (dev: +0.03 fact coverage and citation precision over leading
    # with the best-scored sentence's paper): retrieval's first is right far more often.
    lead = evidence[0]
    floor = max(s.cite_min_similarity, s.cite_relative * lead.similarity)
    loose = max(s.cite_min_similarity, min(s.cite_relative_several, s.cite_relative) * lead.similarity)
    required = [c for c in terms if holds_compound(paper_text(lead.hit.paper), c)] if several else []

    def cited(e: Evidence) -> bool:
        if e.coverage < s.cite_min_coverage:
            return False
        if e.similarity >= floor:
            return True
        text = paper_text(e.hit.paper)
        return several and e.similarity >= loose and (not required or any(holds_compound(text, c) for c in required))

    return [lead, *(e for e in evidence if e is not lead and cited(e))][: s.max_citations]


def extractive_answer(question: str, hits: list[Hit], evidence: list[Evidence], settings: Settings) -> Answer:
    """The strongest paper's best sentences (at most ``lead_sentences``, about ``max_words``),
    then one sentence of each further cited paper."""
    cited = select_cited(evidence, settings.answer, asks_for_several(question), compounds(question))
    citations = tuple(
        Citation(n=n, paper=e.hit.paper, evidence=e.sentence) for n, e in enumerate(cited, start=1)
    )
    quotes = [" ".join(e.quote) if i == 0 and e.quote else e.sentence for i, e in enumerate(cited)]
    text = " ".join(f"{q} [{c.n}]" for q, c in zip(quotes, citations))
    return Answer(question=question, text=text, citations=citations, hits=tuple(hits), refused=False)


def tentative(answer: Answer, caveat: str = CAVEAT) -> Answer:
    """``answer`` as the closest evidence, with a caveat: the abstracts do not state it directly."""
    return replace(answer, caveat=caveat)


def refusal(question: str, hits: list[Hit], **extra) -> Answer:
    return Answer(question=question, text=REFUSAL, citations=(), hits=tuple(hits), refused=True, **extra)
