"""Whether a question asks for several papers: "Which papers ...", "what approaches exist",
"what do we have on ...", "any work on ...", "a reading list on ...", "what does each report".
Such a question wants every paper that answers part of it, so the extractive answer cites a
further paper on a looser similarity bound (``answer.cite_relative_several``).

Built from English grammar, then checked on the dev questions (75 of 672 answerable match: 73
of the 83 multi-paper ones, 2 of the 589 others): a plural noun for papers or methods after a
wh-word or quantifier, a question that opens with one, the collection phrases people ask a
librarian with, and "each" over the papers found. Not "which method", "both", "which works
better" (a verb), nor plural nouns that a single paper has ("which benchmarks did it use")."""

from __future__ import annotations

import re

_PAPERS = r"(?:papers|works|studies|approaches|lines\s+of\s+work)"
_SEVERAL = re.compile(
    # "which papers", "what recent works", "any other studies"; "works" as a noun, not "which works better"
    rf"\b(?:which|what|any|some|other|those|these)\s+(?:[\w/-]+\s+){{0,2}}?{_PAPERS}\b(?!\s+(?:better|best|well)\b)"
    # a question that opens with them: "papers on ...", "any work that ...", "ways to ..."
    r"|^(?:any\s+)?(?:papers|works|work|studies|approaches|methods|options|ways)\s+(?:on|that|to|for|about)\b"
    r"|\b(?:what|which)\s+(?:\w+\s+)?(?:methods|approaches|options)\s+(?:do|are|exist|have)\b"
    # the collection: "what do we have on", "what's out there on", "what's in the corpus on"
    r"|\bwhat(?:'s|’s|\s+is|\s+work)?\s+(?:do\s+we\s+have|there|out\s+there|in\s+the\s+(?:corpus|collection))\b"
    r"|\bwhat\s+do\s+we\s+have\b"
    r"|\b(?:anything|any\s+work|any\s+papers)\s+on\b"
    r"|\b(?:reading\s+list|surveying|each\s+(?:one|paper|method|work|of\s+them)|(?:what|how)\s+does\s+each|ways\s+(?:to|of))\b",
    re.IGNORECASE | re.MULTILINE,
)


def asks_for_several(question: str) -> bool:
    """Whether ``question`` asks for several papers, not one."""
    return bool(_SEVERAL.search(question))
