"""Fitted models as data (bot/fitted/): the loader, the shipped files, and that a model computes
only the features it uses, to the same probabilities and scores as with all of them."""

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from bot.query.focus import asked_for

from bot.answer import refusal
from bot.answer.refusal import FEATURES, RefusalModel, paper_text, signals
from bot.fitted.models import FittedFile, dumps, load
from bot.retrieval import learned_fusion
from bot.retrieval.learned_fusion import FusionModel, features
from bot.retrieval.search import retrieve
from bot.types import Hit
from index.errors import ConfigError
from index.ingest import ingest
from index.vocabulary import content_stems
from index.reader import open_index

DATA = Path(__file__).parent / "data"
QUESTIONS = ("gardeners routing tomatoes to experts", "sparse experts for language models", "unheardof qwerty")

GOOD = {
    "kind": "refusal",
    "params": {"weights": {"sentence_top": 1.5}, "bias": -0.5, "mean": {"sentence_top": 0.5},
               "scale": {"sentence_top": 0.1}, "threshold": 0.4, "model": "bundled"},
    "provenance": {"command": "python -m evals.fit.refusal", "data": {"evals/questions/bundled_dev.jsonl": "sha256:ab"},
                   "commit": "unknown", "dirty": None, "fitted_at": "2026-01-01T00:00:00+00:00",
                   "metrics": {"leave_one_out": {"auc": 0.9}}},
}  # fmt: skip


def _write(folder: Path, body) -> Path:
    path = folder / "refusal.json"
    path.write_text(body if isinstance(body, str) else json.dumps(body), encoding="utf-8")
    return path


def test_load_reads_params_and_provenance(tmp_path):
    _write(tmp_path, GOOD)
    f = load("refusal", tmp_path)
    assert f is not None and f.kind == "refusal" and f.params == GOOD["params"]
    assert f.provenance.command == "python -m evals.fit.refusal" and f.provenance.dirty is None
    assert f.provenance.metrics == {"leave_one_out": {"auc": 0.9}} and f.provenance.note is None
    model = f.build(lambda p: RefusalModel(**p))
    assert model.used == ("sentence_top",) and model.threshold == 0.4
    # What the fitting scripts write is what the loader reads.
    assert json.loads(dumps(f)) == {**GOOD, "provenance": {**GOOD["provenance"], "note": None}}


def test_no_file_is_no_model(tmp_path):
    assert load("refusal", tmp_path) is None


@pytest.mark.parametrize(
    "body, why",
    [
        ("{not json", "not JSON"),
        ([1, 2], "expected an object"),
        ({**GOOD, "kind": "fusion"}, "kind is 'fusion'"),
        ({k: v for k, v in GOOD.items() if k != "provenance"}, "expected an object"),
        ({**GOOD, "params": [1]}, "params is not an object"),
        ({**GOOD, "provenance": {k: v for k, v in GOOD["provenance"].items() if k != "commit"}}, "misses ['commit']"),
        ({**GOOD, "provenance": {**GOOD["provenance"], "by": "hand"}}, "unknown ['by']"),
        ({**GOOD, "provenance": {**GOOD["provenance"], "dirty": "yes"}}, "provenance.dirty"),
        ({**GOOD, "provenance": {**GOOD["provenance"], "data": {"x.jsonl": "md5:1"}}}, "sha256"),
    ],
)
def test_a_malformed_file_says_which_and_how_to_fit_it_again(tmp_path, body, why):
    path = _write(tmp_path, body)
    with pytest.raises(ConfigError) as e:
        load("refusal", tmp_path)
    assert str(path) in str(e.value) and why in str(e.value) and "python -m evals.fit.refusal" in str(e.value)


@pytest.mark.parametrize(
    "params, why",
    [
        ({**GOOD["params"], "weights": {"no_such_feature": 1.0}}, "no_such_feature"),
        ({k: v for k, v in GOOD["params"].items() if k != "bias"}, "bias"),
        ({**GOOD["params"], "scale": {}}, "no mean or scale"),
        ({**GOOD["params"], "extra": 1}, "extra"),
    ],
)
def test_params_the_model_cannot_use_are_a_config_error(tmp_path, params, why):
    _write(tmp_path, {**GOOD, "params": params})
    f = load("refusal", tmp_path)
    assert f is not None
    with pytest.raises(ConfigError, match=why) as e:
        f.build(lambda p: RefusalModel(**p))
    assert "python -m evals.fit.refusal" in str(e.value)


def test_the_shipped_files_load_with_their_provenance():
    for name, model in (("refusal", RefusalModel.fitted()), ("fusion", FusionModel.fitted())):
        f = load(name)
        assert isinstance(f, FittedFile) and model is not None
        assert f.provenance.command.startswith("python -m evals.fit")
        assert f.provenance.data and all(h.startswith("sha256:") for h in f.provenance.data.values())
        # Only features of non-zero weight are stored.
        assert model.used == tuple(model.weights) and model.used
    assert set(RefusalModel.fitted().used) < set(FEATURES)
    assert set(FusionModel.fitted().used) < set(learned_fusion.FEATURES)


