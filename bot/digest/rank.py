"""Scoring new papers against a channel's history (bot/digest/history.py).

Every history item is a vector (a question as the embedding model reads a query; a cited,
liked or disliked paper by its title and abstract; the channel's keywords) with a weight: its
kind's weight, halved every ``half_life_days`` of age. A candidate's score is a soft maximum of
its cosine similarity to the positive items,

    score = τ · log Σ_i w_i · exp(sim_i / τ)   (minus ``down_penalty`` × its closest disliked paper),

so a paper close to one question of a channel with several topics scores high (the channel is not
averaged into none of its topics), a paper close to several of its items scores higher, and a heavier
or more recent item counts for more (a weight w shifts the similarity by τ·log w). The keywords
weigh ``thin_history`` questions' worth, shared out over the channel's history: they lead while the
channel has asked little, and fade as it asks more. The reason given is the item that contributes
most. Whether a paper is close enough to send at all is its similarity to that closest item
(``min_score``), which does not grow with the size of the history."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bot.digest.history import Signal
from index.settings import DigestSettings
from index.types import Paper

DAY_S = 86_400.0
LEXICAL_KINDS = ("question", "keywords")  # items written by people, whose words are meant
MAX_ITEMS = 500
FORGET_HALF_LIVES = 8
Embed = Callable[[list[str]], np.ndarray]
# (vector, paper ids) -> each paper's chunk similarities (index/reader.py LoadedIndex.chunk_similarities)
ChunkSimilarities = Callable[[np.ndarray, list[str]], list[np.ndarray]]
# (text, paper ids) -> each paper's BM25 score for the text
Lexical = Callable[[str, list[str]], np.ndarray]


@dataclass(frozen=True)
class Pick:
    paper: Paper
    score: float  # the ranking score (see the module docstring)
    closeness: float  # cosine similarity to the history item it is closest to (what min_score reads)
    reason: str


@dataclass(frozen=True)
class _Item:
    text: str  # what is embedded
    weight: float
    signal: Signal
    label: str  # how the reason names it


def rank(
    candidates: list[Paper], history: list[Signal], keywords: str, papers: dict[str, Paper], embed: Embed,
    similarities: ChunkSimilarities, s: DigestSettings, now: float | None = None, lexical: Lexical | None = None,
) -> list[Pick]:  # fmt: skip
    """``candidates`` best first (all of them; the caller applies ``min_score`` and the limit).
    ``papers`` resolves the history's paper ids (a paper no longer in the index is left out). A
    candidate is read through the index's chunk vectors (its closest chunk to each item), so
    ranking thousands of new papers embeds nothing but the history."""
    now = time.time() if now is None else now
    if not candidates:
        return []
    positive, negative = _items(history, keywords, papers, s, now)
    if not positive:
        return []
    ids = [p.id for p in candidates]
    pos = _similarity(embed([i.text for i in positive]), ids, similarities)  # candidates x items
    closeness_of = pos.copy()
    if lexical is not None and s.lexical_weight > 0:
        # Words as well as meaning: a question's or the keywords' own terms in a paper (BM25,
        # scaled by the best candidate's score for that item).
        for j, item in enumerate(positive):
            if item.signal.kind in LEXICAL_KINDS:
                bm25 = lexical(item.text, ids)
                top = float(bm25.max()) if len(bm25) else 0.0
                if top > 0:
                    pos[:, j] += s.lexical_weight * bm25 / top
    weights = np.array([i.weight for i in positive])
    tau = s.temperature
    # log Σ w exp(sim/τ), computed stably.
    z = pos / tau + np.log(weights)
    top = z.max(axis=1, keepdims=True)
    score = tau * (top[:, 0] + np.log(np.exp(z - top).sum(axis=1)))
    best = z.argmax(axis=1)
    closeness = closeness_of[np.arange(len(candidates)), best]
    if negative:
        neg = _similarity(embed([i.text for i in negative]), ids, similarities)
        penalty = s.down_penalty * np.clip(neg * np.array([i.weight for i in negative]), 0, None).max(axis=1)
        # Only the ranking: a paper voted down once must not keep every later paper under min_score.
        score = score - penalty
    order = sorted(range(len(candidates)), key=lambda k: (-score[k], candidates[k].id))
    return [Pick(candidates[k], float(score[k]), float(closeness[k]), _reason(positive, z[k])) for k in order]


def _reason(items: list[_Item], z: np.ndarray) -> str:
    """The item that contributes most to a candidate's score; when that is the keywords, the
    history item that contributes most after them is named too."""
    order = np.argsort(-z)
    top = items[order[0]]
    if top.signal.kind != "keywords":
        return top.label
    asked = next((items[j] for j in order[1:] if items[j].signal.kind != "keywords"), None)
    return f"{top.label}; also {asked.label[0].lower()}{asked.label[1:]}" if asked is not None else top.label


def _similarity(items: np.ndarray, ids: list[str], similarities: ChunkSimilarities) -> np.ndarray:
    """Cosine of each candidate's closest chunk to each item (candidates x items)."""
    out = np.full((len(ids), len(items)), -1.0)
    for j, vector in enumerate(items):
        per_paper = similarities(vector, ids)
        lengths = np.array([len(x) for x in per_paper])
        has = lengths > 0
        if has.any():  # each paper's best chunk, in one pass over all of them
            flat = np.concatenate([x for x in per_paper if len(x)])
            starts = np.concatenate([[0], np.cumsum(lengths[has])[:-1]])
            out[has, j] = np.maximum.reduceat(flat, starts)
    return out


