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
from dataclasses import replace

from bot.answer.evidence import Evidence, evidence_score, gather_evidence, judged_evidence
from bot.answer.extractive import extractive_answer, refusal, tentative
from bot.answer.grounding import assemble, check_sentences, has_markers
from bot.answer.readings import readings
from bot.answer.refusal import RefusalModel, signals
from bot.llm.base import BackendUnavailable, Generator
from bot.llm.registry import load_generator
from bot.prompts import NO_EVIDENCE, NOT_STATED, load_prompt
from bot.prompts import verdict as model_verdict
from bot.query import glossary
from bot.query.query import Query, understand
from bot.retrieval.search import search
from bot.traces import TraceStore
from bot.types import Answer, Confidence, Hit
from index.reader import LiveIndex, LoadedIndex
from index.settings import Settings

log = logging.getLogger(__name__)
Index = LiveIndex | LoadedIndex  # a live index moves to new generations between questions

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

    def verdict(self, index: LoadedIndex, query: Query, hits: list[Hit], evidence: list[Evidence]) -> Confidence:
        """How far the retrieved papers answer the question: "answer", "tentative" (the
        uncertain band: the closest evidence with a caveat, or an LLM's judgement) or "refused"
        (clearly outside the corpus: the nearest papers are listed, no LLM is asked).
        ``evidence`` is what the refusal model reads (bot/answer/evidence.judged_evidence)."""
        if self.refusal_model is None:
            dense = self.settings.retrieval.mode != "bm25"
            score = evidence_score(hits, evidence, dense)
            return "answer" if score >= self.settings.retrieval.min_similarity else "refused"
        answer_at, tentative_at = self.thresholds
        # As answerable as its best-supported reading (bot/answer/readings.py): the next one is
        # read only while none has reached an answer.
        p = 0.0
        for reading in readings(index, query, hits, evidence, self.settings.answer):
            p = max(p, self.answerable(index, reading.text, reading.hits, reading.evidence))
            if p >= answer_at:
                break
        return "answer" if p >= answer_at else "tentative" if p >= tentative_at else "refused"

    def answerable(self, index: LoadedIndex, text: str, hits: list[Hit], evidence: list[Evidence]) -> float:
        """The refusal model's p(answerable) for ``text`` read against ``hits`` and ``evidence``."""
        assert self.refusal_model is not None
        features = signals(index, text, hits, evidence, index.vocabulary, self.settings, only=self.refusal_model.used)
        return self.refusal_model.probability(features)

    @property
    def thresholds(self) -> tuple[float, float]:
        """(answer when p(answerable) reaches the first, tentatively from the second): the
        settings', else the fitted model's; no fitted band is a plain yes/no gate."""
        assert self.refusal_model is not None
        s, model = self.settings.answer, self.refusal_model
        answer_at = model.threshold if s.answer_threshold is None else s.answer_threshold
        tentative_at = s.tentative_threshold if s.tentative_threshold is not None else model.tentative_threshold
        return answer_at, answer_at if tentative_at is None else min(tentative_at, answer_at)

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

    def _generated(
        self, query: Query, hits: list[Hit], evidence: list[Evidence], on_token, band: Confidence = "answer"
    ) -> Answer:
        """The LLM's answer, grounded; its verdict that the abstracts do not answer becomes a
        refusal (NO_EVIDENCE: nothing in them bears on it) or a tentative answer (NOT_STATED:
        what the closest abstracts do say, with the caveat; the extractive closest evidence when
        none of what it wrote survives the grounding check). In the uncertain ``band`` an answer of
        which no sentence survives the check is the tentative extractive answer, as without an LLM."""
        assert self.generator is not None
        question = query.asked
        # The model reads the question without its instructions to the bot (bot/query/instructions.py):
        # "answer in one word, no citations" is for no model to obey.
        prompt = self.prompt.render(
            context=_numbered_context(hits), question=query.question,
            max_sentences=self.settings.llm.max_sentences,
        )  # fmt: skip
        raw = self._generate(prompt, on_token)
        name = self.generator.name
        said, body = model_verdict(raw)
        if said == NO_EVIDENCE:
            return refusal(question, hits, backend=name, raw_output=raw)
        not_stated = said == NOT_STATED

        def closest(removed: int = 0) -> Answer:
            """The extractive closest evidence, tentatively: nothing the model wrote stands."""
            extractive = extractive_answer(question, hits, evidence, self.settings)
            return tentative(replace(extractive, backend=name, raw_output=raw, removed_sentences=removed))

        if not has_markers(body):
            if not_stated:
                return closest()
            raise BackendUnavailable(f"{name} answered without any [n] citation")
        context = [h.paper for h in hits]
        checked = check_sentences(body, context, self.index.embed_cached, self.settings.llm.support_threshold)
        text, citations = assemble(checked, context)
        removed = sum(1 for c in checked if not c.kept)
        if not citations:
            if not_stated or band == "tentative":
                return closest(removed)
            return refusal(question, hits, backend=name, raw_output=raw, removed_sentences=removed)
        result = Answer(
            question=question, text=text, citations=citations, hits=tuple(hits), refused=False,
            backend=name, raw_output=raw, removed_sentences=removed,
            kept_sentences=len(checked) - removed,
        )  # fmt: skip
        return tentative(result) if not_stated else result

    def __call__(self, question: str | Query, on_token: Callable[[str], None] | None = None) -> Answer:
        """Understand (unless given a Query already understood on the generation it answers from,
        as the eval harness does after ranking), retrieve, then answer with citations (or refuse,
        listing the nearest papers). A failing LLM never loses the question: the extractive
        answer is given instead."""
        # One generation for the whole question: an ingest finishing meanwhile is seen by
        # the next question, and this one's generation is not deleted under it.
        with self.index.use() as index:
            t0 = time.perf_counter()
            if isinstance(question, Query) and question.generation == index.generation.name:
                query = question
            else:  # a new question, or one understood on a generation an ingest has replaced since
                query = understand(index, question.asked if isinstance(question, Query) else question, self.settings.retrieval)
            hits = search(index, query, self.settings.retrieval)
            t1 = time.perf_counter()
            evidence = gather_evidence(index, query.answered, hits, self.settings.answer) if hits else []
            judged = judged_evidence(index, query, hits, evidence, self.settings.answer)
            verdict = self.verdict(index, query, hits, judged) if evidence else "refused"
            if verdict == "refused":
                # Clearly outside the corpus: refuse without spending an LLM call.
                result = refusal(query.asked, hits)
            elif self.generator is None:
                result = extractive_answer(query.asked, hits, evidence, self.settings)
                result = tentative(result) if verdict == "tentative" else result
            else:
                # The LLM reads the abstracts in the uncertain band too, and judges: its answer
                # is an answer, its "not stated" a tentative answer, its "no evidence" a refusal.
                try:
                    result = self._generated(query, hits, evidence, on_token, band=verdict)
                except BackendUnavailable as e:
                    result = replace(
                        extractive_answer(query.asked, hits, evidence, self.settings),
                        notice=f"The {self.settings.llm.backend} backend failed ({e}); this is the extractive answer.",
                    )
                    result = tentative(result) if verdict == "tentative" else result
            t2 = time.perf_counter()
            if query.language:
                result = _in_english_only(result, query.language, query.searched)
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
