"""BM25 as stored term counts: the scores equal bm25s' own, and an index updated
incrementally equals one built from scratch."""

from __future__ import annotations

import json

import numpy as np
import pytest

from index.lexical import LexicalIndex, _stemmer, english_stopwords, tokenize
from index.sources.registry import read_papers
from index.types import Paper

from index.settings import BUNDLED_CORPUS as CORPUS_DIR


@pytest.fixture(scope="module")
def papers() -> list[Paper]:
    out: dict[str, Paper] = {}
    for f in sorted(CORPUS_DIR.iterdir()):
        for p in read_papers(f):
            out.setdefault(p.id, p)
    return list(out.values())


QUERIES = [
    "multiplication-free language models",
    "graph neural networks for molecules molecules",  # a repeated term counts twice
    "reinforcement learning from human feedback",
    "zzzz unknownword",
    "the of and",  # stopwords only
]


def test_scores_equal_bm25s(papers):
    import bm25s

    texts = [p.text for p in papers]
    ours = LexicalIndex.build([p.id for p in papers], lambda i: texts[i], "english")
    theirs = bm25s.BM25()
    theirs.index(bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer("english"), show_progress=False),
                 show_progress=False)  # fmt: skip
    stopwords = english_stopwords()
    assert tokenize(texts[:50], _stemmer("english"), stopwords) == bm25s.tokenize(
        texts[:50], stopwords="en", stemmer=_stemmer("english"), return_ids=False, show_progress=False
    )  # the same tokens as bm25s
    for q in QUERIES:
        tokens = [t for t in tokenize([q], _stemmer("english"), stopwords)[0] if t in theirs.vocab_dict]
        expected = theirs.get_scores(tokens) if tokens else np.zeros(len(papers))
        np.testing.assert_allclose(ours.scores(q), expected, rtol=1e-5, atol=1e-5)
    assert ours.scores("multiplication-free language models").max() > 0


def test_incremental_equals_fresh(papers, tmp_path):
    """Add papers, change one, drop some: the updated index scores exactly like a fresh one,
    after a save and load; and only the new or changed papers are tokenized."""
    first, later = papers[:250], papers[250:]
    texts = {p.id: p.text for p in papers}
    base = LexicalIndex.build([p.id for p in first], lambda i: texts[first[i].id], "english")
    base.save(tmp_path / "a")
    base = LexicalIndex.load(tmp_path / "a", "english")

    changed = first[3].id
    texts[changed] = "An entirely new abstract about multiplication-free transformers."
    final = [p for p in first if p.id not in {first[0].id, first[10].id}] + later
    asked: list[int] = []

    def text(i: int) -> str:
        asked.append(i)
        return texts[final[i].id]

    ids = [p.id for p in final]
    updated = LexicalIndex.build(ids, text, "english", previous=base, unchanged=lambda pid: pid != changed)
    assert sorted(ids[i] for i in asked) == sorted([changed] + [p.id for p in later])
    updated.save(tmp_path / "b")
    updated = LexicalIndex.load(tmp_path / "b", "english")
    fresh = LexicalIndex.build(ids, lambda i: texts[ids[i]], "english")
    assert updated.paper_ids == fresh.paper_ids
    for q in QUERIES + ["multiplication-free transformers"]:
        np.testing.assert_allclose(updated.scores(q), fresh.scores(q), rtol=1e-6, atol=1e-6)
    assert json.loads((tmp_path / "b" / "paper_ids.json").read_text()) == ids
