"""Answer metrics and bootstrap intervals on hand-made cases with known values."""

import math

import pytest

from evals.metrics import (
    bootstrap_ci,
    citation_precision,
    citation_recall,
    fact_coverage,
    has_fact,
    kept_share,
    mean_defined,
    paired_bootstrap,
    percentile,
)


def test_citation_precision_and_recall():
    assert citation_precision(["a", "b", "c"], {"a", "c", "d"}) == pytest.approx(2 / 3)
    assert citation_recall(["a", "b", "c"], {"a", "c", "d"}) == pytest.approx(2 / 3)
    assert citation_precision(["a", "a"], {"a"}) == 1.0  # a paper cited twice counts once
    assert citation_recall(["x"], {"a", "b"}) == 0.0
    assert citation_precision([], {"a"}) is None  # nothing cited: precision does not apply
    assert citation_recall(["a"], set()) is None  # no gold: recall does not apply


def test_fact_coverage_reads_through_latex_escapes():
    text = "Accuracy rises by 2.46\\% on GSM8K with 4-bit weights."
    assert has_fact(text, "2.46%") and has_fact(text, "gsm8k")
    assert fact_coverage(text, ["2.46%", "4-bit", "ImageNet"]) == pytest.approx(2 / 3)
    assert fact_coverage(text, []) is None


def test_kept_share_and_means():
    assert kept_share(3, 1) == 0.75 and kept_share(0, 2) == 0.0 and kept_share(0, 0) is None
    assert mean_defined([1.0, None, 0.0, None]) == 0.5
    assert mean_defined([None]) is None
    assert percentile([5, 1, 3, 2, 4], 0.5) == 3 and percentile([1, 2, 3, 4, 100], 0.95) == 100


def test_bootstrap_interval_of_the_mean():
    assert bootstrap_ci([0.7] * 20) == (pytest.approx(0.7), pytest.approx(0.7))
    lo, hi = bootstrap_ci([0.0, 1.0] * 50)  # mean 0.5, sd of the mean 0.05
    assert 0.38 < lo < 0.45 and 0.55 < hi < 0.62
    assert all(math.isnan(v) for v in bootstrap_ci([]))
    assert bootstrap_ci([0.1, 0.5, 0.9] * 9) == bootstrap_ci([0.1, 0.5, 0.9] * 9)  # seeded: reports reproduce


def test_paired_bootstrap_sees_a_consistent_gain_and_no_gain():
    a = [0.1 * (i % 10) for i in range(60)]
    same = paired_bootstrap(a, a)
    assert same["delta"] == 0.0 and same["lo"] == 0.0 and same["hi"] == 0.0 and same["n"] == 60
    # +0.1 on every question: per-question difficulty cancels, so the interval is tight.
    gain = paired_bootstrap(a, [x + 0.1 for x in a])
    assert gain["delta"] == pytest.approx(0.1) and gain["lo"] == pytest.approx(0.1) and gain["hi"] == pytest.approx(0.1)
    # Half the questions improve by 1, half get worse by 1: no significant change.
    mixed = paired_bootstrap([0.0, 1.0] * 30, [1.0, 0.0] * 30)
    assert mixed["delta"] == 0.0 and mixed["lo"] < 0 < mixed["hi"]
    with pytest.raises(ValueError):
        paired_bootstrap([1.0], [1.0, 2.0])


def test_fact_coverage_counts_only_the_first_80_words():
    """Quoting more cannot raise fact coverage: a fact after word 80 does not count."""
    from evals.metrics import FACT_WORDS, first_words

    filler = " ".join(["word"] * FACT_WORDS)
    assert fact_coverage(f"It reaches 59X. [1] {filler}", ["59X"]) == 1.0
    assert fact_coverage(f"{filler} It reaches 59X. [1]", ["59X"]) == 0.0
    assert fact_coverage(f"{filler} 59X", ["59X"], max_words=FACT_WORDS + 1) == 1.0
    # Citation markers are not words: "[1] [2] [3]" takes none of the 80.
    assert first_words("a [1] b [2, 3] c", 2) == "a b"


def test_citation_precision_with_refusals_counts_a_refusal_as_zero():
    from evals.metrics import citation_precision_with_refusals as with_refusals

    assert with_refusals([], {"a"}, refused=True) == 0.0  # an answerable question refused
    assert with_refusals(["a", "b"], {"a"}, refused=False) == 0.5  # as citation_precision
    assert with_refusals([], set(), refused=True) is None  # a right refusal has no precision
