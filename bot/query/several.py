"""Whether a question asks for several papers: "Which papers ...", "what approaches exist",
"what do we have on ...", "any work on ...", "a reading list on ...", "what does each report".
Such a question wants every paper that answers part of it, so the extractive answer cites a
further paper on a looser similarity bound (``answer.cite_relative_several``).

Built from English grammar, then checked on the dev questions (75 of 672 answerable match: 73
of the 83 multi-paper ones, 2 of the 589 others): a plural noun for papers after a wh-word or
quantifier (adjectives only between: "which recent papers", not "which trick works"), a
question that opens with one, the phrases people ask a librarian with ("are there papers",
"show me work on", "what do we have on"), and "each" over the papers found. Not "which
method", "both", "which works better" (a verb), plural nouns that a single paper has ("which
benchmarks did it use"), nor a question about one paper's own content ("what studies did the
authors cite")"""

from __future__ import annotations

import re

_PAPERS = r"(?:papers|works|studies|approaches|lines\s+of\s+work)"
# Only adjectives between the wh-word and the noun: "which recent papers", not "which trick
# works" (a verb) nor "what studies did the authors cite" (a paper's own references, vetoed below).
_ADJECTIVES = r"(?:(?:recent|other|related|prior|existing|relevant|new|published|notable|main|key)\s+){0,2}"
_SEVERAL = re.compile(
    # "which papers", "what recent works", "any other studies"
    rf"\b(?:which|what|any|some|other|those|these)\s+{_ADJECTIVES}{_PAPERS}\b(?!\s+(?:better|best|well)\b)"
    # a question that opens with them: "papers on ...", "any work that ...", "ways to ..."
    r"|^(?:any\s+)?(?:papers|works|work|studies|approaches|methods|options|ways)\s+(?:on|that|to|for|about)\b"
    r"|\b(?:what|which)\s+(?:\w+\s+)?(?:methods|approaches|options)\s+(?:exist|are\s+there|do\s+we\s+have)\b"
    r"|\bare\s+there\s+(?:any\s+)?(?:papers|works|studies)\b|\b(?:list|find|show\s+me)\s+(?:\w+\s+)?(?:papers|work)\b"
    r"|\bwhat\s+(?:research|work)\s+(?:exists|has\s+been\s+done)\b"
    # the collection: "what do we have on", "what's out there on", "what's in the corpus on"
    r"|\bwhat(?:'s|’s|\s+is)?\s+(?:there|out\s+there|in\s+the\s+(?:corpus|collection))\s+(?:on|about|for)\b"
    r"|\bwhat\s+(?:work\s+)?do\s+we\s+have\b"
    r"|\b(?:anything|any\s+work|any\s+papers)\s+on\b"
    r"|\b(?:reading\s+list|surveying|each\s+(?:one|paper|study|work|method|approach))\b",
    re.IGNORECASE | re.MULTILINE,
)
# A question about one paper's own content: "what studies did the authors cite", "what other
# works does the paper build on".
_ONE_PAPER = re.compile(r"\b(?:the|this|that)\s+(?:paper|study|article)\b|\bthe\s+authors\b", re.IGNORECASE)


def asks_for_several(question: str) -> bool:
    """Whether ``question`` asks for several papers, not one."""
    return bool(_SEVERAL.search(question)) and not _ONE_PAPER.search(question)


# A question about distinct works, each answering a part: "two papers", "both methods", "one ...,
# the other ...", "what does each use", "respectively". Not "which papers ..." alone: two papers
# that each have half of "diffusion models for tabular anomaly detection" do not answer it.
_PARTS = re.compile(
    r"\b(?:two|three|both|several|multiple|(?:a\s+)?pair\s+of)\s+(?:[\w-]+\s+){0,3}?"
    r"(?:papers|works|studies|approaches|methods|models|systems|frameworks|techniques|lines\s+of\s+work|ones)\b"
    r"|\bone\b.{3,300}?\b(?:the\s+other|another|a\s+second|the\s+second|the\s+latter|a\s+later\s+one|"
    r"and\s+one\s+(?:for|on|that|which|with|in))\b"
    r"|\b(?:does|do|did|is|was|has)\s+each\b|\beach\s+(?:one|paper|work|study|method|approach|of\s+(?:them|the))\b"
    r"|\brespectively\b",
    re.IGNORECASE | re.DOTALL,
)


def asks_for_parts(question: str) -> bool:
    """Whether ``question`` is about distinct works that answer it between them, each a part
    ("Two methods ...: one ..., the other ... What does each use?"): said in so many words, since
    "which papers do A for B?" reads the same whether two papers do A and B apart (a near miss)
    or together."""
    return bool(_PARTS.search(question))


# A hyphenated compound: "multiplication-free", "training-free", "state-of-the-art" (its parts
# are words of two letters or more; "GPT-4" and "ViT-B/16" name models, not compounds, and so
# does a part with a capital inside or in capitals: "BERT-base", "RoBERTa-large", "LoRA-based").
_HYPHENS = str.maketrans({c: "-" for c in "\u2010\u2011\u2012\u2013"})
_COMPOUND = re.compile(r"(?<![\w-])[a-z]{2,}(?:-[a-z]{2,})+(?![\w-])", re.IGNORECASE)
_NAME_PART = re.compile(r"(?:^|-)[A-Za-z][a-z]*[A-Z]")


def compounds(question: str) -> tuple[str, ...]:
    """The hyphenated compounds of ``question``, lower-case: each one term, not its parts."""
    found = (m.group() for m in _COMPOUND.finditer(question.translate(_HYPHENS)))
    return tuple(dict.fromkeys(c.lower() for c in found if not _NAME_PART.search(c)))


def holds_compound(text: str, compound: str) -> bool:
    """Whether ``text`` says ``compound`` (lower-case), hyphenated, spaced or closed up, its last
    word in any inflection ("fine-tune" is said by "fine-tuning")."""
    *head, last = compound.split("-")
    stem = re.sub(r"(?<=\w{3})(?:ing|ed|es|e|s)$", "", last)
    pattern = r"[-\s]?".join(map(re.escape, [*head, stem])) + r"\w*"
    return re.search(r"(?<!\w)" + pattern, text.translate(_HYPHENS).lower()) is not None