def _items(history: list[Signal], keywords: str, papers: dict[str, Paper], s: DigestSettings, now: float
           ) -> tuple[list[_Item], list[_Item]]:  # fmt: skip
    positive: list[_Item] = []
    negative: list[_Item] = []
    kind_weight = {"question": 1.0, "cited": s.cited_weight, "liked": s.voted_weight, "disliked": 1.0}
    # A year of questions: the newest MAX_ITEMS count, and nothing older than FORGET_HALF_LIVES
    # half-lives (weighing under 0.4% of a new one), so a digest's cost stays bounded.
    horizon = now - FORGET_HALF_LIVES * s.half_life_days * DAY_S
    history = [sig for sig in history if sig.at >= horizon][-MAX_ITEMS:]
    for sig in history:
        decay = 0.5 ** (max(0.0, now - sig.at) / DAY_S / s.half_life_days)
        weight = kind_weight[sig.kind] * decay
        if weight <= 0:
            continue
        if sig.kind == "question":
            positive.append(_Item(sig.text, weight, sig, f"Close to “{_short(sig.text)}”, asked here {_day(sig.at)}"))
            continue
        paper = papers.get(sig.paper_id)
        if paper is None:
            continue
        title = _short(paper.display_title)
        if sig.kind == "disliked":
            negative.append(_Item(paper.text, decay, sig, ""))
        elif sig.kind == "liked":
            positive.append(_Item(paper.text, weight, sig, f"Like “{title}”, which this channel liked {_day(sig.at)}"))
        else:
            positive.append(_Item(paper.text, weight, sig, f"Like “{title}”, cited in an answer here {_day(sig.at)}"))
    if keywords.strip():  # worth thin_history questions, shared out over those asked (thin_history >= 1)
        asked = sum(1 for i in positive if i.signal.kind == "question")
        weight = s.thin_history * s.thin_history / (s.thin_history + asked)
        positive.append(_Item(keywords, weight, Signal("keywords", now, text=keywords),
                              f"Matches this channel's keywords ({_short(keywords, 40)})"))  # fmt: skip
    return positive, negative


def _short(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _day(at: float) -> str:
    return f"on {day(at)}"


def day(at: float) -> str:
    """A day for people, "7 Dec 2026" (UTC)."""
    return time.strftime("%d %b %Y", time.gmtime(at)).lstrip("0")


__all__ = ["Pick", "rank"]
