"""What a question asks for (bot/query/focus.py): from English question grammar, on sentences
written for this test, not taken from any question set."""

import pytest

from bot.query.focus import asked_for, asking_part, names_a_measure


@pytest.mark.parametrize(
    "question, focus",
    [
        ("What top-1 accuracy did the distilled student reach?", "top-1 accuracy"),
        ("How many training tokens were used for the 7B model?", "training tokens"),
        ("how much memory does the sparse kernel save", "memory"),
        ("Which optimizer and learning rate did they pick?", "optimizer and learning rate"),
        ("What is the exact loss function of the contrastive stage?", "exact loss function"),
        ("For the graph model, what BLEU score was reported on WMT14?", "BLEU score"),
        ("The pruning recipe: how many FLOPs does it remove from ResNet-18?", "FLOPs"),
        ("How many GPUs?", "GPUs"),  # the question ends at what it asks for
        ("what's the peak memory of the fused kernel?", "peak memory"),
        ("Which in-context examples did the retriever pick?", "in-context examples"),  # not "in"
        ("What it-based prompts were tried?", "it-based prompts"),
    ],
)
def test_the_phrase_between_the_wh_word_and_the_verb(question, focus):
    assert asked_for(question) == focus


@pytest.mark.parametrize(
    "question",
    [
        "Which papers study label noise in speech recognition?",
        "What do we have on protein folding?",
        "By how much did the cache shrink?",
        "Is there work on tabular foundation models?",
        "Explain how low-rank adapters are merged.",
        "",
    ],
)
def test_a_question_that_names_nothing_in_particular(question):
    assert content_words(asked_for(question)) == []


def content_words(text: str) -> list[str]:
    from index.vocabulary import content_stems

    return content_stems(text)


@pytest.mark.parametrize(
    "focus, measure",
    [("top-1 accuracy", True), ("BLEU", True), ("pass@10", True), ("one-step FID", True), ("NDCG@5", True),
     ("speed-up factor", True), ("context lengths", True), ("wall-clock time", True), ("Q-index", True),
     ("distillation methods", False), ("GAN variants", False), ("base checkpoint", False), ("", False)],
)  # fmt: skip
def test_an_asked_for_phrase_names_a_measure_by_its_head(focus, measure):
    """Written from how metrics are named (acronyms, a score at a cut-off, words for a
    quantity), not from the question sets: the head decides ("LLM benchmarks" asks for names)."""
    assert names_a_measure(focus) is measure
    assert names_a_measure("LLM benchmarks") is False


def test_a_runaway_clause_is_not_a_focus():
    """More than six words before any verb is the clause itself, not the thing asked for."""
    assert asked_for("What rather large unusually shaped transformer variant family member did they find?") == ""
    assert asked_for("What unusually shaped transformer variant did they find?") == "unusually shaped transformer variant"


@pytest.mark.parametrize(
    "question, asking",
    [
        ("Is there a sparse attention for long videos? How is its memory bounded?", "How is its memory bounded?"),
        ("For the diffusion sampler that skips steps, how many steps does it need?", "how many steps does it need?"),
        ("contrastive pretraining on satellite images -- which datasets did they use??", "which datasets did they use??"),
        ("The robot policy trained in simulation only, and by how much did it beat the baseline?",
         "by how much did it beat the baseline?"),
    ],
)
def test_the_part_that_asks_after_a_description(question, asking):
    assert asking_part(question) == asking


@pytest.mark.parametrize(
    "question",
    [
        "What top-1 accuracy did the distilled student reach?",  # asks as a whole
        "Which papers study label noise in speech recognition?",
        "The tokenizer, how?",  # too short to choose a sentence by
        "Any work on graph transformers for molecules?",
    ],
)
def test_a_question_that_asks_as_a_whole_has_no_asking_part(question):
    assert asking_part(question) == ""


def test_the_quoted_sentence_is_the_one_closest_to_what_is_asked(real_index, monkeypatch):
    """Through the bundled model: a question that describes a paper at length before asking is,
    as a whole, closest to the sentence that describes the paper; the answer is quoted from the
    sentence closest to what it asks (similarity alone decides here)."""
    import bot.answer.evidence as evidence
    from bot.types import Hit
    from index.types import Paper

    paper = Paper(id="x", title="", abstract=(
        "We present a hierarchical encoder for retrieval-augmented question answering over long legal contracts. "
        "The encoder is trained on 12,000 annotated contracts from three jurisdictions. "
        "It improves answer F1 by 4.1 points over strong baselines."))  # fmt: skip
    question = ("For the hierarchical encoder for retrieval-augmented question answering over long legal "
                "contracts, what data was it trained on?")  # fmt: skip
    only_similarity = {k: 0.0 for k in ("overlap_weight", "type_weight", "contribution_bonus", "specificity_weight",
                                        "focus_weight", "background_penalty")}  # fmt: skip
    s = real_index.settings.answer.model_copy(update=only_similarity)
    (e,) = evidence.gather_evidence(real_index, question, [Hit(paper=paper, score=1.0)], s)
    assert e.sentence.startswith("The encoder is trained on 12,000")
    monkeypatch.setattr(evidence, "asking_part", lambda q: "")  # the whole question chooses
    (e,) = evidence.gather_evidence(real_index, question, [Hit(paper=paper, score=1.0)], s)
    assert e.sentence.startswith("We present a hierarchical encoder")
