"""What a comparison question compares with: "does it beat **FinBERT**", "how does it compare
with **self-consistency decoding**", "what gain over **plain MAE**", "accuracy vs **naive
fine-tuning**". A near miss often describes a paper that is in the corpus and asks how it fares
against something its abstract never mentions; the refusal model reads whether the first paper
names the thing compared with (bot/answer/refusal.py ``comparator_missing``).

Built from English comparison grammar, not from any question set: a comparative "than" (not
"rather than", nor "more than 90%"), "versus"/"vs", "compare(d) to/with", "in comparison
to/with", "relative to", "outperform", "beat", "surpass", "exceed", and "over"/"against" only
after a word that makes them a comparison ("gain over", "win rate against", "benchmarked
against"); "defence against", "over time" are not. The thing compared with runs up to
``MAX_WORDS`` words, past a determiner ("than **its teacher**"), to the clause's end, a word
that starts the rest of it, or the next comparison ("beat **BM25** and outperform **SPLADE**").
Not a thing compared with: an amount ("more than 2x", "exceeds 90%"), what no method is ("lower
than expected", "improve over time"), a threat one is tested against ("tested against jailbreak
prompts")."""

from __future__ import annotations

import re

MAX_WORDS = 5
_TRIGGER = re.compile(
    r"(?<!rather\s)(?<!other\s)\bthan\b"
    r"|\bversus\b|\bvs\b(?!\.?\s+code\b)\.?"  # not "VS Code"
    r"|\bcompar(?:e|es|ed|ing)\s+(?:it\s+|them\s+)?(?:to|with|against)\b"
    r"|\bin\s+comparison\s+(?:to|with)\b"
    r"|\brelative\s+to\b"
    r"|\b(?:outperform|beat|surpass|exceed|overtake)(?:s|es|ed|ing)?\b"
    r"|\b(?:superior|inferior|preferable)\s+to\b"
    r"|\b(?:as|so)\s+(?:good|fast|accurate|strong|effective|efficient|robust)\s+as\b"  # not "as well as": "and"
    r"|\b(?:on\s+par|competitive|comparable|compete|competes|competing)\s+with\b|\bcomparable\s+to\b"
    r"|\b(?:an?|any|some|its|their)\s+(?:\w+\s+)?edge\s+over\b"  # not "on the edge over Wi-Fi"
    r"|\bimprov(?:e|es|ed|ing|ements?)\s+upon\b"  # not "improve on": "improve on long documents" names none
    r"|\b(?:gains?|improvements?|improv(?:e|es|ed|ing)|speed-?ups?|advantages?|boosts?|margins?|wins?|"
    r"win\s+rates?)\s+(?:over|against)\b"
    r"|\b(?:benchmark(?:ed)?|evaluat(?:e|ed)|test(?:ed)?|measur(?:e|ed)|hold(?:s)?\s+up|stack(?:s)?\s+up|fare(?:s|d)?)"
    r"\s+against\b",
    re.IGNORECASE,
)
# Words that end the compared thing: the rest of the clause ("than BPE for non-Latin scripts",
# "vs the baseline when ...").
_END_WORDS = (
    "did|does|do|was|were|is|are|has|have|had|can|could|would|will|should|might|may|must|"
    "on|at|in|for|with|when|while|where|which|who|that|to|from|by|after|before|under|across|"
    "if|because|so|but|according|using|without|given|overall|respectively|"
    "it|they|we|its|their|this|these|those|there|what|how|why|whether|-+|–|—"
)
# A determiner may open the compared thing ("than its teacher", "beat the dense model"); it is
# read past, not taken for the clause's end, as is "that of"/"those of" ("than that of BERT").
_DETERMINER = r"(?:(?:that|those)\s+of\s+)?(?:(?:the|a|an|its|their|this|these|those|our|his|her)\s+)?"
_WHAT = re.compile(
    rf"\s+{_DETERMINER}(?P<what>(?:(?!(?:{_END_WORDS})(?![\w'’-]))[^\s?,;:!()]+(?:\s+|(?=[?,;:!()])|$)){{1,{MAX_WORDS}}})",
    re.IGNORECASE,
)
# An amount after the trigger is a threshold or a margin, not a thing compared with: "more than
# 90% of", "exceeds 0.9 F1", "beat it by 2x", "exceed 20k tokens", "fewer than ten steps" — a
# number, its unit, then the clause's end or a lower-case word ("than 7B models", "than 8-bit
# Adam" and "than 3.5 Turbo" name models); a fraction; a number in words.
_AMOUNT = re.compile(
    r"[~≈]?\s*[\d.,]+(?:e-?\d+)?\s*(?:%|x|×|percent|points?|k|ms|s|sec|seconds?|minutes?|hours?|days?|gb|mb)?"
    r"(?![\w.,'’-])(?:\s+(?=(?-i:[a-z]))|\s*$)"
    r"|[~≈]?\s*0?\.\d+\s*%?(?![\w.,'’-])"  # a fraction, whatever follows ("0.9 F1"): no model's name
    r"|(?:one|two|three|four|five|six|seven|eight|nine|ten|twenty|fifty|hundreds?|thousands?|millions?|billions?|"
    r"half|twice|double|triple)(?![\w'’-])",
    re.IGNORECASE,
)
# After a comparative "than", "over" or "as ... as", what no method is: "lower than expected", "improve over
# time", "over the course of training" (the determiner is read past first).
_NOT_A_THING = re.compile(
    r"(?:expected|anticipated|usual|before|ever|necessary|needed|required|possible|reported|claimed|"
    r"time|years?|months?|weeks?|days?|hours?|course|iterations|epochs|training|rounds)(?![\w'’-])",
    re.IGNORECASE,
)
_COMPARATIVE = re.compile(r"(?:than|over|as)$", re.IGNORECASE)
# What one is tested or holds up against may be a threat, not a rival: "tested against jailbreak
# prompts", "holds up against adversarial attacks" (but "compared against noise-contrastive
# estimation" and "better than adversarial training" compare).
_THREAT = re.compile(
    r"\b(?:attacks?|attackers?|adversar\w*|jailbreak\w*|perturbations?|noise|corruptions?|poison\w*|"
    r"shifts?|threats?|manipulations?|injections?)(?![\w'’-])",
    re.IGNORECASE,
)
_TESTED = re.compile(r"(?:benchmark|evaluat|test|measur|hold|stack|fare)\w*\s+(?:up\s+)?against$", re.IGNORECASE)
_STATE_OF_THE_ART = re.compile(r"\bstate[\s-]+of[\s-]+the[\s-]+art\b", re.IGNORECASE)


