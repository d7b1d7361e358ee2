"""One run of the feed: harvest every set (or fetch the papers asked for), then one ingest of
what arrived — new papers, new versions, and deletions in one generation — then the cursors.

Nothing is ingested until every page of every set is in hand, so a failed or killed run
changes nothing; the cursor moves only after the generation is published. Re-running the same
range changes nothing (papers are keyed by their base arXiv id, sourced "arXiv:<id>")."""

from __future__ import annotations

import fcntl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from index import layout
from index.errors import BadInput, PaperbotError
from index.feed.api import fetch
from index.feed.cursor import Cursors
from index.feed.http import PoliteClient
from index.feed.ids import parse_refs
from index.feed.oai import Harvested, harvest_set
from index.ingest import ingest_papers
from index.settings import Settings
from index.settings.feed import check_set, parse_day
from index.sources.records import paper_from_arxiv
from index.types import Paper


@dataclass
class FeedReport:
    """What a run did; ``paperbot feed arxiv --json`` prints it (the first eight keys are the
    documented contract)."""

    harvested: int  # records read from arXiv (deleted ones and cross-list repeats included)
    new: int
    updated: int
    removed: int
    requests: int
    from_: str | None
    until: str | None
    generation: str | None  # the index's generation after the run (None: no index yet)
    sets: list[str] = field(default_factory=list)
    papers: list[str] = field(default_factory=list)  # ids ingested (new or updated or unchanged)
    skipped: list[str] = field(default_factory=list)  # records that could not be read
    waited_s: float = 0.0  # time spent waiting for the politeness interval and Retry-After
    ingest_s: float = 0.0  # of ``seconds``, the ingest (the rest is arXiv's)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["from"] = d.pop("from_")
        order = ["harvested", "new", "updated", "removed", "requests", "from", "until", "generation"]
        return {**{k: d[k] for k in order}, **{k: v for k, v in d.items() if k not in order}}

    def summary(self) -> str:
        span = f" {self.from_}..{self.until}" if self.from_ else ""
        sets = f" of {', '.join(self.sets)}" if self.sets else ""
        skipped = f"; {len(self.skipped)} unreadable record(s) skipped" if self.skipped else ""
        return (
            f"arXiv{sets}{span}: {self.harvested} record(s) read in {self.requests} request(s), {self.new} new, "
            f"{self.updated} updated, {self.removed} removed{skipped}; {self.seconds:.1f}s "
            f"({self.waited_s:.1f}s waiting to be polite); generation {self.generation or 'none'}."
        )


def today_utc() -> date:
    return datetime.now(timezone.utc).date()


@contextmanager
def harvest_lock(settings: Settings) -> Iterator[None]:
    """One harvest at a time per index (a second one, from cron or the bot, fails at once)."""
    settings.feed_dir.mkdir(parents=True, exist_ok=True)
    with (settings.feed_dir / f"{settings.index.name}.harvest.lock").open("w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            raise PaperbotError(
                "Another arXiv harvest for this index is running (paperbot feed arxiv, or the bot's schedule); "
                "this one did nothing — let that one finish."
            ) from e
        yield


