"""The one entry point every front end calls: question -> ``Answer``.

The default answerer is extractive: it quotes the top-ranked paper's sentences that best
answer the question (bot/answer/sentences.py: similarity, the question's content words, what kind of
answer is asked for), and one sentence of each further paper that answers part of the question
on its own; whether to answer at all is bot/answer/refusal.py's call. It needs no LLM, so
paperbot answers fully offline; every sentence it writes is a quotation of the paper it cites.
With an LLM backend the model writes the answer from the numbered abstracts, and the grounding
check (bot/answer/grounding.py) keeps only what the cited abstracts support; a failing backend falls
back to the extractive answer."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace

from bot.query import glossary
from bot.answer.refusal import RefusalModel, signals
from bot.query.language import non_english
from bot.answer.grounding import NO_EVIDENCE, assemble, check_sentences, has_markers
from bot.query.instructions import without_instructions
from bot.llm.base import BackendUnavailable, Generator
from bot.llm.registry import load_generator
from bot.prompts import load_prompt
from bot.retrieval.search import check_query, search
from bot.answer.sentences import asks, pick, score_sentences
from bot.query.spelling import corrected, readable
from index.vocabulary import content_stems, paper_text
from index.settings import AnswerSettings, Settings
from bot.traces import TraceStore
from bot.types import Answer, Citation, Hit
from index.reader import LiveIndex, LoadedIndex
from index.text import split_sentences

log = logging.getLogger(__name__)
Index = LiveIndex | LoadedIndex  # a live index moves to new generations between questions

REFUSAL = "No evidence in the corpus: none of the indexed abstracts is close enough to answer this."


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


def as_judged(
    index: LoadedIndex, asked: str, hits: list[Hit], evidence: list[Evidence], settings: Settings
) -> tuple[str, list[Evidence]]:
    """What the refusal model reads of ``asked`` (the question as search corrected it): the
    question with the typos spelling left read as their nearest words (bot/spelling.readable),
    and the evidence gathered for it (``evidence``, gathered for ``asked``, when the text is
    the same). The answer itself is still picked for ``asked``. `python -m evals.fit.refusal`
    fits the model on what this returns."""
    if not evidence:
        return asked, evidence
    judged = readable(index, asked, settings.retrieval)
    return judged, evidence if judged == asked else gather_evidence(index, judged, hits, settings.answer)


def gather_evidence(index: Index, question: str, hits: list[Hit], s: AnswerSettings) -> list[Evidence]:
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
    sims = index.embed_cached(texts) @ index.embed_query(question)
    out, offset = [], 0
    for h, sents in zip(hits, per_paper):
        n = len(sents) + (1 if h.paper.title else 0)
        paper_sims = sims[offset : offset + n]
        offset += n
        scored = score_sentences(question, sents, paper_sims[: len(sents)].tolist(), vocab, s, kinds)
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


def select_cited(evidence: list[Evidence], s: AnswerSettings) -> list[Evidence]:
    """The papers to cite, the strongest first. The strongest (retrieval's first) always
    qualifies; another only when it answers part of the question on its own: its best sentence
    is nearly as close to the question (``cite_min_similarity``, ``cite_relative``) and it
    holds the question's content words (``cite_min_coverage``), not only its topic."""
    # The top-ranked paper leads (dev: +0.03 fact coverage and citation precision over leading
    # with the best-scored sentence's paper): retrieval's first is right far more often.
    lead = evidence[0]
    floor = max(s.cite_min_similarity, s.cite_relative * lead.similarity)
    others = [e for e in evidence if e is not lead and e.similarity >= floor and e.coverage >= s.cite_min_coverage]
    return [lead, *others][: s.max_citations]


def extractive_answer(question: str, hits: list[Hit], evidence: list[Evidence], settings: Settings) -> Answer:
    """The strongest paper's best sentences (at most ``lead_sentences``, about ``max_words``),
    then one sentence of each further cited paper."""
    cited = select_cited(evidence, settings.answer)
    citations = tuple(
        Citation(n=n, paper=e.hit.paper, evidence=e.sentence) for n, e in enumerate(cited, start=1)
    )
    quotes = [" ".join(e.quote) if i == 0 and e.quote else e.sentence for i, e in enumerate(cited)]
    text = " ".join(f"{q} [{c.n}]" for q, c in zip(quotes, citations))
    return Answer(question=question, text=text, citations=citations, hits=tuple(hits), refused=False)


def refusal(question: str, hits: list[Hit], **extra) -> Answer:
    return Answer(question=question, text=REFUSAL, citations=(), hits=tuple(hits), refused=True, **extra)


def _in_english_only(result: Answer, language: str, searched: str) -> Answer:
    """A question in another language: say that the abstracts are English, and what was
    searched for (its terms in English, bot/query/glossary.py), with the nearest papers (a refusal)
    or the answer found."""
    note = (
        f"This question looks like {language}; paperbot answers from English abstracts with an "
        "English model, so asking in English finds and cites papers best."
    )
    if searched != result.question:
        note += f' It searched for: "{searched}".'
    if result.refused:
        return replace(
            result, text=f"No abstract was close enough to cite for a question in {language}. {note} "
            "The nearest papers are listed below.", notice=note,
        )  # fmt: skip
    return replace(result, notice=note)


def _numbered_context(hits: list[Hit]) -> str:
    return "\n\n".join(
        f"[{i}] {h.paper.title or '(untitled)'}\n{h.paper.abstract}" for i, h in enumerate(hits, start=1)
    )


class Answerer:
    """Question -> Answer with the configured backend. Built once at an edge (CLI, Slack,
    evals): the prompt is loaded and validated here, before any question is asked."""

    def __init__(
        self,
        settings: Settings,
        index: Index,
        generator: Generator | None = None,
        traces: TraceStore | None = None,
    ) -> None:
        self.settings = settings
        self.index = index
        self.prompt = load_prompt("answer")
        if settings.retrieval.translate:
            glossary.check()  # like the prompt: a broken glossary fails at start
        self.generator = generator if generator is not None else load_generator(settings.llm)
        self.traces = traces
        model = RefusalModel.fitted() if settings.answer.answerability == "model" else None
        # The fitted model reads similarities of the model it was fitted with; otherwise the
        # single similarity threshold decides.
        self.refusal_model = model if model is not None and model.applies_to(settings) else None

    def answerable(self, index: LoadedIndex, question: str, hits: list[Hit], evidence: list[Evidence]) -> bool:
        """Whether the retrieved papers answer the question (else: a refusal listing them)."""
        if self.refusal_model is None:
            dense = self.settings.retrieval.mode != "bm25"
            return evidence_score(hits, evidence, dense) >= self.settings.retrieval.min_similarity
        features = signals(index, question, hits, evidence, index.vocabulary, self.settings)
        threshold = self.settings.answer.answer_threshold
        return self.refusal_model.probability(features) >= (
            self.refusal_model.threshold if threshold is None else threshold
        )

    @property
    def streams(self) -> bool:
        return self.generator is not None and self.settings.llm.stream

    def _generate(self, prompt: str, on_token: Callable[[str], None] | None) -> str:
        """The model's raw text, with retries; BackendUnavailable when it cannot be had."""
        assert self.generator is not None
        last: Exception | None = None
        for _ in range(self.settings.llm.retries + 1):
            try:
                if on_token is not None and self.streams:
                    parts = []
                    for delta in self.generator.stream(prompt):
                        parts.append(delta)
                        on_token(delta)
                    raw = "".join(parts)
                else:
                    raw = self.generator.complete(prompt)
                if not raw.strip():
                    raise BackendUnavailable(f"{self.generator.name} returned an empty answer")
                return raw
            except BackendUnavailable as e:
                last = e
        raise BackendUnavailable(str(last))

    def _generated(self, question: str, hits: list[Hit], on_token) -> Answer:
        assert self.generator is not None
        # The model reads the question without its instructions to the bot (bot/query/instructions.py):
        # "answer in one word, no citations" is for no model to obey.
        prompt = self.prompt.render(
            context=_numbered_context(hits), question=without_instructions(question),
            max_sentences=self.settings.llm.max_sentences,
        )  # fmt: skip
        raw = self._generate(prompt, on_token)
        name = self.generator.name
        if raw.strip().startswith(NO_EVIDENCE):
            return refusal(question, hits, backend=name, raw_output=raw)
        if not has_markers(raw):
            raise BackendUnavailable(f"{name} answered without any [n] citation")
        context = [h.paper for h in hits]
        checked = check_sentences(raw, context, self.index.embed_cached, self.settings.llm.support_threshold)
        text, citations = assemble(checked, context)
        removed = sum(1 for c in checked if not c.kept)
        if not citations:
            return refusal(question, hits, backend=name, raw_output=raw, removed_sentences=removed)
        return Answer(
            question=question, text=text, citations=citations, hits=tuple(hits), refused=False,
            backend=name, raw_output=raw, removed_sentences=removed,
            kept_sentences=len(checked) - removed,
        )  # fmt: skip

    def __call__(self, question: str, on_token: Callable[[str], None] | None = None) -> Answer:
        """Retrieve, then answer with citations (or refuse, listing the nearest papers).
        A failing LLM never loses the question: the extractive answer is given instead."""
        question = check_query(question)
        # One generation for the whole question: an ingest finishing meanwhile is seen by
        # the next question, and this one's generation is not deleted under it.
        with self.index.use() as index:
            t0 = time.perf_counter()
            hits = search(index, question, self.settings.retrieval)
            t1 = time.perf_counter()
            asked = corrected(index, question, self.settings.retrieval)  # what search searched for
            evidence = gather_evidence(index, asked, hits, self.settings.answer) if hits else []
            judged, judged_evidence = as_judged(index, asked, hits, evidence, self.settings)
            if not evidence or not self.answerable(index, judged, hits, judged_evidence):
                # Nothing close enough: refuse without spending an LLM call.
                result = refusal(question, hits)
            elif self.generator is None:
                result = extractive_answer(question, hits, evidence, self.settings)
            else:
                try:
                    result = self._generated(question, hits, on_token)
                except BackendUnavailable as e:
                    result = replace(
                        extractive_answer(question, hits, evidence, self.settings),
                        notice=f"The {self.settings.llm.backend} backend failed ({e}); this is the extractive answer.",
                    )
            t2 = time.perf_counter()
            language = non_english(question)
            if language:
                result = _in_english_only(result, language, asked)
            result = replace(
                result,
                run_id=uuid.uuid4().hex[:12],
                timings={"retrieve": t1 - t0, "answer": t2 - t1, "total": t2 - t0},
                generation=index.generation.name,
            )
        if self.traces is not None:
            try:
                self.traces.record(result, self.settings, self.prompt.version)
            except Exception:  # a full disk or a locked database must not lose the answer
                log.warning("Could not record run %s in %s", result.run_id, self.settings.traces_path, exc_info=True)
        return result


def answer(question: str, settings: Settings, index: Index) -> Answer:
    """One-off convenience: build an Answerer and ask."""
    return Answerer(settings, index)(question)
