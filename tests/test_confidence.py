"""Graded answers: an answer, a tentative answer (the closest evidence with a caveat) or a
refusal; with an LLM, the uncertain band goes to the LLM, whose verdict decides (fake
embedder, scripted generator)."""

from pathlib import Path

import pytest

from bot.answer.answerer import Answerer
from bot.answer.extractive import CAVEAT
from bot.answer.refusal import RefusalModel
from bot.llm.fake import FakeGenerator
from bot.render import answer_text
from bot.slack.blocks import answer_blocks
from index.ingest import ingest
from index.reader import open_index

DATA = Path(__file__).parent / "data"
QUESTION = "How do gardeners route tomatoes to experts?"
# p(answerable) from one signal; where it falls is set by the thresholds of each test.
MODEL = RefusalModel(
    weights={"sentence_top": 1.0}, bias=0.0, mean={"sentence_top": 0.5}, scale={"sentence_top": 1.0},
    threshold=0.5, model="fake", tentative_threshold=0.2,
)  # fmt: skip
BANDS = {"answer": (0.0, 0.0), "tentative": (1.0, 0.0), "refused": (1.0, 1.0)}  # (answer_at, tentative_at)


@pytest.fixture
def index(fake_settings):
    ingest(fake_settings, [DATA / "papers.jsonl", DATA / "papers.csv"])
    return open_index(fake_settings)


def answerer(index, settings, band: str, script: str | None = None) -> tuple[Answerer, FakeGenerator | None]:
    settings.answer.answer_threshold, settings.answer.tentative_threshold = BANDS[band]
    gen = FakeGenerator(script) if script is not None else None
    ask = Answerer(settings, index, generator=gen)
    ask.refusal_model = MODEL  # the fake embedder has no fitted model: this one reads its similarities
    return ask, gen


@pytest.mark.parametrize("band", ["answer", "tentative", "refused"])
def test_each_band_gives_its_outcome_without_an_llm(index, fake_settings, band):
    ask, _ = answerer(index, fake_settings, band)
    a = ask(QUESTION)
    assert a.confidence == band and a.to_dict()["confidence"] == band
    assert a.to_dict()["refused"] == (band == "refused")
    if band == "tentative":
        # the closest evidence, quoted and cited, with the caveat beside (not inside) the text
        assert a.caveat == CAVEAT and a.citations and CAVEAT not in a.text
        assert all(c.evidence in c.paper.abstract for c in a.citations)
        assert f"Tentative: {CAVEAT}" in answer_text(a).replace("\n", " ")
        shown = str(answer_blocks(a))
        assert "Tentative" in shown and CAVEAT in shown
    else:
        assert not a.caveat and "Tentative" not in answer_text(a)
    if band == "refused":
        assert a.hits and not a.citations  # the nearest papers are still listed


def test_a_plain_gate_has_no_band(index, fake_settings):
    # tentative_threshold None and none fitted: answer or refuse, as before graded answers
    ask, _ = answerer(index, fake_settings, "answer")
    ask.refusal_model = RefusalModel(**{**MODEL.__dict__, "tentative_threshold": None})
    fake_settings.answer.answer_threshold, fake_settings.answer.tentative_threshold = 1.0, None
    assert ask.thresholds == (1.0, 1.0) and ask(QUESTION).confidence == "refused"


def test_a_tentative_threshold_above_the_answer_threshold_is_refused():
    with pytest.raises(ValueError, match="above threshold"):
        RefusalModel(**{**MODEL.__dict__, "tentative_threshold": 0.9})


def test_clearly_outside_the_corpus_is_refused_without_an_llm_call(index, fake_settings):
    ask, gen = answerer(index, fake_settings, "refused", "The sparse router sends each tomato to two gardeners [1].")
    assert ask(QUESTION).confidence == "refused" and gen.prompts == []