def feed_arxiv(
    settings: Settings,
    sets: list[str] | None = None,
    from_: str | None = None,
    until: str | None = None,
    log: Callable[[str], None] = lambda _: None,
    sleep: Callable[[float], None] = time.sleep,
) -> FeedReport:
    """Harvest ``sets`` (default: PAPERBOT_FEED__SETS) from ``from_`` (default: each set's cursor,
    the last day it completed, which is harvested again since arXiv may add to a day later; or
    ``first_days`` back for a new set) until ``until`` (default: today, UTC), and ingest it."""
    start = time.perf_counter()
    s = settings.feed
    sets = [check_set_input(x) for x in (sets or s.sets)]
    if not sets:
        raise BadInput(
            "no sets to harvest; pass --set cs:cs:CL (repeatable) or set PAPERBOT_FEED__SETS='[\"cs:cs:CL\"]'."
        )
    end = parse_day(until, "--until") if until else today_utc()
    first = parse_day(from_, "--from") if from_ else None
    if first and first > end:
        raise BadInput(f"--from {first} is after --until {end}; swap them.")
    with harvest_lock(settings):
        cursors = Cursors(settings.feed_dir, settings.index.name)
        known = cursors.read()
        starts = {x: first or _start(known.get(x), end, s.first_days) for x in sets}
        harvested = Harvested()
        with PoliteClient(s, settings.feed_dir, sleep) as client:
            for x in sets:
                harvest_set(client, s.oai_url, x, starts[x].isoformat(), end.isoformat(), s.metadata_prefix, harvested)
            requests, waited = client.requests, client.waited_s
        for bad in harvested.skipped:
            log(f"arXiv record {bad}: not readable as an arXiv paper; skipped.")
        papers, unreadable = _papers(harvested.records, log)
        report = _ingest(settings, papers, list(harvested.deleted), log)
        cursors.advance({x: end.isoformat() for x in sets})
    return FeedReport(
        harvested=harvested.read, requests=requests, from_=min(starts.values()).isoformat(), until=end.isoformat(),
        sets=sets, skipped=harvested.skipped + unreadable, waited_s=round(waited, 3),
        seconds=round(time.perf_counter() - start, 3), **report,
    )  # fmt: skip


def add_arxiv(
    settings: Settings, refs: list[str], log: Callable[[str], None] = lambda _: None,
    sleep: Callable[[float], None] = time.sleep,
) -> FeedReport:  # fmt: skip
    """Add the papers ``refs`` name (ids or abs/pdf links) through the export API: all of them,
    or, when one is unknown or malformed, none."""
    start = time.perf_counter()
    asked = parse_refs(refs)
    with PoliteClient(settings.feed, settings.feed_dir, sleep) as client:
        records = fetch(client, settings.feed.api_url, asked)
        requests, waited = client.requests, client.waited_s
    papers, unreadable = _papers({r.id: records[r] for r in asked}, log)
    if unreadable:
        raise BadInput(f"arXiv's record of {', '.join(unreadable)} has no usable abstract; nothing was added.")
    report = _ingest(settings, papers, [], log)
    return FeedReport(
        harvested=len(records), requests=requests, from_=None, until=None, waited_s=round(waited, 3),
        seconds=round(time.perf_counter() - start, 3), **report,
    )  # fmt: skip


def check_set_input(name: str) -> str:
    try:
        return check_set(name)
    except ValueError as e:
        raise BadInput(str(e)) from e


def _start(cursor: str | None, end: date, first_days: int) -> date:
    if cursor is None:
        return end - timedelta(days=first_days)
    return min(date.fromisoformat(cursor), end)


def _papers(records: dict[str, dict[str, Any]], log: Callable[[str], None]) -> tuple[list[Paper], list[str]]:
    """The papers of the records, by base id; records that are not papers are logged and named."""
    papers, bad = [], []
    for base, record in records.items():
        try:
            papers.append(paper_from_arxiv(record, f"arXiv:{base}"))
        except BadInput as e:
            log(f"{e} Skipped.")
            bad.append(base)
    return papers, bad


def _ingest(settings: Settings, papers: list[Paper], deleted: list[str], log: Callable[[str], None]) -> dict[str, Any]:
    """One ingest of what arrived (none when nothing did, or only deletions and no index yet);
    deletions of papers the index lacks change nothing (``ingest_papers`` finds so)."""
    current = layout.current_name(settings.index_dir)
    if not papers and (not deleted or current is None):
        return {"new": 0, "updated": 0, "removed": 0, "generation": current, "papers": [], "ingest_s": 0.0}
    report = ingest_papers(settings, papers, source="arXiv feed", removed=deleted, wait=True, log=log)
    return {
        "new": report.new_papers, "updated": report.changed_papers, "removed": report.removed,
        "generation": report.generation, "papers": [p.id for p in papers], "ingest_s": round(report.seconds, 3),
    }  # fmt: skip


__all__ = ["FeedReport", "add_arxiv", "feed_arxiv"]
