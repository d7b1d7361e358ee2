"""Late interaction (bot/late_interaction.py): each question word's best match in the first
paper, with the fake embedder (every word its own vector: a match is the same word)."""

import numpy as np

from bot.late_interaction import content, late_features, matches
from index.embed import FakeEmbedder
from index.types import Hit, Paper


class _Index:
    """What late_features asks of an index: token vectors (cached, in a real one)."""

    def __init__(self) -> None:
        self.asked: list[list[str]] = []

    def token_vectors_cached(self, texts):
        self.asked.append(texts)
        return FakeEmbedder().token_vectors(texts)


def _hit(title: str, abstract: str) -> Hit:
    return Hit(paper=Paper(id=title, title=title, abstract=abstract), score=1.0)


def test_stopwords_and_punctuation_are_not_matched():
    tv = FakeEmbedder().token_vectors(["how does the pruning of heads work?"])[0]
    assert len(content(tv)) == 2  # "pruning", "heads"; "how", "does", "the", "of", "work" are STOPWORDS
    none = FakeEmbedder().token_vectors(["the of"])[0]
    assert len(content(none)) == len(none.tokens)  # nothing but stopwords: all of them


def test_the_words_a_paper_lacks_lower_its_score_and_only_the_first_paper_is_read():
    index = _Index()
    first = _hit("Pruning heads", "We prune attention heads without gradients.")
    other = _hit("Critic-free advantages", "GRPO computes group relative advantages without a critic.")
    covered = late_features(index, "pruning attention heads without gradients", [first, other])
    assert covered["late_mean"] > 0.99 and covered["late_low"] > 0.99
    partly = late_features(index, "GRPO advantages for pruning heads", [first, other])
    assert partly["late_mean"] < 0.7 and partly["late_low"] < 0.5
    assert all(len(texts) == 2 for texts in index.asked)  # the question and the first paper
    assert late_features(index, "anything", []) == {"late_mean": 0.0, "late_low": 0.0}


def test_matches_of_nothing():
    empty = FakeEmbedder().token_vectors([""])[0]
    q = np.ones((3, FakeEmbedder.dim), dtype=np.float32)
    assert matches(q, empty).tolist() == [0.0, 0.0, 0.0]
