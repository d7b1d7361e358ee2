"""Scraped abstract listings (``.txt``): untitled ``Abstract:`` lines; listing pages with
header lines, dates and a first title glued to "Subscribe"; title/abstract line pairs with or
without blank lines between them. An abstract is a line of ``MIN_ABSTRACT_CHARS`` or more (or
one that starts with "Abstract:"); the short line before it, if any, is its title."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from index.sources.checks import MAX_ABSTRACT_CHARS, check_length
from index.sources.files import lines
from index.text import clean_space, paper_id
from index.types import Paper

_JUNK = re.compile(
    r"^(new|subscribe|get trending papers in your email inbox.*|by\s*ak and the research community"
    r"|(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d{1,2}(, \d{4})?)$",
    re.IGNORECASE,
)
_GLUED_SUBSCRIBE = re.compile(r"^Subscribe(?=[A-Z0-9\"'])")
_ABSTRACT_PREFIX = re.compile(r"^abstract\s*:\s*", re.IGNORECASE)
# Titles are short and rarely a run of sentences; abstracts are long.
MIN_ABSTRACT_CHARS = 200

EMPTY_HINT = (
    f"a .txt listing needs abstracts: lines of at least {MIN_ABSTRACT_CHARS} characters "
    "or lines that start with 'Abstract:'"
)


def parse_listing(text: str, path: Path) -> Iterator[Paper]:
    """The papers of a listing's text, in order; ids are hashes of the abstracts."""
    pending_title: tuple[int, str] | None = None
    for lineno, raw in enumerate(lines(text), start=1):
        line = clean_space(raw)
        if not line or _JUNK.match(line):
            continue
        line = _GLUED_SUBSCRIBE.sub("", line)
        explicit = _ABSTRACT_PREFIX.match(line)
        if explicit or len(line) >= MIN_ABSTRACT_CHARS:
            abstract = line[explicit.end():] if explicit else line
            check_length(abstract, "abstract", MAX_ABSTRACT_CHARS, f"{path}:{lineno}")
            title = pending_title[1] if pending_title else ""
            pending_title = None
            if abstract:
                yield Paper(
                    id=paper_id(abstract), title=title, abstract=abstract, sources=(f"{path}:{lineno}",)
                )
        else:
            # A second short line in a row: the earlier one had no abstract (a heading or a
            # title whose abstract is missing) and is dropped rather than glued on.
            pending_title = (lineno, line)
