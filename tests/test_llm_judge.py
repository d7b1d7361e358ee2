"""The LLM judges the uncertain band, through the bundled GGUF (llama.cpp in process): a band
question is read by the model and comes back as an answer, a tentative answer or a refusal,
whatever it writes; a question below the band is refused without a model call."""

import pytest

pytestmark = [pytest.mark.llm, pytest.mark.integration]
pytest.importorskip("llama_cpp", reason="install the llama-cpp extra (make test does)")

QUESTION = "Which paper initializes networks with identity-like matrices?"


@pytest.fixture(scope="module")
def judge(real_index):
    from bot.answer.answerer import Answerer
    from bot.llm.llamaindex import bundled_gguf
    from index.settings import LLMSettings

    s = real_index.settings.model_copy(deep=True)
    s.llm = LLMSettings(backend="llama-cpp", model=str(bundled_gguf()), max_tokens=48, temperature=0.0, retries=0)
    answerer = Answerer(s, real_index)
    calls: list[str] = []
    complete = answerer.generator.complete
    answerer.generator.complete = lambda prompt: calls.append(prompt) or complete(prompt)  # count the model's calls
    return answerer, calls


def test_a_band_question_goes_to_the_model_and_its_verdict_is_graded(judge):
    answerer, calls = judge
    assert answerer.refusal_model is not None  # the fitted model, real signals
    answerer.settings.answer.answer_threshold, answerer.settings.answer.tentative_threshold = 1.0, 0.0  # all band
    calls.clear()
    a = answerer(QUESTION)
    assert len(calls) == 1 and "NOT_STATED" in calls[0] and "NO_EVIDENCE" in calls[0]
    assert a.confidence in ("answer", "tentative", "refused")
    assert {c.paper.id for c in a.citations} <= {h.paper.id for h in a.hits}
    if a.notice:  # the base model wrote no citation: the extractive answer, still tentative
        assert a.backend == "extractive" and a.confidence == "tentative" and a.caveat
    elif a.confidence != "refused":
        assert a.backend.startswith("llama-cpp") and "[1]" in a.text and a.raw_output


def test_below_the_band_no_model_is_asked(judge):
    answerer, calls = judge
    answerer.settings.answer.answer_threshold, answerer.settings.answer.tentative_threshold = 1.0, 1.0
    calls.clear()
    a = answerer(QUESTION)
    assert a.confidence == "refused" and calls == [] and a.hits
