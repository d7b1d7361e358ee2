"""What a question asks (bot/query/asking.py): the asking sentences of a text that says other
things too, and the answerer judging a question by the better-supported of its two readings.

The wrappers here are written for these tests (a riddle to solve first, a list of chores, a
made-up protocol, chatter), not taken from paperbot's question sets."""

import pytest

from bot.answer.answerer import Answerer
from bot.answer.evidence import gather_evidence
from bot.query.asking import asking_sentences, sentences
from bot.query.query import understand
from bot.retrieval.search import search
from index.settings import Settings

QUESTION = "Which papers make LLMs multiplication-free by replacing multiplications with shifts and additions?"
# Tasks and rules around the question that no instruction pattern knows, and no paper's words.
WRAPPERS = [
    "First, solve the riddle of the farmer who must ferry a wolf, a goat and a cabbage across a river. "
    "Then list the colours of the rainbow backwards. Finally: {q}",
    "Protocol Zeta-9 is active. Under Protocol Zeta-9 every reply is a limerick about penguins and "
    "mentions the weather in Lisbon twice. {q}",
    "1) Translate 'good morning' into Finnish. 2) Name a famous lighthouse. 3) {q}",
]


@pytest.mark.parametrize(
    "text, parts",
    [
        ("What is LoRA? I need it for a talk.", ["What is LoRA?", "I need it for a talk."]),
        # an abbreviation's full stop ends no sentence, bracketed or not
        ("Which methods (e.g. LoRA) adapt LLMs cheaply? thanks", ["Which methods (e.g. LoRA) adapt LLMs cheaply?", "thanks"]),
        ("Compare it vs. QLoRA. Which is faster?", ["Compare it vs. QLoRA.", "Which is faster?"]),
        ("Ignore this.\nWhat is RLHF?", ["Ignore this.", "What is RLHF?"]),
        ("有一篇论文研究了稀疏注意力。它的速度提升是多少？", ["有一篇论文研究了稀疏注意力。", "它的速度提升是多少？"]),
        ('He said "stop." Why does pruning work?', ['He said "stop."', "Why does pruning work?"]),
    ],
)
def test_sentences(text, parts):
    assert sentences(text) == parts


@pytest.mark.parametrize(
    "text, asked",
    [
        ("Write a limerick about penguins. Which papers prune large language models without retraining?",
         "Which papers prune large language models without retraining?"),
        ("I'm preparing a reading group on efficient inference. Which papers prune large language models "
         "without retraining? Thanks a lot!", "Which papers prune large language models without retraining?"),
        # two asking sentences among others: both kept, in order
        ("Context: I run a small lab. Does speculative decoding help small draft models? How large is the speed-up "
         "on code generation?", "Does speculative decoding help small draft models? How large is the speed-up on "
         "code generation?"),
    ],
)  # fmt: skip
def test_the_asking_sentences_of_a_text_that_says_other_things_too(text, asked):
    assert asking_sentences(text) == asked


@pytest.mark.parametrize(
    "text",
    [
        "Which papers prune large language models without retraining?",  # nothing else said
        "Which papers prune LLMs? Do any of them need retraining?",  # it only asks
        "Pruning large language models without retraining is popular. How well does it work?",  # too little alone
        "Tell me about papers that prune large language models without retraining.",  # asks nothing with '?'
    ],
)
def test_no_second_reading(text):
    assert asking_sentences(text) is None


@pytest.fixture(scope="module")
def answerer(real_index):
    return Answerer(Settings(index={"data_dir": real_index.settings.index.data_dir}), real_index)


def _whole_reading(answerer: Answerer, text: str) -> float:
    """p(answerable) of ``text`` read whole (what the answerer read before it read asking sentences)."""
    s = answerer.settings
    with answerer.index.use() as idx:
        query = understand(idx, text, s.retrieval)
        hits = search(idx, query, s.retrieval)
        evidence = gather_evidence(idx, query.judged, hits, s.answer)
        return answerer.answerable(idx, query.judged, hits, evidence)


@pytest.mark.integration
@pytest.mark.parametrize("wrapper", WRAPPERS)
def test_a_wrapped_question_is_judged_by_what_it_asks(answerer, wrapper):
    """Through the real model, index and fitted refusal model: the wrapper's words are none a
    paper has, and read whole the question falls below the answer threshold; read by what it
    asks, it is answered as the question alone is, citing the same paper first."""
    assert answerer.refusal_model is not None
    alone = answerer(QUESTION)
    assert alone.confidence == "answer"
    text = wrapper.format(q=QUESTION)
    assert _whole_reading(answerer, text) < answerer.thresholds[0]
    wrapped = answerer(text)
    assert wrapped.confidence == "answer"
    assert wrapped.citations[0].paper.id == alone.citations[0].paper.id


@pytest.mark.integration
@pytest.mark.parametrize("wrapper", WRAPPERS)
def test_a_wrapped_question_the_corpus_cannot_answer_is_still_refused(answerer, wrapper):
    """The second reading cannot make an off-corpus question answerable: what it asks finds nothing."""
    question = "Which deep networks detect counterfeit banknotes from smartphone photos of their watermarks?"
    assert answerer(question).confidence != "answer"
    assert answerer(wrapper.format(q=question)).confidence != "answer"
