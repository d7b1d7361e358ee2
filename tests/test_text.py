from index.text import split_sentences


def test_split_keeps_abbreviations_and_numbers():
    text = (
        "We use models, e.g. BERT and GPT-2, as in Smith et al. Our method wins. "
        "Accuracy rises to 3.5% on v2.0 data! Does it generalise? Yes (mostly)."
    )
    assert split_sentences(text) == [
        "We use models, e.g. BERT and GPT-2, as in Smith et al. Our method wins.",
        "Accuracy rises to 3.5% on v2.0 data!",
        "Does it generalise?",
        "Yes (mostly).",
    ]


def test_split_handles_empty_and_unterminated():
    assert split_sentences("   ") == []
    assert split_sentences("no full stop at the end https://x.org/y") == [
        "no full stop at the end https://x.org/y"
    ]
