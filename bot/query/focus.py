"""What a question asks for: the noun phrase between its wh-word and its verb ("What **top-1
accuracy** did ...", "How many **training tokens** were ...", "Which **base checkpoint** did
they use"). A neighbouring paper is often on the question's topic yet never names the asked
thing: the refusal model reads how well the first paper matches those words (``late_focus``,
bot/answer/late_interaction.py), and sentence choice favours the sentences that name them.

Built from English question grammar, not from any question set: a wh-word (what, which, how
many, how much), an optional copula and article, then at most ``MAX_WORDS`` words up to the
first auxiliary verb, preposition, relative word, pronoun or determiner that starts the rest of
the clause, or the question's end ("How many GPUs?"); "what's" is "what is", and a hyphenated
word that starts with one of those words ("in-context") is one word.

And the part of a question that asks (``asking_part``): people describe the paper they mean
before they ask about it ("For the benchmark of ..., which languages does it cover?"), and the
sentence that answers is closest to the asking clause, not to the description; sentences are
chosen by their closeness to it (bot/answer/evidence.py)."""

from __future__ import annotations

import re

from index.vocabulary import STOPWORDS

MAX_WORDS = 6  # a longer span is the clause itself, not the thing asked for
_AUX = (
    "did|does|do|was|were|is|are|has|have|had|can|could|would|will|should|might|may|must|"
    "of|for|in|on|at|by|from|with|when|that|which|who|whose|where|to|than|between|after|before|over|under|"
    "they|it|we|the|this|these|those|its|their"
)
# One of those words as a word of its own: not the start of "in-context" or "it's".
_STOP = rf"(?:{_AUX})(?![\w'’-])"
# The question's end: what it asks for may be its last words ("How many GPUs?").
_END = r"[?!.]*\s*$"
_ASKED = re.compile(
    r"\b(?:what(?:'s|’s)?|which|how\s+many|how\s+much)\s+"
    r"(?:(?:is|are|was|were)\s+)?(?:(?:the|a|an)\s+)?"
    rf"(?P<focus>(?:(?!{_STOP})[^\s?,;:!]+(?:\s+|(?={_END}))){{1,{MAX_WORDS}}}?)(?:{_STOP}|{_END})",
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


# The head of an asked-for phrase that names a measure, which a question asks for as a figure
# even without "how many" ("what **one-step FID** did ...", "what **MRR@10** ...", "what
# **compression factor** ..."): an acronym, a score at a cut-off, or a word for a quantity.
_ACRONYM = re.compile(r"[A-Z][A-Z0-9]+(?:@\d+)?|\w+@\d+|\w+-index")
_QUANTITY = re.compile(
    r"(?:\w+-)*(?:accuracy|ratio|factor|rate|value|mean|average|length|latency|fidelit(?:y|ie)|throughput|margin|range|"
    r"resolution|width|budget|epsilon|number|count|size|error|loss|perplexity|speed|time|cost|gain|score)s?",
    re.IGNORECASE,
)


def names_a_measure(focus: str) -> bool:
    """Whether the asked-for phrase's head (its last word) names a measure: "one-step FID",
    "compression factor", "PSNR and LPIPS"; not "PTQ methods" or "ViT patches"."""
    words = focus.split()
    head = words[-1].strip("()") if words else ""
    return bool(_ACRONYM.fullmatch(head) or _QUANTITY.fullmatch(head))


# The question of several that asks last ("Is there a model that ...? How are its marginals
# learned?"), and a wh-clause after a description of what it asks about ("For the benchmark of
# ..., which languages does it cover?", "... -- how much faster was inference?").
_QUESTION_END = re.compile(r"(?<=\?)\s+(?=\S)")
_ASKING_CLAUSE = re.compile(
    r"(?:[,;:?.]\s+|\s-+\s+|\b(?:and|but)\s+)"
    r"((?:(?:by|in|on|for|with|to|from|of|at|roughly|exactly|so|then|and|but|also)\s+)?"
    r"(?:what|which|how|why|who|where|when)\b.*)$",
    re.IGNORECASE | re.DOTALL,
)
MIN_ASKING_WORDS = 3  # "how?" alone says too little to choose a sentence by


def asking_part(question: str) -> str:
    """The part of ``question`` that asks, when the rest describes what it asks about: its last
    question of several, or the clause from a wh-word that follows a description; "" when the
    question asks as a whole. A question that describes a paper at length before asking
    ("For the benchmark of natural-language-to-class generation ..., which programming languages
    does it cover?") is closest, as a whole, to the sentences that describe the paper; the
    sentence that answers is closest to what it asks."""
    question = question.strip()
    parts = [p for p in _QUESTION_END.split(question) if len(p.split()) >= MIN_ASKING_WORDS]
    if len(parts) > 1:
        return parts[-1]
    m = _ASKING_CLAUSE.search(question, 1)
    part = m.group(1).strip() if m else ""
    # A clause that is nearly all of the question asks as the whole does.
    return part if len(part.split()) >= MIN_ASKING_WORDS and len(part) < len(question) - 10 else ""
