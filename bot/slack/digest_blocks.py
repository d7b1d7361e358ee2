"""Block Kit for a digest: one message, a pure function of the Digest (bot/digest/build.py).

A header, a context line saying what the papers were picked from, then per paper a section (the
linked title, first authors and categories, and the one-line reason) with an "Ask about this"
button, and Slack's feedback buttons under it; at most 50 blocks and inside the text limit."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from bot.digest.build import Digest
from bot.digest.rank import day
from bot.slack.blocks import DOWN, MAX_BLOCKS, TEXT_LIMIT, UP, escape, paper_link, text_size

ASK_ACTION = "digest_ask"
VOTE_ACTION = "digest_feedback"
VOTE_BLOCK = "digest_vote"  # + the paper's position
HEAD_BLOCKS = 2  # header and context
BLOCKS_PER_PAPER = 2  # the paper and its feedback buttons


def digest_blocks(d: Digest, when: datetime | None = None) -> list[dict[str, Any]]:
    when = when or datetime.now(timezone.utc)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f":newspaper: New papers for this channel, {day(when.timestamp())}"}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": _picked_from(d)}]},
    ]  # fmt: skip
    for i, pick in enumerate(d.picks):
        paper = pick.paper
        byline = f"\n_{escape(paper.byline)}_" if paper.byline else ""
        section = {
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"*{paper_link(paper)}*{byline}\n:bulb: {escape(pick.reason)}"[:2900]},
            "accessory": {"type": "button", "action_id": ASK_ACTION, "value": ask_value(paper.id, paper.display_title),
                          "text": {"type": "plain_text", "text": "Ask about this"},
                          "accessibility_label": f"Ask paperbot about {paper.display_title[:60]}"},
        }  # fmt: skip
        vote = {
            "type": "context_actions", "block_id": f"{VOTE_BLOCK}_{i}",
            "elements": [{
                "type": "feedback_buttons", "action_id": VOTE_ACTION,
                "positive_button": {"text": {"type": "plain_text", "text": "Relevant"}, "value": f"{UP}:{paper.id}",
                                    "accessibility_label": "More papers like this one"},
                "negative_button": {"text": {"type": "plain_text", "text": "Not relevant"}, "value": f"{DOWN}:{paper.id}",
                                    "accessibility_label": "Fewer papers like this one"},
            }],
        }  # fmt: skip
        if len(blocks) + BLOCKS_PER_PAPER > MAX_BLOCKS or sum(map(text_size, [*blocks, section])) > TEXT_LIMIT:
            break
        blocks += [section, vote]
    return blocks


def ask_value(paper_id: str, title: str) -> str:
    """An "Ask about this" button's value: the paper and its title, so that the click is handled
    without reading the index on the ack's thread (Slack allows 2,000 characters)."""
    return json.dumps({"paper_id": paper_id, "title": title[:300]})


def asked_paper(value: str) -> tuple[str, str] | None:
    """(paper id, title) of an "Ask about this" value; None if it is not one."""
    try:
        d = json.loads(value)
        return str(d["paper_id"]), str(d["title"])
    except (ValueError, TypeError, KeyError):
        return None


def shown_papers(blocks: list[dict[str, Any]]) -> list[str]:
    """The ids of the papers ``blocks`` carry, in order (all of the digest's unless they did not fit)."""
    values = [b["accessory"]["value"] for b in blocks if b.get("accessory", {}).get("action_id") == ASK_ACTION]
    return [asked[0] for asked in map(asked_paper, values) if asked]


def digest_text(d: Digest) -> str:
    """Plain text for notifications and clients that do not render blocks."""
    titles = "; ".join(p.paper.display_title for p in d.picks)
    return f"New papers for this channel: {titles}"[:300]


def _picked_from(d: Digest) -> str:
    return (f"{len(d.picks)} of {d.candidates} papers added since the last digest, picked by what this channel "
            f"asked ({d.learned_from()}). Vote to teach it; *Ask about this* answers in this thread.")  # fmt: skip
