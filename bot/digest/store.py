"""The digest's durable state, one SQLite file in the data dir shared by every bot process
(``digests.sqlite``): each channel's subscription, every paper each channel was sent (a channel
never gets a paper twice), the votes and "Ask about this" clicks on digest items, and when each
paper of an index was first seen, which is what "new since the last digest" is measured by."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

from index.db import open_shared

_SCHEMA = """
CREATE TABLE IF NOT EXISTS channels (
    channel TEXT PRIMARY KEY,
    enabled INTEGER NOT NULL,
    cadence TEXT NOT NULL,       -- daily or weekly
    at TEXT NOT NULL,            -- HH:MM in tz
    tz TEXT NOT NULL,            -- an IANA timezone name
    keywords TEXT NOT NULL,      -- what the channel says it follows (stands in for a thin history)
    since REAL NOT NULL,         -- papers first seen after this are candidates: the last digest, or opting in
    last_period TEXT,            -- the period of the last digest posted (or found empty)
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sent (
    channel TEXT NOT NULL,
    paper_id TEXT NOT NULL,
    period TEXT NOT NULL,
    ts TEXT,                     -- the digest message (NULL while reserved, before it is posted)
    sent REAL NOT NULL,
    PRIMARY KEY (channel, paper_id)
);
CREATE TABLE IF NOT EXISTS reactions (
    channel TEXT NOT NULL,
    paper_id TEXT NOT NULL,
    user TEXT NOT NULL,
    kind TEXT NOT NULL,          -- vote or ask
    value INTEGER NOT NULL,      -- +1 / -1 (an ask is +1)
    created REAL NOT NULL,
    PRIMARY KEY (channel, paper_id, user, kind)
);
CREATE TABLE IF NOT EXISTS seen (
    index_name TEXT NOT NULL,
    paper_id TEXT NOT NULL,
    first_seen REAL NOT NULL,
    PRIMARY KEY (index_name, paper_id)
);
CREATE INDEX IF NOT EXISTS seen_by_time ON seen (index_name, first_seen);
CREATE INDEX IF NOT EXISTS sent_by_period ON sent (channel, period);
"""


@dataclass(frozen=True)
class Subscription:
    channel: str
    enabled: bool = False
    cadence: str = "daily"
    at: str = "09:00"
    tz: str = "UTC"
    keywords: str = ""
    since: float = 0.0
    last_period: str | None = None
    updated: float = 0.0


@dataclass(frozen=True)
class Reaction:
    paper_id: str
    kind: str
    value: int
    created: float


class DigestStore:
    def __init__(self, path: Path) -> None:
        self._db = open_shared(path, threads=True)
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self._observed: set[tuple[str, str]] = set()  # (index, generation) noted by observe

    # -- subscriptions ------------------------------------------------------------------------
    def subscription(self, channel: str) -> Subscription | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM channels WHERE channel = ?", (channel,)).fetchone()
        return _subscription(row) if row else None

    def enabled(self) -> list[Subscription]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM channels WHERE enabled = 1 ORDER BY channel").fetchall()
        return [_subscription(r) for r in rows]

    def save(self, sub: Subscription) -> Subscription:
        sub = replace(sub, updated=time.time())
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO channels VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (sub.channel, int(sub.enabled), sub.cadence, sub.at, sub.tz, sub.keywords, sub.since,
                 sub.last_period, sub.updated),  # fmt: skip
            )
        return sub

    # -- what was sent ------------------------------------------------------------------------
    def sent_ids(self, channel: str) -> set[str]:
        with self._lock:
            rows = self._db.execute("SELECT paper_id FROM sent WHERE channel = ?", (channel,)).fetchall()
        return {r[0] for r in rows}

    def reserve(self, channel: str, period: str, paper_ids: list[str]) -> list[str]:
        """Claim ``paper_ids`` for the digest of ``period`` before it is posted; returns those no
        other digest of the channel has (in order). Two digests built at once (a scheduled one and
        ``now``, or two processes) never post the same paper: the second finds it taken."""
        now = time.time()
        mine = []
        with self._lock, self._db:
            for p in paper_ids:
                cur = self._db.execute("INSERT OR IGNORE INTO sent VALUES (?, ?, ?, NULL, ?)", (channel, p, period, now))
                if cur.rowcount == 1:
                    mine.append(p)
        return mine

    def release(self, channel: str, period: str) -> None:
        """Give back what ``reserve`` took for a digest that was not posted (Slack refused it)."""
        with self._lock, self._db:
            self._db.execute("DELETE FROM sent WHERE channel = ? AND period = ? AND ts IS NULL", (channel, period))

    def started(self, channel: str, period: str) -> bool:
        """Whether a digest of ``period`` reserved papers: a process that died after that may have
        posted it, so it is not built again (a paper is never sent twice)."""
        with self._lock:
            row = self._db.execute("SELECT 1 FROM sent WHERE channel = ? AND period = ? LIMIT 1", (channel, period))
            return row.fetchone() is not None

    def record_sent(self, channel: str, period: str, ts: str | None, until: float, scheduled: bool = True) -> None:
        """The digest of ``period`` was posted as message ``ts`` (or found empty): its reserved
        papers are sent, and the next digest starts from papers first seen after ``until``. A
        ``scheduled`` one is the channel's last period (one asked for with ``now`` is not)."""
        now = time.time()
        with self._lock, self._db:
            self._db.execute("UPDATE sent SET ts = ?, sent = ? WHERE channel = ? AND period = ?",
                             (ts, now, channel, period))  # fmt: skip
            self._db.execute(
                "UPDATE channels SET last_period = CASE WHEN ? THEN ? ELSE last_period END, since = MAX(since, ?), "
                "updated = ? WHERE channel = ?",
                (scheduled, period, until, now, channel),
            )

    # -- reactions to digest items -----------------------------------------------------------
    def react(self, channel: str, paper_id: str, user: str, kind: str, value: int) -> None:
        """A vote (+1/-1; a user's later vote replaces the earlier) or an "Ask about this" (+1)."""
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO reactions VALUES (?, ?, ?, ?, ?, ?)",
                (channel, paper_id, user, kind, 1 if value > 0 else -1, time.time()),
            )

    def reactions(self, channel: str) -> list[Reaction]:
        with self._lock:
            rows = self._db.execute(
                "SELECT paper_id, kind, value, created FROM reactions WHERE channel = ? ORDER BY created", (channel,)
            ).fetchall()
        return [Reaction(*r) for r in rows]

    # -- when papers arrived -----------------------------------------------------------------
    def observe(self, index_name: str, paper_ids: list[str], at: float, generation: str = "") -> None:
        """Papers of the index's current generation: those not seen before were added at ``at``
        (the generation's creation). Any ingest counts: the feed, `paperbot add`, a file. A
        ``generation`` this store noted already is not read again (100k ids at every digest)."""
        if generation and (index_name, generation) in self._observed:
            return
        with self._lock, self._db:
            self._db.executemany(
                "INSERT OR IGNORE INTO seen VALUES (?, ?, ?)", [(index_name, p, at) for p in paper_ids]
            )
        if generation:
            self._observed.add((index_name, generation))

    def first_seen(self, index_name: str, after: float, until: float | None = None) -> dict[str, float]:
        """Papers first seen after ``after`` (and at or before ``until``), with when."""
        with self._lock:
            rows = self._db.execute(
                "SELECT paper_id, first_seen FROM seen WHERE index_name = ? AND first_seen > ? AND first_seen <= ?",
                (index_name, after, float("inf") if until is None else until),
            ).fetchall()
        return dict(rows)

    def close(self) -> None:
        self._db.close()


def _subscription(row: tuple) -> Subscription:
    channel, enabled, cadence, at, tz, keywords, since, last_period, updated = row
    return Subscription(channel, bool(enabled), cadence, at, tz, keywords, since, last_period, updated)
