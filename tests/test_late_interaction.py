"""Late interaction (bot/answer/late_interaction.py): each question word's best match in the first
paper, with the fake embedder (every word its own vector: a match is the same word)."""

import numpy as np

from bot.answer.late_interaction import content, late_features, matches
from index.embedding.embedders import FakeEmbedder
from index.settings import Settings
from index.types import Paper
from bot.types import Hit


class _Index:
    """What late_features asks of an index: settings, the embedder's token counts and token
    vectors (cached, in a real one), cut at ``max_words`` words as the model cuts at its
    max tokens."""

    def __init__(self, chunk_words: int = 256) -> None:
        self.asked: list[list[str]] = []
        self.settings = Settings(index={"embedder": "fake", "chunk_tokens": chunk_words, "max_tokens": chunk_words})
        self.embedder = FakeEmbedder()

    def token_vectors_cached(self, texts):
        self.asked.append(texts)
        cut = [" ".join(t.split()[: self.settings.index.max_tokens]) for t in texts]
        return self.embedder.token_vectors(cut)


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
    assert [len(texts) for texts in index.asked] == [1, 1, 1, 1]  # the question, the first paper's one chunk
    # What it compares with: its worst-matched word; 1 when it compares with nothing.
    assert late_features(index, "pruning heads without gradients vs GRPO", [first], compared="GRPO")["late_compared"] < 0.5
    assert late_features(index, "pruning heads vs attention", [first], compared="attention")["late_compared"] > 0.99
    assert late_features(index, "pruning attention heads", [first])["late_compared"] == 1.0
    assert late_features(index, "anything", []) == {"late_mean": 0.0, "late_low": 0.0, "late_focus": 0.0, "late_compared": 0.0}


def test_matches_of_nothing():
    empty = FakeEmbedder().token_vectors([""])[0]
    q = np.ones((3, FakeEmbedder.dim), dtype=np.float32)
    assert matches(q, empty).tolist() == [0.0, 0.0, 0.0]


def test_a_long_abstract_is_read_to_its_end():
    """The model reads at most its max tokens; the asked detail of a long abstract is often in
    its last sentences, so the paper is read chunk by chunk as ingest chunks it."""
    index = _Index(chunk_words=40)
    filler = " ".join(f"Sentence {i} says nothing about heads and layers." for i in range(20))
    long = _hit("Pruning", f"{filler} Finally we distil the pruned model into a student.")
    found = late_features(index, "distil student", [long])
    assert found["late_mean"] > 0.99
    chunks = index.asked[-1]
    assert len(chunks) > 3 and all(len(c.split()) <= 40 for c in chunks)


def test_a_paper_without_an_abstract_is_read_by_its_title():
    """Ingest refuses an empty abstract, yet an index may hold one: it has no chunks."""
    index = _Index()
    found = late_features(index, "pruning heads", [_hit("Pruning heads", "")])
    assert found["late_mean"] > 0.99


def test_the_asked_for_words_are_matched_on_their_own():
    """``late_focus``: how well what the question asks for (bot/query/focus.py) finds its match,
    apart from the topic words every neighbouring paper shares; without a focus, ``late_mean``."""
    index = _Index()
    paper = [_hit("Pruning heads", "We prune attention heads and report perplexity on held-out text.")]
    named = late_features(index, "what perplexity did pruning attention heads reach", paper, "perplexity")
    assert named["late_focus"] > 0.99
    missing = late_features(index, "what throughput did pruning attention heads reach", paper, "throughput")
    assert missing["late_focus"] < 0.5 < missing["late_mean"]
    plain = late_features(index, "pruning attention heads", paper)
    assert plain["late_focus"] == plain["late_mean"]
    # Only its content words: "or" (not in the abstract) asks for nothing.
    both = late_features(index, "what perplexity or heads did pruning reach", paper, "perplexity or heads")
    assert both["late_focus"] > 0.99


def test_pieces_of_a_word_belong_to_it():
    from index.types import TokenVectors
    from bot.answer.late_interaction import pieces_of

    tv = TokenVectors(tokens=("what", "per", "##plex", "##ity", "did", "wiki", "##text"), vectors=np.zeros((7, 2)))
    assert pieces_of(tv, {"perplexity"}) == [1, 2, 3]
    assert pieces_of(tv, {"wikitext", "perplexity"}) == [1, 2, 3, 5, 6]
    assert pieces_of(tv, {"text"}) == []