@pytest.mark.parametrize(
    "script, outcome",
    [
        ("The sparse router sends each tomato to two gardeners [1].", "answer"),  # the LLM answers
        ("NO_EVIDENCE", "refused"),  # the LLM judges that nothing bears on it
        ("NOT_STATED: The router sends each tomato to two gardeners [1].", "tentative"),  # on topic, not stated
    ],
)
def test_the_llm_judges_the_uncertain_band(index, fake_settings, script, outcome):
    ask, gen = answerer(index, fake_settings, "tentative", script)
    a = ask(QUESTION)
    assert len(gen.prompts) == 1 and a.confidence == outcome and a.backend == "fake"
    if outcome == "tentative":
        assert a.caveat and "NOT_STATED" not in a.text and a.text.endswith("[1].") and a.kept_sentences == 1


def test_a_not_stated_verdict_with_nothing_grounded_quotes_the_closest_evidence(index, fake_settings):
    ask, _ = answerer(index, fake_settings, "tentative", "NOT_STATED. Nothing here says so.")
    a = ask(QUESTION)
    assert a.confidence == "tentative" and a.citations and all(c.evidence in c.paper.abstract for c in a.citations)


def test_a_confident_band_llm_saying_not_stated_is_tentative(index, fake_settings):
    ask, _ = answerer(index, fake_settings, "answer", "NOT_STATED: The router sends each tomato to two gardeners [1].")
    assert ask(QUESTION).confidence == "tentative"


def test_a_failing_llm_in_the_band_gives_the_tentative_extractive_answer(index, fake_settings):
    fake_settings.llm.retries = 0
    ask, _ = answerer(index, fake_settings, "tentative", "!down")
    a = ask(QUESTION)
    assert a.confidence == "tentative" and a.backend == "extractive" and "failed" in a.notice and a.caveat


def test_a_prompt_without_the_verdicts_is_refused_at_start(tmp_path):
    from bot.prompts import load_prompt
    from index.errors import ConfigError

    (tmp_path / "answer.txt").write_text("{context} {question}. If they do not answer, say NO_EVIDENCE.")
    with pytest.raises(ConfigError, match="NOT_STATED"):
        load_prompt("answer", tmp_path)


def test_a_streamed_not_stated_verdict_reaches_slack_as_the_caveat_then_grounded_sentences():
    from bot.slack.stream import GroundedStream
    from index.embedding.embedders import FakeEmbedder
    from index.types import Paper

    paper = Paper(id="a", title="Gardeners", abstract="Our sparse router sends each tomato to two gardeners. It improves yield by 12%.")
    sent: list[str] = []
    stream = GroundedStream(FakeEmbedder().embed, 0.5, emit=sent.append)
    stream.context = [paper]
    for delta in ("NOT_", "STATED: Our sparse router sends each tomato to two gardeners [1]. ", "It improves yield by 12% [1]."):
        stream(delta)
    text, citations = stream.finish()
    assert sent[0].startswith(f"_Tentative: {CAVEAT}_") and "NOT_STATED" not in "".join(sent) + text
    assert stream.not_stated and [c.paper.id for c in citations] == ["a"]


@pytest.mark.parametrize(
    "reply, said",
    [("NOT_STATED: x [1].", "NOT_STATED"), ("**Not stated.** x [1].", "NOT_STATED"), ("not stated - x", "NOT_STATED"),
     ("NO_EVIDENCE", "NO_EVIDENCE"), ("No evidence.", "NO_EVIDENCE"), ("The router [1].", None),
     ("Nothing stated here [1].", None)],
)  # fmt: skip
def test_verdicts_are_read_as_models_write_them(reply, said):
    from bot.prompts import verdict

    assert verdict(reply)[0] == said


def test_a_band_llm_answer_that_fails_the_grounding_check_is_the_tentative_extractive_answer(index, fake_settings):
    ask, _ = answerer(index, fake_settings, "tentative", "Paris is the capital of France [1].")
    a = ask(QUESTION)
    assert a.confidence == "tentative" and a.citations and a.removed_sentences == 1
    ask, _ = answerer(index, fake_settings, "answer", "Paris is the capital of France [1].")
    assert ask(QUESTION).confidence == "refused"  # confident band: nothing grounded is nothing to say
