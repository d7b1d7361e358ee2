"""The readings of a question the refusal model judges (bot/answer/readings.py): the whole
question, what it asks, and two papers together; the answerer takes the best-supported one and
reads the next only while none answers. The questions are written here, on the bundled corpus."""

import numpy as np
import pytest

from bot.answer import readings as readings_module
from bot.answer.answerer import Answerer
from bot.answer.evidence import gather_evidence
from bot.answer.readings import joined, readings
from bot.query.query import understand
from bot.retrieval.search import search
from bot.types import Hit
from index.settings import Settings
from index.types import Paper

# Two papers, one part each: drafting with the model's own layers skipped, and drafting with no
# model at all for test-time scaling.
TWO_PARTS = ("Which papers speed up LLM generation without a separate draft model, one by skipping some of the "
             "model's own layers while drafting and the other by speculative sampling with no draft model at "
             "all for test-time scaling, and how much faster is each?")  # fmt: skip


def _hit(pid: str, title: str, abstract: str) -> Hit:
    return Hit(paper=Paper(id=pid, title=title, abstract=abstract), score=1.0, dense=0.5)


def test_joined_reads_two_papers_as_one_and_keeps_the_first_ones_id():
    a, b = _hit("a", "Layer skipping", "We skip layers."), _hit("b", "Model-free drafts", "We draft without a model.")
    both = joined(a, b)
    assert both.paper.id == "a" and both.dense == a.dense
    assert both.paper.title == "Layer skipping; Model-free drafts"
    assert both.paper.abstract == "We skip layers. We draft without a model."
    assert both.paper.parts == (a.paper, b.paper)


def test_two_papers_read_together_are_each_read_as_indexed(fake_settings):
    """Their token vectors are each paper's own (cached per paper), one after the other: no
    chunk of the two texts run together is encoded."""
    from index.ingest import ingest
    from index.reader import open_index
    from bot.answer.late_interaction import paper_vectors
    from pathlib import Path

    ingest(fake_settings, [Path(__file__).parent / "data" / "papers.jsonl"])
    with open_index(fake_settings).use() as idx:
        a, b = list(idx.papers.values())[:2]
        both = joined(Hit(paper=a, score=1.0), Hit(paper=b, score=0.5)).paper
        va, vb, vab = paper_vectors(idx, a), paper_vectors(idx, b), paper_vectors(idx, both)
        assert vab.tokens == va.tokens + vb.tokens
        assert (vab.vectors == np.concatenate([va.vectors, vb.vectors])).all()


@pytest.fixture(scope="module")
def answerer(real_index):
    return Answerer(Settings(index={"data_dir": real_index.settings.index.data_dir}), real_index)


def _readings(answerer, text):
    s = answerer.settings
    with answerer.index.use() as idx:
        query = understand(idx, text, s.retrieval)
        hits = search(idx, query, s.retrieval)
        evidence = gather_evidence(idx, query.judged, hits, s.answer)
        found = list(readings(idx, query, hits, evidence, s.answer))
        return hits, found, [answerer.answerable(idx, r.text, r.hits, r.evidence) for r in found]


@pytest.mark.integration
def test_a_question_on_two_papers_is_read_against_both(answerer):
    """Through the real model, index and fitted refusal model: read whole against its first
    paper, the question has only half its words there and falls below the answer threshold;
    against its first two papers as one it is answered, and the answer cites both."""
    hits, found, p = _readings(answerer, TWO_PARTS)
    assert [r.text for r in found] == [found[0].text, found[0].text]  # whole, then two papers together
    assert found[1].hits[0].paper.abstract == f"{hits[0].paper.abstract} {hits[1].paper.abstract}"
    assert p[0] < answerer.thresholds[0] <= p[1]
    answer = answerer(TWO_PARTS)
    assert answer.confidence == "answer"
    assert {c.paper.id for c in answer.citations} >= {hits[0].paper.id, hits[1].paper.id}
    # The joined paper is the refusal model's alone: every citation is a paper as indexed.
    assert all(c.paper == hit.paper for c in answer.citations for hit in hits if hit.paper.id == c.paper.id)


def test_the_verdict_is_the_best_reading_and_reads_no_further_once_answered(monkeypatch):
    """The answerer's verdict is the fit's: the maximum over the readings, read lazily."""
    read = []

    def fake_readings(index, query, hits, evidence, s):
        for text in ("whole", "asking", "together"):
            read.append(text)
            yield readings_module.Reading(text, hits, evidence)

    monkeypatch.setattr("bot.answer.answerer.readings", fake_readings)
    ask = Answerer.__new__(Answerer)  # no index or model needed: answerable and thresholds are stubbed
    ask.refusal_model, ask.settings = object(), Settings()
    scores = {"whole": 0.2, "asking": 0.3, "together": 0.5}
    monkeypatch.setattr(Answerer, "answerable", lambda self, index, text, hits, evidence: scores[text])
    monkeypatch.setattr(Answerer, "thresholds", property(lambda self: (0.4, 0.25)))
    assert ask.verdict(None, None, [], []) == "answer" and read == ["whole", "asking", "together"]
    read.clear()
    scores.update(together=0.1)
    assert ask.verdict(None, None, [], []) == "tentative" and read == ["whole", "asking", "together"]
    read.clear()
    scores.update(whole=0.9)
    assert ask.verdict(None, None, [], []) == "answer" and read == ["whole"]


# Two topics the bundled corpus has apart and no paper together: the first two papers found each
# have half of the question's words.
COMBINATIONS = [
    "Which papers use reinforcement learning to tune the learning rate of diffusion model training?",
    "Which works use knowledge distillation to compress tokenizers for multilingual LLMs?",
    "Which papers prune attention heads of diffusion transformers for video generation?",
]


@pytest.mark.integration
@pytest.mark.parametrize("question", COMBINATIONS)
def test_a_topic_combination_is_never_read_against_two_papers(answerer, question):
    """Read against its first two papers as one, such a question had every word there (and was
    answered confidently while every several-paper question got that reading); it asks about
    no distinct works, so it is read whole, and not answered confidently."""
    _, found, _ = _readings(answerer, question)
    assert len(found) == 1
    assert answerer(question).confidence != "answer"


@pytest.mark.integration
def test_the_next_reading_is_read_only_while_none_answers(answerer, monkeypatch):
    """A question answered on its whole reading gathers no evidence for another."""
    calls = []
    real = readings_module.gather_evidence

    def counted(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(readings_module, "gather_evidence", counted)
    question = "Which papers make LLMs multiplication-free?"
    assert answerer(question).confidence == "answer"
    assert calls == []
    # A wrapped question whose whole reading does not answer reads what it asks.
    answerer("First, name three rivers of Peru. Then: which papers make LLMs multiplication-free with bit shifts?")
    assert len(calls) >= 1
