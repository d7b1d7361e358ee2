"""An LLM answer streamed into Slack a sentence at a time, and only sentences that passed
the grounding check.

``GroundedStream`` is the ``on_token`` sink of ``Answerer.__call__``: it collects the
model's raw text and, each time a sentence is complete (a stop, its citation markers, and
the next sentence begun), checks that sentence with bot/answer/grounding.py against the abstracts
the model was given, exactly as the whole answer is checked afterwards. A kept sentence is
sent on at once with its markers renumbered by first use (as ``grounding.assemble`` does);
an uncited or unsupported one never reaches Slack. ``finish`` checks the last sentence
and returns the streamed text with its citations, so the sources that end the message
match the markers the reader saw. Slack's API (chat_stream) stays in bot/slack/reply.py."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.answer.extractive import CAVEAT
from bot.answer.grounding import CheckedSentence, Embed, assemble, check_sentences
from bot.prompts import NOT_STATED, verdict
from index.types import Paper
from bot.query.query import Query
from bot.types import Citation, Hit

if TYPE_CHECKING:
    from bot.answer.answerer import Answerer
    from bot.answer.evidence import Evidence

# A sentence is complete once its stop (and any markers after it) is followed by whitespace
# and the start of the next sentence. A "[" is not a start: "claim. [1]" may still be
# getting its marker.
_END = re.compile(r"[.!?](?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])*\s+(?=[A-Z0-9(\"“])")
# Stops that do not end a sentence (as index/text.split_sentences treats them).
_NOT_AN_END = re.compile(r"(?:\b(?:e\.g|i\.e|et al|etc|vs|cf|fig|eq|approx|resp)|\b[A-Za-z])\.$", re.IGNORECASE)


class GroundedStream:
    """Receives the model's text deltas; calls ``emit`` with each grounded sentence."""

    def __init__(self, embed: Embed, support_threshold: float, emit: Callable[[str], None],
                 on_first_token: Callable[[], None] | None = None, limit: int | None = None) -> None:  # fmt: skip
        self.context: list[Paper] | None = None  # the numbered abstracts; set before the first token
        self.raw = ""
        self.emitted: list[str] = []  # what reached Slack
        self.held: list[str] = []  # grounded sentences past ``limit`` characters: for a later message
        self._embed, self._threshold, self._emit = embed, support_threshold, emit
        self._first, self._limit = on_first_token, limit
        self._cursor = 0  # raw[:cursor] is decided
        self._kept: list[CheckedSentence] = []
        self.not_stated = False  # the model began with NOT_STATED: a tentative answer
        self._renumber: dict[int, int] = {}

    def __call__(self, delta: str) -> None:
        if not self.raw and self._first is not None:
            self._first()
        self.raw += delta
        if self.context is None:
            return
        for m in _END.finditer(self.raw, self._cursor):
            if _NOT_AN_END.search(self.raw[self._cursor : m.start() + 1]):
                continue
            self._decide(self.raw[self._cursor : m.end()])
            self._cursor = m.end()

    def finish(self) -> tuple[str, tuple[Citation, ...]]:
        """Decide the last sentence; the streamed (and held) text and its citations."""
        if self.context is not None and self.raw[self._cursor :].strip():
            self._decide(self.raw[self._cursor :])
            self._cursor = len(self.raw)
        text, citations = assemble(self._kept, self.context or [])
        return text, citations

    @property
    def streamed(self) -> bool:
        return bool(self.emitted)

    def _decide(self, segment: str) -> None:
        assert self.context is not None
        said, rest = verdict(segment) if not self._kept else (None, segment)
        if said is not None:
            # The model's verdict: never shown as a sentence. NOT_STATED (the abstracts do not
            # state the answer): the caveat, not a sentence, leads what reaches Slack.
            segment = rest
            self.not_stated = self.not_stated or said == NOT_STATED
        for c in check_sentences(segment, self.context, self._embed, self._threshold):
            if not c.kept:
                continue
            self._kept.append(c)
            for n in c.cited:
                self._renumber.setdefault(n, len(self._renumber) + 1)
            body, stop = re.match(r"(.*?)([.!?]*)$", c.text, re.DOTALL).groups()
            sentence = f"{body} {''.join(f'[{self._renumber[n]}]' for n in c.cited)}{stop}"
            if self.held or (self._limit is not None and len(" ".join(self.emitted + [sentence])) > self._limit):
                self.held.append(sentence)
            else:
                self.emitted.append(sentence)
                first = f"_Tentative: {CAVEAT}_\n\n{sentence}" if self.not_stated else sentence
                self._emit(first if len(self.emitted) == 1 else " " + sentence)


def streaming_answerer(answerer: Answerer) -> Answerer:
    """``answerer``, but a GroundedStream given as ``on_token`` learns which abstracts the model
    is shown (the retrieved hits, numbered as in the prompt) before the first token.

    The hits are known only inside the answerer, between retrieval and generation; this wraps
    that one step (``Answerer._generated``) on a shallow copy, leaving the original as it was."""
    clone = copy.copy(answerer)
    generated = clone._generated

    def with_context(query: Query, hits: list[Hit], evidence: list[Evidence], on_token, **kw):
        if isinstance(on_token, GroundedStream):
            on_token.context = [h.paper for h in hits]
        return generated(query, hits, evidence, on_token, **kw)

    clone._generated = with_context  # type: ignore[method-assign]
    return clone
