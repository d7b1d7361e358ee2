"""The answerability model: fitting, the stored parameters (bot/fitted/refusal.json), and when it is used."""

import numpy as np
import pytest

from bot.answer.refusal import FEATURES, RefusalModel
from evals.fit.logistic import fit_logistic
from index.settings import Settings


def test_logistic_fit_separates_and_regularisation_shrinks():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2))
    y = (x[:, 0] + 0.2 * rng.normal(size=200) > 0).astype(float)
    w, b = fit_logistic(x, y, l2=0.1)
    assert w[0] > 2 and abs(w[1]) < 0.5 * w[0]
    w_strong, _ = fit_logistic(x, y, l2=100.0)
    assert 0 < w_strong[0] < w[0]


def test_the_stored_model_is_fitted_and_used_only_with_its_embedding_model():
    model = RefusalModel.fitted()
    assert model is not None, "run python -m evals.fit.refusal"
    assert set(model.mean) == set(model.scale) == set(model.used) and 0 < model.threshold < 1
    assert model.used and set(model.used) <= set(FEATURES)
    assert model.applies_to(Settings())
    assert not model.applies_to(Settings(index={"embedder": "fake"}))
    assert not model.applies_to(Settings(index={"model": "/some/other/model"}))
    strong = {f: model.mean[f] + 2 * model.scale[f] * np.sign(w) for f, w in model.weights.items()}
    weak = {f: model.mean[f] - 2 * model.scale[f] * np.sign(w) for f, w in model.weights.items()}
    assert model.probability(strong) > model.threshold > model.probability(weak)


def test_the_fit_refuses_the_test_questions(monkeypatch):
    import sys

    from evals.fit.refusal import main

    monkeypatch.setattr(sys, "argv", ["fit_refusal", "--dataset", "bundled-test"])
    with pytest.raises(SystemExit, match="dev questions"):
        main()


def test_leave_one_out_never_sees_the_held_out_question_nor_its_negatives():
    """The hidden-gold and unstated-fact negatives are the same question with its papers (or the
    sentences stating its facts) removed: a model that kept question i's negatives while
    predicting question i would have seen its wording."""
    from evals.fit.refusal import DevFeatures, cross_validated, training_set

    x = np.array([[0.9, 0.8], [0.8, 0.9], [0.2, 0.1], [0.7, 0.6]])
    data = DevFeatures(x=x, y=np.array([1.0, 1.0, 0.0, 1.0]), ids=["a", "b", "c", "d"], old=x[:, 0],
                       hidden={0: np.array([0.3, 0.2]), 1: np.array([0.25, 0.3]), 3: np.array([0.1, 0.2])},
                       top_gold=np.array([1.0, 1.0, 0.0, 1.0]),
                       unstated={1: np.array([0.6, 0.35]), 3: np.array([0.65, 0.3])})  # fmt: skip
    tx, ty = training_set(data, [0, 1], without=1)
    rows = {tuple(r) for r in tx}
    assert not {(0.8, 0.9), (0.25, 0.3), (0.6, 0.35)} & rows  # question b and its two negatives
    assert {(0.9, 0.8), (0.3, 0.2), (0.1, 0.2), (0.2, 0.1), (0.65, 0.3)} <= rows
    assert ty.tolist() == [1.0, 0.0, 1.0, 0.0, 0.0, 0.0]  # a, c, d, then the negatives of a and d (two)
    full_x, full_y = training_set(data, [0])
    assert full_x.shape == (9, 1) and full_y.sum() == 3
    p = cross_validated(data, [0, 1], l2=1.0)
    assert p.shape == (4,) and p[0] > p[2] and p[3] > p[2]


def test_cross_validated_predictions_take_each_questions_best_reading():
    """The thresholds are set on what the answerer computes: the maximum over a question's
    readings (bot/answer/readings.py), never a training row of its own."""
    from evals.fit.refusal import DevFeatures, cross_validated, training_set

    x = np.array([[0.9, 0.8], [0.8, 0.9], [0.2, 0.1], [0.3, 0.2]])
    base = dict(x=x, y=np.array([1.0, 1.0, 0.0, 0.0]), ids=["a", "b", "c", "d"], old=x[:, 0],
                hidden={}, top_gold=np.array([1.0, 1.0, 0.0, 0.0]))  # fmt: skip
    plain = cross_validated(DevFeatures(**base), [0, 1], l2=1.0)
    # d read by what it asks scores like an answerable question; c's other reading scores lower.
    read = DevFeatures(**base, readings={3: [np.array([0.95, 0.9])], 2: [np.array([0.0, 0.0])]})
    p = cross_validated(read, [0, 1], l2=1.0)
    assert p[3] > plain[3] and p[3] > p[0]
    assert p[2] == plain[2] and p[0] == plain[0] and p[1] == plain[1]
    assert training_set(read, [0, 1])[0].shape == training_set(DevFeatures(**base), [0, 1])[0].shape


