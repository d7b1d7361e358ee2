"""Honest splits: the dev and test questions share no paper and no question, the misspelt
copies follow their sets, and every fit or tuning script refuses held-out questions by their
content, whatever the file is called."""

import itertools
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
    DEV_ARXIV2,
    DEV_ARXIV2_PAPERS,
    DEV_ARXIV2_TYPOS,
    DEV_ARXIV3,
    DEV_ARXIV3_PAPERS,
    DEV_ARXIV3_TYPOS,
    DEV_ARXIV4,
    DEV_ARXIV4_PAPERS,
    DEV_ARXIV4_TYPOS,
    DEV_ARXIV5,
    DEV_ARXIV5_PAPERS,
    DEV_ARXIV5_TYPOS,
    DEV_ARXIV6,
    DEV_ARXIV6_PAPERS,
    DEV_ARXIV6_TYPOS,
    DEV_ARXIV_PAPERS,
    DEV_ARXIV_TYPOS,
    SEALED_TEST,
    TEST_PAPERS,
    load_questions,
)
from evals.splits import held_out_in, refuse_held_out

# Dev: the bundled corpus's questions and those on papers of their own (earlier rounds' test sets).
DEV = [q for f in (BUNDLED_DEV, DEV_ARXIV, DEV_ARXIV2, DEV_ARXIV3, DEV_ARXIV4, DEV_ARXIV5, DEV_ARXIV6) for q in load_questions(f)]
TEST = load_questions(BUNDLED_TEST)
SEALED = load_questions(SEALED_TEST)
# The test set and the next round's sealed one: neither may share a paper or a question with dev.
HELD = TEST + SEALED
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


def _near_copies(held, dev) -> list[tuple[str, str, set[str]]]:
    """Pairs across the sets that share most of their content words: a paraphrase does."""
    theirs = [(q.id, _words(q.question)) for q in dev]
    found = []
    for t in held:
        mine = _words(t.question)
        for qid, words in theirs:
            shared = mine & words
            if len(shared) / max(1, min(len(mine), len(words))) >= 0.6 and len(shared) >= 4:
                found.append((t.id, qid, shared))
    return found


def test_no_test_question_is_a_near_copy_of_a_dev_question():
    assert _near_copies(HELD, DEV) == []


def test_the_test_set_is_a_fresh_mix_of_question_kinds():
    kinds = {q.type for q in TEST}
    assert {"factual", "conceptual", "multi-paper", "unanswerable", "adversarial-language", "adversarial-injection"} <= kinds
    assert sum(q.type == "adversarial-language" for q in TEST) >= 7
    assert all(q.facts for q in TEST if q.type == "factual")


@pytest.mark.parametrize(
    "clean, typos",
    [
        (BUNDLED_DEV, BUNDLED_DEV_TYPOS),
        (DEV_ARXIV, DEV_ARXIV_TYPOS),
        (DEV_ARXIV2, DEV_ARXIV2_TYPOS),
        (DEV_ARXIV3, DEV_ARXIV3_TYPOS),
        (DEV_ARXIV4, DEV_ARXIV4_TYPOS),
        (DEV_ARXIV5, DEV_ARXIV5_TYPOS),
        (DEV_ARXIV6, DEV_ARXIV6_TYPOS),
        (BUNDLED_TEST, BUNDLED_TEST_TYPOS),
    ],
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
    assert held_out_in(DEV_ARXIV2, load_questions(DEV_ARXIV2)) == []
    assert held_out_in(DEV_ARXIV3, load_questions(DEV_ARXIV3)) == []
    assert held_out_in(DEV_ARXIV4, load_questions(DEV_ARXIV4)) == []
    assert held_out_in(DEV_ARXIV5, load_questions(DEV_ARXIV5)) == []
    assert held_out_in(DEV_ARXIV6, load_questions(DEV_ARXIV6)) == []
    assert len(SEALED) == 100 and held_out_in(SEALED_TEST, SEALED) == [q.id for q in SEALED]


def test_the_sealed_set_shares_no_paper_and_no_question_with_the_test_set():
    """The test set joins dev once it has run: the next round's set must hold up against it too."""
    test_ids = {g for q in TEST for g in q.gold_ids}
    assert [s.id for s in SEALED if set(s.gold_ids) & test_ids] == []
    assert _near_copies(SEALED, TEST) == []
    papers = {f: {json.loads(line)["id"] for line in f.read_text(encoding="utf-8").splitlines() if line.strip()}
              for f in (TEST_PAPERS, DEV_ARXIV_PAPERS, DEV_ARXIV2_PAPERS, DEV_ARXIV3_PAPERS, DEV_ARXIV4_PAPERS, DEV_ARXIV5_PAPERS, DEV_ARXIV6_PAPERS, SEALED_TEST.with_name("next_test_papers.jsonl"))}  # fmt: skip
    assert len(papers[SEALED_TEST.with_name("next_test_papers.jsonl")]) == 220
    # Every pair: the sealed set's, the test set's and each dev set's papers.
    assert [(a.name, b.name) for a, b in itertools.combinations(papers, 2) if papers[a] & papers[b]] == []


@pytest.mark.parametrize("module", ["evals.fit.refusal", "evals.fit.answer"])
def test_fit_scripts_refuse_a_renamed_copy_of_the_test_set(module, monkeypatch, tmp_path):
    import importlib

    copy = tmp_path / "questions.jsonl"
    shutil.copy(BUNDLED_TEST, copy)
    monkeypatch.setattr(sys, "argv", [module, "--dataset", str(copy)])
    with pytest.raises(SystemExit, match="held-out test questions"):
        importlib.import_module(module).main()
