"""One channel's digest: the papers added since ``since`` that it was not sent before, ranked
against its history (bot/digest/rank.py), the ones close enough to send, best first. The bot's
scheduled and `/paper digest now` digests, `paperbot digest` and `python -m evals.digest` all
build it here."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np

from bot.digest.history import Signal, channel_history
from bot.digest.rank import DAY_S, Pick, rank
from bot.digest.store import DigestStore, Subscription
from index.reader import LoadedIndex
from index.settings import Settings


FIRST_DIGEST_DAYS = 7


@dataclass(frozen=True)
class Digest:
    channel: str
    since: float  # papers first seen after this were candidates
    until: float  # ...up to this (the generation's creation): the next digest starts here
    picks: list[Pick]
    candidates: int  # new papers ranked
    history: dict[str, int] = field(default_factory=dict)  # signals of each kind it learned from

    def learned_from(self) -> str:
        return learned_from(self.history)

    def to_json(self) -> dict:
        return {
            "channel": self.channel,
            "since": _iso(self.since),
            "papers": [
                {"paper_id": p.paper.id, "title": p.paper.display_title, "score": round(p.score, 4), "reason": p.reason,
                 "url": p.paper.url, "closeness": round(p.closeness, 4)}
                for p in self.picks
            ],  # fmt: skip
            "until": _iso(self.until),
            "candidates": self.candidates,
            "history": self.history,
        }


def learned_from(counts: dict[str, int]) -> str:
    """What a digest is picked by, for people: "8 questions, 11 cited papers and its keywords"."""
    names = (("question", "question"), ("cited", "cited paper"), ("liked", "liked paper"),
             ("disliked", "disliked paper"))  # fmt: skip
    parts = [f"{counts[k]} {name}{'s' if counts[k] != 1 else ''}" for k, name in names if counts.get(k)]
    if counts.get("keywords"):
        parts.append("its keywords")
    if not parts:
        return "nothing yet"
    return ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]


def first_digest_since(now: float) -> float:
    """Where a channel's first digest starts when it has no last one: what a weekly digest covers."""
    return now - FIRST_DIGEST_DAYS * DAY_S


def digest_since(sub: Subscription | None, now: float) -> float:
    """Where the channel's next digest starts: its last digest (or opting in), else a week back."""
    return sub.since if sub is not None and sub.since else first_digest_since(now)


def generation_time(index: LoadedIndex) -> float:
    """When the generation was published (its manifest's creation), in epoch seconds."""
    created = index.generation.manifest().get("created")
    return datetime.strptime(created, "%Y-%m-%dT%H:%M:%S%z").timestamp() if created else time.time()


def observe(index: LoadedIndex, store: DigestStore) -> float:
    """Note the generation's papers not seen before as added when it was created (once per
    generation and store); returns that time."""
    at = generation_time(index)
    store.observe(index.settings.index.name, list(index.papers), at, generation=index.generation.name)
    return at


def build_digest(
    settings: Settings, index: LoadedIndex, store: DigestStore, channel: str, since: float,
    limit: int | None = None, keywords: str | None = None, history: list[Signal] | None = None,
    now: float | None = None, until: float | None = None,
) -> Digest:  # fmt: skip
    """The digest ``channel`` would get now, of the papers first seen after ``since`` (and, with
    ``until``, at or before it). ``keywords`` default to its subscription's; ``history`` to what
    the data dir holds (bot/digest/history.py)."""
    s = settings.digest
    created = observe(index, store)
    until = created if until is None else min(until, created)
    sent = store.sent_ids(channel)
    history = channel_history(settings, channel, store) if history is None else history
    known = {sig.paper_id for sig in history if sig.paper_id}  # cited or voted on here: not news to it
    fresh = store.first_seen(settings.index.name, since, until)
    ids = [p for p in sorted(fresh, key=lambda p: (-fresh[p], p)) if p in index.papers and p not in sent and p not in known]
    candidates = [index.papers[p] for p in ids[: s.max_candidates]]
    if keywords is None:
        sub = store.subscription(channel)
        keywords = sub.keywords if sub else ""
    picks = rank(candidates, history, keywords, index.papers, index.embed_cached, index.chunk_similarities, s, now,
                 lexical=lambda text, ids: lexical_scores(index, text, ids))
    picks = [p for p in picks if p.closeness >= s.min_score][: limit or s.max_papers]
    return Digest(channel, since, max(until, since), picks, len(candidates), history_counts(history, keywords))


def history_counts(history: list[Signal], keywords: str) -> dict[str, int]:
    """How many signals of each kind (``keywords``: 1 when there are some)."""
    counts: dict[str, int] = {}
    for sig in history:
        counts[sig.kind] = counts.get(sig.kind, 0) + 1
    if keywords.strip():
        counts["keywords"] = 1
    return counts


def lexical_scores(index: LoadedIndex, text: str, paper_ids: list[str]) -> np.ndarray:
    """BM25 of ``text`` for each of ``paper_ids`` (0 for a paper it shares no term with)."""
    scores = index.lexical.match(text).scores
    rows = index.lexical_rows
    return np.array([float(scores[rows[p]]) if p in rows else 0.0 for p in paper_ids])


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if at else ""
