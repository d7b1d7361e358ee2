"""The readings of a question that the refusal model judges; the question is as answerable as the
best-supported of them (bot/answer/answerer.py ``verdict``; ``python -m evals.fit.refusal`` sets
its thresholds on the same maximum).

1. **Whole**: the question as judged (``Query.judged``) against the retrieved papers, as ever.
2. **What it asks**: its asking sentences alone, when it says other things too
   (bot/query/asking.py): a question wrapped in a puzzle, a game's rules or chatter.
3. **Two papers together**: a question about distinct works that answer it between them, said in
   so many words (bot/query/several.py ``asks_for_parts``: "Two methods ...: one ..., the other
   ... What does each use?") read against its first two papers as one: every signal reads the
   first paper, and each of two papers has only its half of the question's words, so the
   question looks like a near miss of both. Never for a question that names no distinct works
   ("which papers use reinforcement learning to tune the learning rate of diffusion training?"):
   when this reading was tried for every question asking for several papers (but "any work
   on ..."), two papers with half the words each answered such topic combinations confidently
   (4 of 10 written to test it on the bundled corpus; only three dev questions were of that
   kind, and none changed).

What they changed on the dev questions: CHANGELOG.md (issue 25, ninth round).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from dataclasses import fields as dataclass_fields

from bot.answer.evidence import Evidence, gather_evidence
from bot.query.query import Query
from bot.query.several import asks_for_parts
from bot.types import Hit
from index.reader import LoadedIndex
from index.settings import AnswerSettings
from index.types import Paper


@dataclass(frozen=True)
class Reading:
    text: str  # the question's words the refusal model reads
    hits: list[Hit]  # the papers it reads them against, the first read most
    evidence: list[Evidence]


def readings(
    index: LoadedIndex, query: Query, hits: list[Hit], evidence: list[Evidence], s: AnswerSettings
) -> Iterator[Reading]:
    """The whole question first (``evidence``: bot/answer/evidence.judged_evidence), then its
    other readings, each worked out only when asked for (a question answered on its whole
    reading needs no other)."""
    yield Reading(query.judged, hits, evidence)
    if (asking := query.asking) is not None:
        if found := gather_evidence(index, asking, hits, s):
            yield Reading(asking, hits, found)
    if len(hits) > 1 and asks_for_parts(query.judged):
        together = [joined(hits[0], hits[1]), *hits[2:]]
        if found := gather_evidence(index, query.judged, together, s):
            yield Reading(query.judged, together, found)


@dataclass(frozen=True)
class JoinedPaper(Paper):
    """Two papers as one to the signals: their titles and abstracts one after the other, and
    ``parts`` for what reads each paper as indexed (their token vectors, cached per paper:
    bot/answer/late_interaction.py ``paper_vectors``)."""

    parts: tuple[Paper, ...] = ()


def joined(first: Hit, second: Hit) -> Hit:
    """``first`` with ``second``'s title and abstract after its own: one paper to the signals."""
    a, b = first.paper, second.paper
    fields = {f.name: getattr(a, f.name) for f in dataclass_fields(Paper)}
    fields.update(title=f"{a.title}; {b.title}", abstract=f"{a.abstract} {b.abstract}")
    return replace(first, paper=JoinedPaper(**fields, parts=(a, b)))
