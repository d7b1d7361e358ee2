"""Block Kit for an Answer: a pure function of the data, like the terminal rendering.

The answer's prose goes in ``markdown`` blocks (standard markdown, which Slack renders
for AI apps as the model wrote it; the same text a stream carries), the sources in
mrkdwn sections (links with titles), and the end in a ``context_actions`` block with
Slack's ``feedback_buttons``, whose values carry the run id.

Slack limits: 3,000 characters per section text, 50 blocks and about 12k characters of
text per message; long answers and long source lists are split to stay inside them, and
``answer_messages`` continues what does not fit in further messages."""

from __future__ import annotations

from typing import Any

from bot.types import Answer

SECTION_LIMIT = 2900  # under Slack's 3,000, leaving room for markup
MAX_BLOCKS = 50
# Slack rejects a message whose text passes about 12k characters (msg_blocks_too_long).
TEXT_LIMIT = 11_000


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _sections(text: str) -> list[dict[str, Any]]:
    """Split on sentence ends or spaces so no section exceeds the limit."""
    out, rest = [], text
    while rest:
        if len(rest) <= SECTION_LIMIT:
            cut = len(rest)
        else:
            cut = max(rest.rfind(". ", 0, SECTION_LIMIT) + 1, rest.rfind(" ", 0, SECTION_LIMIT), 1)
        out.append({"type": "section", "text": {"type": "mrkdwn", "text": rest[:cut].strip()}})
        rest = rest[cut:].lstrip()
    return out


def _markdown(text: str) -> list[dict[str, Any]]:
    """Prose as markdown blocks, cut like sections so a long answer splits across messages."""
    return [{"type": "markdown", "text": b["text"]["text"]} for b in _sections(text)]


def paper_link(paper) -> str:
    """The paper's title (mrkdwn) linked to its page where it has one."""
    title = escape(paper.display_title)
    return f"<{paper.url}|{title}>" if paper.url else f"*{title}*"


def _body(a: Answer) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if a.notice:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f":warning: {escape(a.notice)}"}]})
    if a.refused:
        blocks += _sections(":mag: " + escape(a.text))
        nearest = "\n".join(f"• {paper_link(h.paper)}" for h in a.hits)
        if nearest:
            blocks += _sections("*Nearest papers (not close enough to cite):*\n" + nearest)
    else:
        if a.caveat:
            blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f":grey_question: *Tentative:* {escape(a.caveat)}"}]})
        blocks += _markdown(a.text)
        blocks += source_blocks(a)
    return blocks


def source_blocks(a: Answer) -> list[dict[str, Any]]:
    """The sources list under an answer (also what a streamed answer ends with)."""
    blocks: list[dict[str, Any]] = [{"type": "divider"}]
    for c in a.citations:
        byline = f"\n_{escape(c.paper.byline)}_" if c.paper.byline else ""
        blocks += _sections(f"*[{c.n}]* {paper_link(c.paper)}{byline}\n> {escape(c.evidence)}")
    return blocks


FEEDBACK_ACTION = "feedback"
FEEDBACK_BLOCK = "feedback"
UP, DOWN = "up", "down"


def feedback_vote(value: str) -> tuple[str, int] | None:
    """(run id, +1/-1) from a clicked feedback button's value ("up:<run id>"); None if foreign."""
    kind, _, run_id = value.partition(":")
    return (run_id, 1 if kind == UP else -1) if kind in (UP, DOWN) and run_id else None


def tail_blocks(a: Answer) -> list[dict[str, Any]]:
    """Feedback buttons and the context line (backend, time, run id): the end of an answer."""
    context = " · ".join(p for p in (a.backend, f"{a.timings.get('total', 0):.1f}s", f"run `{a.run_id}`") if p)

    def button(text: str, kind: str, label: str) -> dict[str, Any]:
        return {"text": {"type": "plain_text", "text": text}, "value": f"{kind}:{a.run_id}",
                "accessibility_label": label}  # fmt: skip

    return [
        {
            "type": "context_actions",
            "block_id": FEEDBACK_BLOCK,
            "elements": [{
                "type": "feedback_buttons", "action_id": FEEDBACK_ACTION,
                "positive_button": button("Good answer", UP, "This answer was helpful"),
                "negative_button": button("Bad answer", DOWN, "This answer was wrong or unhelpful"),
            }],
        },  # fmt: skip
        {"type": "context", "elements": [{"type": "mrkdwn", "text": context}]},
    ]


