"""What a question asks for (bot/query/focus.py): from English question grammar, on sentences
written for this test, not taken from any question set."""

import pytest

from bot.query.focus import asked_for


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


def test_a_runaway_clause_is_not_a_focus():
    """More than six words before any verb is the clause itself, not the thing asked for."""
    assert asked_for("What rather large unusually shaped transformer variant family member did they find?") == ""
    assert asked_for("What unusually shaped transformer variant did they find?") == "unusually shaped transformer variant"
