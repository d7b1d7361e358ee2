"""Adding papers from Slack: "add" followed only by arXiv ids or links (``@paperbot add 2401.01234``,
``/paper add https://arxiv.org/abs/2401.01234``, the same in a DM or the assistant view) fetches
them from arXiv's export API and ingests them (index/feed/run.py ``add_arxiv``); the living index
serves them to the next question, with no restart. Anything else after "add" ("add two numbers?")
is an ordinary question.

An add is a request like a question (bot/slack/app.py: logged, queued, acked at once; answered
once across retries and restarts). Its reply (bot/slack/reply.py) is one line per paper with its
title, or what to fix when arXiv does not know an id or cannot be reached."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.slack.blocks import paper_link
from index.errors import BadInput, PaperbotError
from index.feed.ids import ArxivRef, parse_refs
from index.feed.run import add_arxiv
from index.settings import Settings
from index.types import Paper

if TYPE_CHECKING:
    from index.reader import LiveIndex, LoadedIndex

log = logging.getLogger("paperbot.slack")
WORD = "add"


def add_refs(text: str) -> list[str] | None:
    """The ids and links ``text`` asks to add, as written, when it is an add request; None for a
    question. "add" alone is an add request too: its reply says how to name papers."""
    word, *rest = text.split() or [""]
    if word.lower() != WORD:
        return None
    if rest:
        try:
            parse_refs(rest)
        except BadInput:
            return None
    return rest


def adding(refs: list[str]) -> str:
    """What an add request's ack (after an emoji) and its loading status say."""
    try:
        named = ", ".join(ref.asked for ref in parse_refs(refs))
    except BadInput:
        named = "papers"
    return f"Adding {named} from arXiv…"


def add_papers(settings: Settings, index: LiveIndex | LoadedIndex, refs: list[str]) -> str:
    """Add the papers ``refs`` name to the index ``index`` reads and say what became of each; or,
    when one is not an id, arXiv does not know it or arXiv cannot be reached (a BadInput, a
    FeedError: any PaperbotError, whose message says what to do), that message: nothing was added."""
    try:
        asked = parse_refs(refs)
        before = {ref.id: index.papers.get(ref.id) for ref in asked}
        add_arxiv(settings, refs, log=log.info)
    except PaperbotError as e:
        log.warning("adding %s: %s", " ".join(refs), e)
        return f":warning: {e}"
    now = index.papers  # moves the index to the generation the add published, for the next question
    return "\n".join(_line(ref, before[ref.id], now.get(ref.id)) for ref in asked)


def _line(ref: ArxivRef, before: Paper | None, after: Paper | None) -> str:
    paper = after or before
    link = paper_link(paper) if paper else f"<https://arxiv.org/abs/{ref.id}|{ref.id}>"
    if before is None:
        return f":white_check_mark: Added {link} (new; now searchable)"
    if after is not None and after != before:
        version = "the latest version" if ref.version is None else f"v{ref.version}"
        return f":arrows_counterclockwise: Updated {link} to {version} (now searchable)"
    return f":ballot_box_with_check: {link} is already in the index"