# Words that refer to the other side of a comparison without naming it ("the strongest baseline",
# "earlier methods", "plain fine-tuning", "SOTA"): a paper that compares "with prior work" need not
# use them, so only the rest is looked for.
GENERIC = frozenset(
    "baseline baselines sota state-of-the-art art prior previous earlier existing original plain vanilla naive "
    "standard simple simply conventional traditional current other others strongest strong best competing "
    "competitive ablation ablations method methods approach approaches model models work works technique "
    "techniques alternative alternatives counterpart counterparts one ones version versions variant variants "
    "just usual common typical default reference leading".split()
)


def compared_names(question: str) -> str:
    """What ``question`` compares with, less the words that do not name it (``GENERIC``); where
    it has a name ("the dense **FinBERT** embeddings", "**GPT-4**", "**self-consistency**
    decoding"), only the names: a paper that compares with FinBERT may call them anything but
    FinBERT, and an abstract paraphrases a description ("the dense teacher": "the full model")
    far more often than a name."""
    # "BERT's accuracy": the name is BERT (a possessive would stem to a word no paper has).
    words = [re.sub(r"['’]s$", "", w.strip(".,")).strip("'’") for w in re.findall(r"[^\s/]+", compared_with(question))]
    words = [w for w in words if w and w.lower() not in GENERIC]
    names = [w for w in words if _NAME.search(w)]
    return " ".join(names or words)


# A name: a capital past the first letter, a digit, or an inner hyphen (BM25, LoRA, GPT-4,
# self-consistency), or a capitalised word (the compared thing never opens the question, so a
# capital there is a name's: Adam, Transformer).
_NAME = re.compile(r"^[A-Z]|.[A-Z]|\d|\w-\w")


# Capitalised words that open a clause after a comma, not a name in a list ("than BERT, I
# wonder", "than GPT-4, Table 2 says").
_CLAUSE_OPENERS = frozenset(
    "i yes no table tables figure fig section appendix please thanks also and but or so then if ok okay "
    "eg ie say like maybe right sure".split()
)


def _trimmed(got: re.Match[str]) -> str:
    """The compared thing of a ``_WHAT`` match, less a trailing "and"/"or" that joins the next."""
    return re.sub(r"\s+(?:and|or)$", "", got.group("what").strip(), flags=re.IGNORECASE)


_LIST_COMMA = re.compile(r"\s*,(?:\s*(?:and|or)(?=\s))?", re.IGNORECASE)


def _listed(rest: str) -> list[str]:
    """The further names of a list after a comma ("than GPT-4, Claude and Gemini"); a comma that
    goes on with anything but a name ("than BM25, the paper says") ends the compared thing."""
    items = []
    while (comma := _LIST_COMMA.match(rest)) and (got := _WHAT.match(" " + rest[comma.end() :].lstrip())):
        item = _trimmed(got)
        first = item.split()[0]
        if not _NAME.search(first) or first.lower().strip(".") in _CLAUSE_OPENERS:
            break
        items.append(item)
        rest = (" " + rest[comma.end() :].lstrip())[got.end() :]
    return items


def compared_with(question: str) -> str:
    """The things ``question`` compares with, joined by " / " (several comparisons may be asked),
    or "" when it asks for no comparison. Each runs from its trigger to the clause's end or the
    next trigger ("beat BM25 and outperform SPLADE" compares with two things)."""
    text = _STATE_OF_THE_ART.sub("SOTA", question)
    triggers = list(_TRIGGER.finditer(text))
    found = []
    for m, after in zip(triggers, [*triggers[1:], None]):
        rest = text[m.end() : after.start() if after else len(text)]
        got = _WHAT.match(rest)
        if not got:
            continue
        what = ", ".join([_trimmed(got), *_listed(rest[got.end() :])])
        trigger = m.group()
        if not what or _AMOUNT.match(what):
            continue
        if (_COMPARATIVE.search(trigger) and _NOT_A_THING.match(what)) or (_TESTED.search(trigger) and _THREAT.search(what)):
            continue
        found.append(what)
    return " / ".join(found)
