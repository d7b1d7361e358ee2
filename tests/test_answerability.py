"""The answerability model: fitting, the stored parameters, and when it is used."""

import numpy as np
import pytest

from bot.answerability import FEATURES, RefusalModel, fit_logistic
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
    assert model is not None, "run python -m evals.fit_refusal"
    assert set(model.mean) == set(FEATURES) and 0 < model.threshold < 1
    assert any(model.weights.values())
    assert model.applies_to(Settings())
    assert not model.applies_to(Settings(index={"embedder": "fake"}))
    assert not model.applies_to(Settings(index={"model": "/some/other/model"}))
    strong = {f: model.mean[f] + 2 * model.scale[f] * np.sign(w) for f, w in model.weights.items()}
    weak = {f: model.mean[f] - 2 * model.scale[f] * np.sign(w) for f, w in model.weights.items()}
    assert model.probability(strong) > model.threshold > model.probability(weak)


def test_the_fit_refuses_the_test_questions(monkeypatch):
    import sys

    from evals.fit_refusal import main

    monkeypatch.setattr(sys, "argv", ["fit_refusal", "--dataset", "bundled-test"])
    with pytest.raises(SystemExit, match="dev questions"):
        main()