def test_roc_auc_and_the_threshold_under_a_refusal_floor():
    """The fit ranks models by AUC (no threshold in it) and picks the threshold that answers
    most while refusing at least the floor's share of unanswerable questions."""
    from evals.fit.refusal import best_threshold, roc_auc

    y = np.array([1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0])
    p = np.array([0.9, 0.6, 0.3, 0.5, 0.2, 0.1, 0.35])
    assert roc_auc(p, y) == pytest.approx((4 + 4 + 2) / 12)  # 0.9 and 0.6 above all four, 0.3 above two
    assert roc_auc(np.array([0.5, 0.5]), np.array([1.0, 0.0])) == 0.5
    t, (_, refusal, false_refusals) = best_threshold(p, y, min_refusal=0.75)
    assert t == 0.5 and refusal == 0.75 and false_refusals == pytest.approx(1 / 3)
    t, (_, refusal, false_refusals) = best_threshold(p, y, min_refusal=1.0)
    assert t == 0.6 and refusal == 1.0 and false_refusals == pytest.approx(1 / 3)


def test_the_tentative_threshold_refuses_at_most_the_allowed_share_even_after_rounding():
    from evals.fit.refusal import tentative_threshold

    rng = np.random.default_rng(0)
    for n in (7, 40, 252):
        p = rng.random(n)
        y = np.ones(n)
        for max_flat in (0.0, 0.025, 0.1, 1.0):
            t, flat = tentative_threshold(p, y, answer_at=1.0, max_flat=max_flat)
            assert flat <= max(max_flat, 0) + 1e-12 or flat <= (n - 1) / n
            assert flat == np.mean(p < t)
    t, _ = tentative_threshold(np.array([0.3, 0.9]), np.array([1.0, 1.0]), answer_at=0.2, max_flat=0.5)
    assert t == 0.2  # never above the answer threshold


def test_the_answer_threshold_keeps_room_under_both_targets():
    """Confident answers to unanswerable questions <= 0.10 and confident gold answers >= 0.75 pull
    opposite ways; the threshold chosen sits where the smaller margin is largest."""
    from evals.fit.refusal import TARGETS, _target_rates, target_threshold

    y = np.array([1.0] * 20 + [0.0] * 20)
    p = np.concatenate([np.linspace(0.3, 1.0, 20), np.linspace(0.0, 0.6, 20)])
    top_gold = np.ones(40)
    t, rates = target_threshold(p, y, top_gold)
    margin = min(TARGETS["confident_unanswerable"] - rates["confident_unanswerable"],
                 rates["confident_gold"] - TARGETS["confident_gold"])  # fmt: skip
    for other in np.linspace(0, 1, 101):
        r = _target_rates(p, y, top_gold, other)
        assert min(TARGETS["confident_unanswerable"] - r["confident_unanswerable"],
                   r["confident_gold"] - TARGETS["confident_gold"]) <= margin + 1e-12  # fmt: skip


def test_leave_one_out_leaves_out_a_question_with_its_misspelt_copy():
    from evals.fit.refusal import DevFeatures, training_set

    x = np.array([[0.9], [0.85], [0.2], [0.7]])
    data = DevFeatures(x=x, y=np.array([1.0, 1.0, 0.0, 1.0]), ids=["a", "a-typo", "c", "d"], old=x[:, 0],
                       hidden={1: np.array([0.3])}, top_gold=np.ones(4), groups=["a", "a", "c", "d"])  # fmt: skip
    tx, ty = training_set(data, [0], without=0)
    assert sorted(tx[:, 0].tolist()) == [0.2, 0.7]  # neither a, its copy, nor the copy's negative
    assert ty.tolist() == [0.0, 1.0]


def test_leave_one_set_out_predicts_each_set_with_a_model_that_never_saw_it():
    """A set of questions by one author goes out whole, with its misspelt copies and their
    hidden-gold negatives: the model must hold up on a new author's questions."""
    from evals.fit.refusal import DevFeatures, cross_validated, question_set, training_set

    assert [question_set(i) for i in ("d001", "h012-typo", "s100", "x")] == ["d", "h", "s", "x"]
    x = np.array([[0.9], [0.85], [0.2], [0.7], [0.1], [0.8]])
    data = DevFeatures(x=x, y=np.array([1.0, 1.0, 0.0, 1.0, 0.0, 1.0]),
                       ids=["d1", "d1-typo", "d2", "s1", "s2", "s1-typo"], old=x[:, 0],
                       hidden={1: np.array([0.3]), 3: np.array([0.35])}, top_gold=np.ones(6),
                       groups=["d1", "d1", "d2", "s1", "s2", "s1"])  # fmt: skip
    tx, ty = training_set(data, [0], without=4, fold=data.question_set)
    assert sorted(tx[:, 0].tolist()) == [0.2, 0.3, 0.85, 0.9]  # the d rows and d1-typo's negative only
    assert ty.tolist() == [1.0, 1.0, 0.0, 0.0]
    by_set = cross_validated(data, [0], l2=1.0, fold=data.question_set)
    # Row 4 (set s) is predicted by the model fitted on the d rows alone.
    from evals.fit.logistic import fit_logistic
    from evals.fit.refusal import standardise

    mean, scale = standardise(tx)
    w, b = fit_logistic((tx - mean) / scale, ty, 1.0)
    assert by_set[4] == pytest.approx(1 / (1 + np.exp(-(((x[4] - mean) / scale) @ w + b))))
    assert by_set[4] != pytest.approx(cross_validated(data, [0], l2=1.0)[4])  # not leave-one-question-out


