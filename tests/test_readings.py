"""The readings of a question the refusal model judges (bot/answer/readings.py): the whole
question, what it asks, and two papers together; the answerer takes the best-supported one and
reads the next only while none answers. The questions are written here, on the bundled corpus."""

from dataclasses import replace

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


@pytest.mark.integration
def test_whether_anything_covers_one_topic_is_never_read_against_two_papers(answerer):
    _, found, _ = _readings(answerer, "Any work on speeding up LLM generation without a draft model?")
    assert len(found) == 1


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