@pytest.fixture
def loaded(fake_settings):
    ingest(fake_settings, [DATA / "papers.jsonl", DATA / "papers.csv", DATA / "corpus.jsonl"])
    with open_index(fake_settings).use() as idx:
        yield idx


def _asked(idx, settings, question: str):
    """Hits and evidence stand-ins for ``question``, as the answerer hands them to ``signals``."""
    c = retrieve(idx, question, settings.retrieval, 5)
    floor = min(c.dense_scores.values(), default=0.0)
    ids = list(dict.fromkeys([*c.dense_scores, *c.lexical]))[:5]
    hits = [Hit(idx.papers[p], 0.0, c.dense_scores.get(p, floor), c.lexical.get(p, 0.0)) for p in ids]
    rng = np.random.default_rng(len(question))
    evidence = [SimpleNamespace(similarity=a, coverage=b, overlap=c) for a, b, c in rng.random((len(hits), 3))]
    return hits, evidence


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_each_signal_alone_is_what_all_give_and_the_model_reads_the_same(loaded, fake_settings, mode):
    settings = fake_settings.model_copy(update={"retrieval": fake_settings.retrieval.model_copy(update={"mode": mode})})
    model = RefusalModel.fitted()
    for question in QUESTIONS:
        hits, evidence = _asked(loaded, settings, question)
        every = signals(loaded, question, hits, evidence, loaded.vocabulary, settings)
        assert tuple(every) == FEATURES
        for name in FEATURES:
            assert signals(loaded, question, hits, evidence, loaded.vocabulary, settings, only=[name]) == {name: every[name]}
        used = signals(loaded, question, hits, evidence, loaded.vocabulary, settings, only=model.used)
        assert tuple(used) == model.used
        assert model.probability(used) == model.probability(every)  # bit for bit
    with pytest.raises(ValueError, match="stems"):
        signals(loaded, "q", [], [], loaded.vocabulary, settings, only=["stems"])


class _Spy:
    """An index that counts what is asked of it."""

    def __init__(self, index):
        self._index, self.calls = index, []

    def __getattr__(self, name):
        attr = getattr(self._index, name)
        if callable(attr) and name in ("dense", "bm25", "embed_query", "token_vectors_cached", "chunk_similarities"):

            def counted(*args, **kwargs):
                self.calls.append(name)
                return attr(*args, **kwargs)

            return counted
        return attr


def test_the_refusal_model_computes_only_its_features(loaded, fake_settings, monkeypatch):
    model = RefusalModel.fitted()
    assert model.used == ("sentence_top", "coverage_top", "late_mean", "late_low", "late_focus", "figure_focus",
                          "figure_sentence", "comparator_missing")
    stems = []
    monkeypatch.setattr(refusal, "content_stems", lambda text: stems.append(text) or [])
    monkeypatch.setattr(refusal, "content_sequence", lambda text: pytest.fail("bigram_coverage computed"))
    for mode in ("dense", "bm25"):  # each asks one more search for a signal the model does not use
        settings = fake_settings.model_copy(update={"retrieval": fake_settings.retrieval.model_copy(update={"mode": mode})})
        hits, evidence = _asked(loaded, settings, QUESTIONS[0])
        spy = _Spy(loaded)
        signals(spy, QUESTIONS[0], hits, evidence, loaded.vocabulary, settings, only=model.used)
        assert spy.calls == ["token_vectors_cached"] * 2  # the late features, once: question and paper
    # Only what the question asks for is stemmed (the figure features); no paper's text, no
    # question-wide coverage.
    assert set(stems) == {asked_for(QUESTIONS[0])}
    # A comparison question: what it compares with, and the first paper's text, no other's.
    stems.clear()
    monkeypatch.setattr(refusal, "content_stems", lambda text: stems.append(text) or content_stems(text))
    question = "do sparse experts beat GShard"
    hits, evidence = _asked(loaded, fake_settings, question)
    signals(loaded, question, hits, evidence, loaded.vocabulary, fake_settings, only=model.used)
    assert set(stems) == {asked_for(question), "GShard", paper_text(hits[0].paper)}


def test_fusion_features_alone_are_what_all_give_and_the_model_scores_the_same(loaded, fake_settings):
    model = FusionModel.fitted()
    assert model.used == ("dense_norm", "bm25_norm", "bm25_share", "coverage", "title_coverage")
    for question in QUESTIONS:
        c = retrieve(loaded, question, fake_settings.retrieval, 10)
        args = (loaded, c.query_vector, c.match, c.dense_scores, c.lexical)
        candidates, every = features(*args)
        assert tuple(every) == learned_fusion.FEATURES
        for name in learned_fusion.FEATURES:
            ids, alone = features(*args, only=[name])
            assert ids == candidates and list(alone) == [name] and np.array_equal(alone[name], every[name])
        spy = _Spy(loaded)
        ids, used = features(spy, *args[1:], only=model.used)
        assert ids == candidates and tuple(used) == model.used
        assert spy.calls == ["chunk_similarities"]  # once, for dense_norm
        assert np.array_equal(model.score(used), model.score(every))  # bit for bit
        # Features without the chunk cosines never read them.
        spy = _Spy(loaded)
        features(spy, *args[1:], only=["bm25_norm", "coverage", "in_bm25"])
        assert spy.calls == []
