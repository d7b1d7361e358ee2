"""What a question asks for: the noun phrase between its wh-word and its verb ("What **top-1
accuracy** did ...", "How many **training tokens** were ...", "Which **base checkpoint** did
they use"). A neighbouring paper is often on the question's topic yet never names the asked
thing: the refusal model reads how well the first paper matches those words (``late_focus``,
bot/answer/late_interaction.py), and sentence choice favours the sentences that name them.

Built from English question grammar, not from any question set: a wh-word (what, which, how
many, how much), an optional copula and article, then at most ``MAX_WORDS`` words up to the
first auxiliary verb, preposition, relative word, pronoun or determiner that starts the rest of
the clause. Known gaps (left as fitted; see CHANGELOG): a hyphenated focus that starts with one of
those words ("in-context"), "what's", a question that ends at its focus ("How many GPUs?")."""

from __future__ import annotations

import re

from index.vocabulary import STOPWORDS

MAX_WORDS = 6  # a longer span is the clause itself, not the thing asked for
_AUX = (
    "did|does|do|was|were|is|are|has|have|had|can|could|would|will|should|might|may|must|"
    "of|for|in|on|at|by|from|with|when|that|which|who|whose|where|to|than|between|after|before|over|under|"
    "they|it|we|the|this|these|those|its|their"
)
_ASKED = re.compile(
    r"\b(?:what|which|how\s+many|how\s+much)\s+"
    r"(?:(?:is|are|was|were)\s+)?(?:(?:the|a|an)\s+)?"
    rf"(?P<focus>(?:(?!(?:{_AUX})\b)[^\s?,;:!]+\s+){{1,{MAX_WORDS}}}?)(?:{_AUX})\b",
    re.IGNORECASE,
)


def asked_for(question: str) -> str:
    """The phrase ``question`` asks for, or "" when it names none ("which papers ...",
    "what do we have on ...", "by how much did ...")."""
    m = _ASKED.search(question)
    if not m:
        return ""
    focus = m.group("focus").strip()
    # "Which papers study ...", "what work uses ...": asking for a paper, whose verb is not an
    # auxiliary, so the span ran on into the topic.
    return "" if focus.split()[0].lower() in STOPWORDS else focus