def answer_blocks(a: Answer) -> list[dict[str, Any]]:
    """One message's blocks; what passes 50 blocks is cut (answer_messages continues instead)."""
    blocks, tail = _body(a), tail_blocks(a)
    if len(blocks) + len(tail) > MAX_BLOCKS:
        blocks = blocks[: MAX_BLOCKS - len(tail) - 1] + _sections("_(more sources omitted)_")
    return blocks + tail


def text_size(block: dict[str, Any]) -> int:
    """Characters of text a block carries, as Slack counts them towards a message's limit."""
    text = block.get("text", "")
    own = len(text) if isinstance(text, str) else len(text.get("text", ""))
    return own + sum(len(e["text"]) for e in block.get("elements", ()) if isinstance(e.get("text"), str))


def pack(body: list[dict[str, Any]], tail: list[dict[str, Any]], text_limit: int = TEXT_LIMIT,
         max_blocks: int = MAX_BLOCKS) -> list[list[dict[str, Any]]]:
    """``body`` then ``tail`` as messages of at most ``max_blocks`` blocks and ``text_limit``
    characters of text each, in order, ``tail`` whole on the last."""
    room_blocks, room_text = max_blocks - len(tail), text_limit - sum(map(text_size, tail))
    messages: list[list[dict[str, Any]]] = [[]]
    size = 0
    for block in body:
        n = text_size(block)
        if messages[-1] and (len(messages[-1]) >= room_blocks or size + n > room_text):
            messages.append([])
            size = 0
        messages[-1].append(block)
        size += n
    messages[-1] += tail
    return messages


def repack(messages: list[list[dict[str, Any]]], text_limit: int) -> list[list[dict[str, Any]]]:
    """The same blocks as ``messages`` split again within ``text_limit`` (after Slack refused
    one as too big), the feedback tail still last."""
    blocks = [b for m in messages for b in m]
    end = next((i for i, b in enumerate(blocks) if b.get("block_id") == FEEDBACK_BLOCK), len(blocks))
    return pack(blocks[:end], blocks[end:], text_limit)


def answer_messages(a: Answer, text_limit: int = TEXT_LIMIT,
                    lead: list[dict[str, Any]] | None = None) -> list[list[dict[str, Any]]]:  # fmt: skip
    """The whole answer as messages within Slack's limits (50 blocks, ``text_limit`` characters
    of text each): the first message (``lead`` blocks first), then its continuations, the
    feedback tail on the last."""
    return pack([*(lead or ()), *_body(a)], tail_blocks(a), text_limit)


def stream_ending(a: Answer, used: int, text_limit: int = TEXT_LIMIT
                  ) -> tuple[list[dict[str, Any]], list[list[dict[str, Any]]]]:  # fmt: skip
    """The blocks a streamed answer stops with (its sources, then the feedback tail, within
    what ``used`` characters of streamed text leave of ``text_limit``), and the messages that
    carry the sources that did not fit. The tail is never what gets cut."""
    tail = tail_blocks(a)
    room = text_limit - used - sum(map(text_size, tail))
    first, *rest = pack(source_blocks(a), [], max(room, 0), MAX_BLOCKS - len(tail))
    if first and sum(map(text_size, first)) > room:  # not even one source fits: all follow
        first, rest = [], [first, *rest]
    return first + tail, repack(rest, text_limit) if rest else []


def fallback_text(a: Answer) -> str:
    """Plain text for notifications and clients that do not render blocks."""
    return ((f"Tentative: {a.caveat} " if a.caveat else "") + a.text)[:300]
