"""What a paper must be before it is indexed, whatever its source: the limits on its text,
and the checks that turn a bad field into a ``BadInput`` naming where it is and the fix.

``where`` is the place to name: a file's "path:line", or what an in-memory source calls the
paper (next, the arXiv feed and ``paperbot add``, issue 24)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from index.errors import BadInput
from index.text import clean_space
from index.types import Paper

# arXiv caps abstracts at 1,920 characters; longer "abstracts" are whole papers or records
# run together by a broken file.
MAX_ABSTRACT_CHARS = 20_000
MAX_TITLE_CHARS = 1_000

_SURROGATE = re.compile("[\ud800-\udfff]")


def check_length(value: str, key: str, limit: int, where: str) -> None:
    if len(value) > limit:
        raise BadInput(
            f"{where}: {key} of {len(value):,} characters, more than the {limit:,} a paper's "
            f"{key} may have (a whole paper, or several records run together?); shorten it or "
            "split the records."
        )


def clean_text(value: str, key: str, where: str) -> str:
    """``value`` whitespace-collapsed, or a BadInput when it holds a lone surrogate (a broken
    escape or mixed encoding: it could not be written as UTF-8)."""
    bad = _SURROGATE.search(value)
    if bad:
        raise BadInput(
            f"{where}: '{key}' holds a lone UTF-16 surrogate (\\u{ord(bad.group()):04x}), a "
            "broken escape or mixed encoding; fix or remove that escape."
        )
    return clean_space(value)


def checked_paper(paper: Paper, where: str) -> Paper:
    """``paper`` with its text whitespace-collapsed, or a BadInput naming ``where`` and what is
    wrong: a field that is not text, no id or abstract, a title or abstract over the limits.
    The file readers check as they read; this is for papers built elsewhere."""
    if not isinstance(paper, Paper):
        raise BadInput(
            f"{where}: {type(paper).__name__} given where a Paper should be; build papers with "
            "index.types.Paper or index.sources.records.paper_from_record."
        )
    fields = {key: _text_field(paper, key, where) for key in _TEXT_FIELDS}
    if not fields["id"]:
        raise BadInput(
            f"{where}: paper has no id; give it one (its arXiv id, say) or build it with "
            "index.sources.records.paper_from_record, which derives one from the abstract."
        )
    if not fields["abstract"]:
        raise BadInput(f"{where}: no abstract text (empty or only spaces); every paper needs its abstract.")
    check_length(fields["abstract"], "abstract", MAX_ABSTRACT_CHARS, where)
    check_length(fields["title"], "title", MAX_TITLE_CHARS, where)
    if not _is_sources(paper.sources):
        raise BadInput(f"{where}: 'sources' must be a tuple of strings (where the paper was read from).")
    if all(fields[key] is getattr(paper, key) for key in _TEXT_FIELDS):
        return paper  # already clean, as papers from files are
    return replace(paper, **fields)


def checked_papers(papers: Iterable[Paper], source: str) -> list[Paper]:
    """Every paper checked (see ``checked_paper``), in order. A bad one stops with a BadInput
    named by the paper's own first source (a file's "path:line") or, without one, by
    ``source`` and its position: "arXiv feed #3 (id '2401.01234')"."""
    out = []
    for n, paper in enumerate(papers, start=1):
        sources = getattr(paper, "sources", None)
        named = _is_sources(sources) and sources
        out.append(checked_paper(paper, sources[0] if named else f"{source} #{n} (id {getattr(paper, 'id', None)!r})"))
    return out


def _is_sources(value: object) -> bool:
    return isinstance(value, tuple) and all(isinstance(s, str) for s in value)


_TEXT_FIELDS = ("id", "title", "abstract", "url", "authors", "date")


def _text_field(paper: Paper, key: str, where: str) -> str:
    value = getattr(paper, key)
    if not isinstance(value, str):
        raise BadInput(f"{where}: '{key}' is {type(value).__name__}, not text; give it as a string.")
    return value if _is_clean(value) else clean_text(value, key, where)


def _is_clean(value: str) -> bool:
    """Whether ``clean_text`` would return ``value`` as it is, in a fifth of its time (most
    papers are clean already): every white space but a single inner blank, and every
    surrogate, is a character ``isprintable`` rejects."""
    return value.isprintable() and "  " not in value and not value.startswith(" ") and not value.endswith(" ")
