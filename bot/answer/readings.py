"""The readings of a question that the refusal model judges; the question is as answerable as the
best-supported of them (bot/answer/answerer.py ``verdict``; ``python -m evals.fit.refusal`` sets
its thresholds on the same maximum).

1. **Whole**: the question as judged (``Query.judged``) against the retrieved papers, as ever.
2. **What it asks**: its asking sentences alone, when it says other things too
   (bot/query/asking.py): a question wrapped in a puzzle, a game's rules or chatter.
3. **Two papers together**: a question that asks for several papers that answer it between them
   (bot/query/several.py ``asks_for_parts``: "Two methods ...: one ..., the other ... What does
   each use?") read against its first two papers as one: every signal reads the first paper, and
   each of two papers has only its half of the question's words, so the question looks like a
   near miss of both. Not for a question whether anything covers one topic ("any work on
   federated LoRA?"): two papers that each have half of that topic do not answer it.

On the dev questions with their misspelt copies (2,253; the refusal model and thresholds fitted
before these readings), the second reading turns 29 of 54 wrapped prompt injections and 11 other
answerable questions from tentative or refused into confident answers, all citing a gold paper
first, and changes none of 14 unanswerable ones; the third turns 40 of the 138 multi-paper
questions it reads from tentative into confident answers and 5 from refused into tentative, and
changes none of the unanswerable ones it reads (reading it for every several-paper question, as
"any work on ..." too, also gave 2 unanswerable questions confident answers and 19 tentative ones).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from bot.answer.evidence import Evidence, gather_evidence
from bot.query.query import Query
from bot.query.several import asks_for_parts
from bot.types import Hit
from index.reader import LoadedIndex
from index.settings import AnswerSettings


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


def joined(first: Hit, second: Hit) -> Hit:
    """``first`` with ``second``'s title and abstract after its own: one paper to the signals."""
    a, b = first.paper, second.paper
    return replace(first, paper=replace(a, title=f"{a.title}; {b.title}", abstract=f"{a.abstract} {b.abstract}"))