def test_the_asked_figure_signals_read_the_first_paper_for_a_number_beside_what_is_asked():
    """A near miss describes a paper that is there and asks a figure its abstract never gives:
    ``figure_sentence`` is the share of the asked-for words in one of the first paper's sentences
    that states a number; questions that ask for no figure read 1."""
    from bot.answer.refusal import signals
    from bot.types import Hit
    from index.types import Paper
    from index.vocabulary import Vocabulary

    study = Paper(id="p", title="A user study of search feedback",
                  abstract="We propose two feedback modes for generative search. "
                  "A user study with 24 participants found them useful. Latency is low.")  # fmt: skip
    other = Paper(id="q", title="Other", abstract="Diffusion models reach 31.2 PSNR on shadow removal.")
    vocab = Vocabulary.build([f"{p.title} {p.abstract}" for p in (study, other)] + ["unrelated words"] * 5)
    hits = [Hit(paper=study, score=1.0), Hit(paper=other, score=0.5)]
    names = ("figure_sentence", "figure_focus", "focus_missing")

    def read(question: str, found=hits) -> dict[str, float]:
        return signals(None, question, found, [], vocab, Settings(), only=names)  # type: ignore[arg-type]

    stated = read("How many participants were in the user study of the feedback modes?")
    assert stated == {"figure_sentence": 1.0, "figure_focus": 1.0, "focus_missing": 0.0}
    # The paper is found, and never gives a PSNR: the second paper's figure does not count.
    unstated = read("What PSNR score do the feedback modes for generative search reach?")
    assert unstated["figure_sentence"] == 0.0 and unstated["figure_focus"] == 0.0 and unstated["focus_missing"] > 0.5
    # Named without a number beside it ("latency" is there, its figure is not).
    assert read("How much latency do the feedback modes add?")["figure_sentence"] == 0.0
    assert read("How do the feedback modes work?") == {"figure_sentence": 1.0, "figure_focus": 1.0, "focus_missing": 0.0}
    assert read("How many participants?", found=[])["figure_sentence"] == 0.0


def test_the_unstated_fact_negative_takes_out_only_the_sentences_that_state_a_fact():
    from evals.fit.refusal import _without_facts
    from bot.types import Hit
    from index.types import Paper

    hit = Hit(paper=Paper(id="p", title="T", abstract="We build a dataset. It has 2,043 images. It is public."), score=1.0)
    assert _without_facts(hit, ["2,043 images"]).paper.abstract == "We build a dataset. It is public."
    assert _without_facts(hit, ["9,999 images"]) is None  # the paper never stated it: nothing to take out
    assert _without_facts(hit, ["dataset", "images", "public"]) is None  # nothing would be left
    assert hit.paper.abstract.startswith("We build")  # the retrieved paper itself is untouched


def test_the_model_chosen_within_the_tolerance_has_the_fewest_features_then_the_strongest_l2_then_the_best_auc():
    from evals.fit.refusal import AUC_TOLERANCE, choose_model

    best = 0.945
    results = [
        (best, -9, 1.0, "nine", 0.3),  # the best AUC, but more features
        (best - AUC_TOLERANCE / 5, -8, 10.0, "a eight", 0.31),
        (best - AUC_TOLERANCE / 2, -8, 10.0, "b eight", 0.32),  # a larger name, a worse AUC
        (best - AUC_TOLERANCE / 5, -8, 1.0, "c eight", 0.33),  # weaker regularisation
        (best - AUC_TOLERANCE / 10, -8, 3.0, "d eight", 0.36),  # a better AUC, weaker regularisation
        (best - 2 * AUC_TOLERANCE, -7, 10.0, "seven", 0.34),  # fewer features, out of the tolerance
    ]
    assert choose_model(results) == ("a eight", 10.0, 0.31)
    assert choose_model([*results, (best - AUC_TOLERANCE / 2, -7, 0.1, "seven", 0.35)]) == ("seven", 0.1, 0.35)
