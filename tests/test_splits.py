"""Honest splits: the dev and test questions share no paper and no question, the misspelt
copies follow their sets, and every fit or tuning script refuses held-out questions by their
content, whatever the file is called."""

import json
import re
import shutil
import sys
from pathlib import Path

import pytest

from evals.questions import (
    BUNDLED_DEV,
    BUNDLED_DEV_TYPOS,
    BUNDLED_TEST,
    BUNDLED_TEST_TYPOS,
    DEV_ARXIV,
    DEV_ARXIV_TYPOS,
    load_questions,
)
from evals.splits import held_out_in, refuse_held_out

# Dev: the bundled corpus's questions and those on papers of their own (the last round's test set).
DEV, TEST = load_questions(BUNDLED_DEV) + load_questions(DEV_ARXIV), load_questions(BUNDLED_TEST)
HELD = TEST
_WORD = re.compile(r"[a-z0-9]+")
_COMMON = {"what", "which", "many", "much", "does", "that", "with", "from", "this", "there", "have", "they",
           "their", "about", "into", "when", "work", "paper", "papers", "anyone", "anything"}  # fmt: skip


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) > 3 and w not in _COMMON}


def test_dev_and_test_share_no_gold_paper():
    dev_ids = {g for q in DEV for g in q.gold_ids}
    dev_titles = {t.lower() for q in DEV for t in q.gold_titles}
    for q in HELD:
        assert not set(q.gold_ids) & dev_ids, q.id
        assert not {t.lower() for t in q.gold_titles} & dev_titles, q.id


def test_no_test_question_is_a_near_copy_of_a_dev_question():
    """A paraphrase shares most of its content words; the closest pair across the sets must not."""
    dev = [(q.id, _words(q.question)) for q in DEV]
    for t in HELD:
        mine = _words(t.question)
        for qid, theirs in dev:
            overlap = len(mine & theirs) / max(1, min(len(mine), len(theirs)))
            assert overlap < 0.6 or len(mine & theirs) < 4, (t.id, qid, mine & theirs)


def test_the_test_set_is_a_fresh_mix_of_question_kinds():
    kinds = {q.type for q in TEST}
    assert {"factual", "conceptual", "multi-paper", "unanswerable", "adversarial-language", "adversarial-injection"} <= kinds
    assert sum(q.type == "adversarial-language" for q in TEST) >= 7
    assert all(q.facts for q in TEST if q.type == "factual")


@pytest.mark.parametrize(
    "clean, typos", [(BUNDLED_DEV, BUNDLED_DEV_TYPOS), (DEV_ARXIV, DEV_ARXIV_TYPOS), (BUNDLED_TEST, BUNDLED_TEST_TYPOS)]
)
def test_each_typo_set_misspells_its_own_set(clean, typos):
    ids = {q.id for q in load_questions(clean)}
    assert {q.id.removesuffix("-typo") for q in load_questions(typos)} <= ids


def test_the_guard_refuses_held_out_questions_by_content(tmp_path):
    assert held_out_in(BUNDLED_DEV, DEV) == []
    assert held_out_in(BUNDLED_TEST, TEST) == [q.id for q in TEST]
    renamed = tmp_path / "my_dev.jsonl"
    shutil.copy(BUNDLED_TEST, renamed)
    with pytest.raises(SystemExit, match="held-out test questions"):
        refuse_held_out(renamed, load_questions(renamed))
    # One test question slipped into a dev copy, re-spaced and re-cased, under a new id.
    mixed = tmp_path / "mixed.jsonl"
    leaked = {"id": "x1", "question": "  " + TEST[0].question.upper().replace(" ", "  "), "type": "factual",
              "gold_ids": list(TEST[0].gold_ids)}  # fmt: skip
    mixed.write_text(BUNDLED_DEV.read_text(encoding="utf-8") + json.dumps(leaked) + "\n", encoding="utf-8")
    assert held_out_in(mixed, load_questions(mixed)) == ["x1"]
    typos = load_questions(BUNDLED_TEST_TYPOS)
    assert held_out_in(BUNDLED_TEST_TYPOS, typos) == [q.id for q in typos]
    assert held_out_in(DEV_ARXIV, load_questions(DEV_ARXIV)) == []


@pytest.mark.parametrize("module", ["evals.fit.refusal", "evals.fit.answer"])
def test_fit_scripts_refuse_a_renamed_copy_of_the_test_set(module, monkeypatch, tmp_path):
    import importlib

    copy = tmp_path / "questions.jsonl"
    shutil.copy(BUNDLED_TEST, copy)
    monkeypatch.setattr(sys, "argv", [module, "--dataset", str(copy)])
    with pytest.raises(SystemExit, match="held-out test questions"):
        importlib.import_module(module).main()
