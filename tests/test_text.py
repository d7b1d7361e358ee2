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


def test_normalize_is_the_word_runs_lowercased_joined_by_spaces():
    """The ASCII fast path and the regex path agree with the definition on fuzzed text."""
    import random
    import re

    from index.text import normalize

    rng = random.Random(7)
    alphabet = "aZ09_ .,;-\t\n\x1c\x0b()[]'\"éÉßΔδ\u00a0\u2009–—ﬁİ数"
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        for t in (text, text.encode("ascii", "ignore").decode()):
            assert normalize(t) == " ".join(re.sub(r"\W+", " ", t.lower()).split()), repr(t)
