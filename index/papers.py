"""De-duplication: one ``Paper`` per abstract, across files and across ingests."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from index.types import Paper
from index.text import normalize


def _merge(kept: Paper, other: Paper) -> Paper:
    """Fold a second copy into the first: keep the first id (already indexed or cited),
    fill what it lacks — an untitled abstract gains the title of its titled copy."""
    return replace(
        kept,
        title=kept.title or other.title,
        url=kept.url or other.url,
        authors=kept.authors or other.authors,
        date=kept.date or other.date,
        sources=kept.sources + tuple(s for s in other.sources if s not in kept.sources),
    )


def _correct(old: Paper, new: Paper) -> Paper:
    """A later record of a known id with another abstract is a correction: it wins."""
    return replace(
        new,
        title=new.title or old.title,
        url=new.url or old.url,
        authors=new.authors or old.authors,
        date=new.date or old.date,
        sources=old.sources + tuple(s for s in new.sources if s not in old.sources),
    )


def merge_papers(existing: Iterable[Paper], incoming: Iterable[Paper]) -> list[Paper]:
    """The union of both, duplicates merged. Two records are the same paper when their
    abstracts match after normalisation, or when they carry the same id; for the same id
    with a different abstract (only possible with ids the input gives: our own ids are
    hashes of the abstract) the later record replaces the paper's text."""
    by_key: dict[str, str] = {}  # normalised abstract -> paper id
    papers: dict[str, Paper] = {}
    for paper in [*existing, *incoming]:
        key = normalize(paper.abstract)
        pid = by_key.get(key)
        if pid is None and paper.id in papers:
            old = papers[paper.id]
            by_key.pop(normalize(old.abstract), None)
            papers[paper.id] = _correct(old, paper)
            by_key[key] = paper.id
        elif pid is None:
            papers[paper.id] = paper
            by_key[key] = paper.id
        else:
            papers[pid] = _merge(papers[pid], paper)
    return list(papers.values())
