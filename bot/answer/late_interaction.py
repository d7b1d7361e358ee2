"""Late interaction: how well each word of the question finds its match in a paper, read from
the embedding model's contextual token vectors (ColBERT's MaxSim, here with a model trained
for pooled sentence vectors).

A pooled vector says a paper is on the question's topic; an unanswerable question on a
neighbouring topic ("how does GRPO compute advantages w/o a critic?" against RL papers) is
on topic too. Matching word by word keeps the part of the question the paper has nothing
for: each content piece of the question takes its best cosine with any piece of the paper,
and the paper scores the mean of those (``late_mean``) and a low quantile (``late_low``: the
worst-matched fifth of the question). Alone, ``late_mean`` separates the 200 dev questions
better than any other signal (ROC AUC 0.941; sentence similarity 0.880, content-word
coverage 0.866); bot/answer/refusal.py feeds both to the refusal model.

Only the paper the answer leads with (retrieval's first) is read, all of it: one pass of the
model over each of its chunks as ingest cuts them (title in each; three in four bundled
abstracts are longer than the model's 256 tokens, and the asked detail is often in their last
sentences: reading the first 256 tokens only, AUC 0.951 against 0.960 on the first 160 dev
questions), ~70 ms a chunk on two cores, kept per process for the next question that finds
it. Reading the top 2, 3 or 5 papers and taking the best was no better on dev (leave-one-out
balanced accuracy 0.913, 0.905, 0.901 against 0.908, on the first 160)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from index.vocabulary import STOPWORDS, paper_text
from index.chunking import chunk_paper
from index.reader import LoadedIndex
from index.types import Paper, TokenVectors
from bot.types import Hit

_PIECE = re.compile(r"(##)?\w+")
LOW_QUANTILE = 0.2


def content(tv: TokenVectors) -> np.ndarray:
    """The vectors of the question's content pieces: words and word pieces, not stopwords or
    punctuation (all of them if that leaves none)."""
    keep = [i for i, t in enumerate(tv.tokens) if _PIECE.fullmatch(t) and t.lower() not in STOPWORDS]
    return tv.vectors[keep] if keep else tv.vectors


def pieces_of(tv: TokenVectors, wanted: set[str]) -> list[int]:
    """The pieces of ``tv`` that belong to one of the ``wanted`` words (lower case): a word is
    its first piece and the "##" pieces after it ("per" of "perplexity" is kept)."""
    words: list[list[int]] = []
    for i, t in enumerate(tv.tokens):
        if t.startswith("##") and words:
            words[-1].append(i)
        else:
            words.append([i])
    keep = {i for w in words if "".join(tv.tokens[i].removeprefix("##") for i in w).lower() in wanted for i in w}
    return sorted(keep)


def matches(question: np.ndarray, paper: TokenVectors) -> np.ndarray:
    """Each question piece's best cosine with any piece of the paper."""
    if not len(question) or not len(paper.vectors):
        return np.zeros(len(question), dtype=np.float32)
    return (question @ paper.vectors.T).max(axis=1)


def paper_vectors(index: LoadedIndex, paper: Paper) -> TokenVectors:
    """The paper's pieces and vectors, read chunk by chunk as ingest chunks it, joined. Two
    papers read as one (bot/answer/readings.py ``JoinedPaper``, its ``parts``) are each read so."""
    parts = getattr(paper, "parts", ())
    if parts:
        read = [paper_vectors(index, p) for p in parts]
        return TokenVectors(
            tokens=tuple(t for r in read for t in r.tokens), vectors=np.concatenate([r.vectors for r in read])
        )
    s = index.settings.index
    chunks = chunk_paper(paper, index.embedder.count_tokens, s.chunk_tokens, s.chunk_overlap_sentences)
    # A paper without an abstract has no chunks (ingest refuses those; an index may not): its title.
    read = index.token_vectors_cached([c.text for c in chunks] or [paper_text(paper)])
    if len(read) == 1:
        return read[0]
    return TokenVectors(
        tokens=tuple(t for r in read for t in r.tokens), vectors=np.concatenate([r.vectors for r in read])
    )


def late_features(
    index: LoadedIndex, question: str, hits: Sequence[Hit], focus: str = "", compared: str = ""
) -> dict[str, float]:
    """``late_mean`` and ``late_low`` of the first retrieved paper (0 without one);
    ``late_focus``: the mean match of the pieces of ``focus``'s content words (what the question
    asks for, bot/query/focus.py), ``late_mean`` when it names none; ``late_compared``: the worst
    match of the pieces of ``compared``'s content words (what it compares with,
    bot/query/comparison.py), 1 when it compares with nothing (every feature is 0 without a
    retrieved paper)."""
    if not hits:
        return {"late_mean": 0.0, "late_low": 0.0, "late_focus": 0.0, "late_compared": 0.0}
    (q,) = index.token_vectors_cached([question])
    paper = paper_vectors(index, hits[0].paper)
    scores = matches(content(q), paper)
    if not len(scores):
        return {"late_mean": 0.0, "late_low": 0.0, "late_focus": 0.0, "late_compared": 0.0}
    mean = float(scores.mean())
    # Its content words only: "optimizer and learning rate" asks for no "and".
    asked = pieces_of(q, set(re.findall(r"\w+", focus.lower())) - STOPWORDS)
    focused = float(matches(q.vectors[asked], paper).mean()) if asked else mean
    against = pieces_of(q, set(re.findall(r"\w+", compared.lower())) - STOPWORDS)
    worst = float(matches(q.vectors[against], paper).min()) if against else 1.0
    return {
        "late_mean": mean,
        "late_low": float(np.quantile(scores, LOW_QUANTILE)),
        "late_focus": focused,
        "late_compared": worst,
    }
