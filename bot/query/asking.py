"""What a question asks: the sentences of it that end in a question mark, when it says other
things too (for judging whether the corpus answers it; bot/query/focus.py ``asking_part`` is the
one question or clause that chooses the answer's sentences).

A text that asks beside other sentences may wrap its question in what is not about the papers at
all: orders to the bot the instruction patterns do not know (a puzzle to solve first, a game's
rules, a tool to call, tasks set beside it), chatter, or a setting the question needs. Read as a
whole, the words of the first kinds are words no paper has, and the question looks like one the
corpus cannot answer. The refusal model therefore also reads the asking sentences alone, and the
question is as answerable as the better-supported reading (bot/answer/readings.py, with what it
changed on dev): a setting that names the paper scores higher whole, a wrapper scores higher
without it."""

from __future__ import annotations

import re

from index.text import ends_in_abbreviation
from index.vocabulary import content_stems

# Asked alone, the asking sentences need this many content words to be judged on: "What AUC did it
# reach?" names too little to tell a near miss from an answer. Set a priori; on dev, 5 would leave
# four more answerable questions tentative, 3 would move two more from refused to tentative, and
# neither changes an unanswerable one.
MIN_ASKING_WORDS = 4
# A sentence ends at . ! ? (a closing quote or bracket stays with it) before a space, at a line
# break, and at the full stops of Chinese, Japanese and Devanagari.
_END = re.compile(r"(?<=[.!?\u061f])[\"'\u201d\u2019)\]]?\s+|\s*\n\s*|(?<=[\u3002\uff01\uff1f\u0964])\s*")
_ASKS = re.compile(r"[?\uff1f\u061f][!?\uff1f\u061f\"'\u201d\u2019)\]]*\s*$")  # "?", "?!", "？", Arabic "؟"


def sentences(text: str) -> list[str]:
    """``text``'s sentences, an abbreviation's full stop ("e.g. 90%") ending none."""
    found: list[str] = []
    start = 0
    for m in _END.finditer(text):
        piece = text[start : m.start()]
        # "(e.g. 90%)": the bracket before the abbreviation is not part of it. A one-letter word
        # ("let x = 5.", "you are player B.") ends a sentence here: questions cite no initials.
        last = re.sub(r"(^|\s)[(\[\"'\u201c\u2018]+(?=\S+$)", r"\1", piece.rstrip())
        if not piece.strip() or (last.endswith(".") and ends_in_abbreviation(last, initials=False)):
            continue
        found.append(text[start : m.end()].strip())
        start = m.end()
    if text[start:].strip():
        found.append(text[start:].strip())
    return [s for s in found if re.search(r"\w", s)]


def asking_sentences(text: str) -> str | None:
    """The sentences of ``text`` that ask, when it has others too and they name enough to be
    judged alone (``MIN_ASKING_WORDS`` content words); else None."""
    parts = sentences(text)
    asking = [p for p in parts if _ASKS.search(p)]
    if not asking or len(asking) == len(parts):
        return None
    part = " ".join(asking)
    return part if len(content_stems(part)) >= MIN_ASKING_WORDS else None
