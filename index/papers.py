"""De-duplication: one ``Paper`` per abstract, across files and across ingests."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from index.types import Paper
from index.text import normalize


def _fill(primary: Paper, secondary: Paper, sources: tuple[str, ...]) -> Paper:
    """``primary``, with what it lacks (title, url, authors, dates, categories) taken from
    ``secondary``."""
    return replace(
        primary,
        title=primary.title or secondary.title,
        url=primary.url or secondary.url,
        authors=primary.authors or secondary.authors,
        date=primary.date or secondary.date,
        updated=primary.updated or secondary.updated,
        categories=primary.categories or secondary.categories,
        sources=sources,
    )


def _sources(first: Paper, then: Paper) -> tuple[str, ...]:
    return first.sources + tuple(s for s in then.sources if s not in first.sources)


def _merge(kept: Paper, other: Paper) -> Paper:
    """Fold a second copy into the first: keep the first id (already indexed or cited),
    fill what it lacks — an untitled abstract gains the title of its titled copy."""
    return _fill(kept, other, _sources(kept, other))


def _correct(old: Paper, new: Paper) -> Paper:
    """A later record of a known id is a correction (a new version): it wins."""
    return _fill(new, old, _sources(old, new))


def merge_papers(existing: Iterable[Paper], incoming: Iterable[Paper]) -> list[Paper]:
    """The union of both, duplicates merged. Two records are the same paper when they carry
    the same id, or when their abstracts match after normalisation. A later record of a known
    id is that paper's newer version (only possible with ids the input gives, such as arXiv's:
    our own ids are hashes of the abstract): its title, abstract and details replace the old
    ones, and what it lacks is kept."""
    by_key: dict[str, str] = {}  # normalised abstract -> paper id
    papers: dict[str, Paper] = {}
    for paper in [*existing, *incoming]:
        key = normalize(paper.abstract)
        if paper.id in papers:
            old_key = normalize(papers[paper.id].abstract)
            if by_key.get(old_key) == paper.id:
                del by_key[old_key]
            papers[paper.id] = _correct(papers[paper.id], paper)
            by_key.setdefault(key, paper.id)
            continue
        pid = by_key.get(key)
        if pid is None:
            papers[paper.id] = paper
            by_key[key] = paper.id
        else:
            papers[pid] = _merge(papers[pid], paper)
    return list(papers.values())
