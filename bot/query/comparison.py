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
``MAX_WORDS`` words, to the clause's end or a word that starts the rest of it."""

from __future__ import annotations

import re

MAX_WORDS = 5
_TRIGGER = (
    r"(?<!rather\s)(?<!other\s)\bthan"
    r"|\bversus|\bvs\.?"
    r"|\bcompar(?:e|es|ed|ing)\s+(?:it\s+|them\s+)?(?:to|with|against)"
    r"|\bin\s+comparison\s+(?:to|with)"
    r"|\brelative\s+to"
    r"|\b(?:outperform|beat|surpass|exceed|overtake)(?:s|es|ed|ing)?"
    r"|\b(?:gains?|improvements?|improv(?:e|es|ed|ing)|speed-?ups?|advantages?|boosts?|margins?|wins?|"
    r"win\s+rates?)\s+(?:over|against)"
    r"|\b(?:benchmark(?:ed)?|evaluat(?:e|ed)|test(?:ed)?|measur(?:e|ed)|hold(?:s)?\s+up|stack(?:s)?\s+up|fare(?:s|d)?)"
    r"\s+against"
)
# Words that end the compared thing: the rest of the clause ("than BPE for non-Latin scripts",
# "vs the baseline when ...").
_END_WORDS = (
    "did|does|do|was|were|is|are|has|have|had|can|could|would|will|should|might|may|must|"
    "on|at|in|for|with|when|while|where|which|who|that|to|from|by|after|before|under|across|"
    "if|because|so|but|according|using|without|given|overall|respectively|"
    "it|they|we|its|their|this|these|those|there|what|how|why|whether|-+|–|—"
)
_NUMBER_NEXT = re.compile(r"\s*[~≈]?\s*[\d.,]+\s*(?:%|x|×|percent)?", re.IGNORECASE)
_COMPARED = re.compile(
    rf"(?:{_TRIGGER})\s+(?P<what>(?:(?!(?:{_END_WORDS})(?![\w'’-]))[^\s?,;:!()]+(?:\s+|(?=[?,;:!()])|$)){{1,{MAX_WORDS}}})",
    re.IGNORECASE,
)
# A comparative "than" after an amount is a threshold, not a comparison: "more than 90% of",
# "fewer than 10 steps".
_THRESHOLD = re.compile(r"\b(?:more|less|fewer|greater|higher|lower|larger|smaller|over|under)\s+than\s*$", re.IGNORECASE)


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
    """What ``question`` compares with, less the words that do not name it (``GENERIC``)."""
    return " ".join(w for w in re.findall(r"[^\s/]+", compared_with(question)) if w.lower().strip(".,'’") not in GENERIC)


def compared_with(question: str) -> str:
    """The things ``question`` compares with, joined by " / " (several comparisons may be asked),
    or "" when it asks for no comparison."""
    found = []
    for m in _COMPARED.finditer(question):
        what = m.group("what").strip()
        before = question[: m.start("what")]
        if _THRESHOLD.search(before) and _NUMBER_NEXT.match(what):
            continue  # "more than 90%": an amount, not a thing compared with
        if re.fullmatch(r"[\d.,%x×~≈\s]+", what):
            continue
        found.append(what)
    return " / ".join(found)
