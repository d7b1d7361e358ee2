"""The Slack bot's durable request log and its bounded answering pool.

Every question is a row in SQLite before Slack gets its ack, keyed by Slack's event id:
``claim`` is an INSERT OR IGNORE, so of two deliveries (a retry, a duplicate, two bot
processes sharing the file) exactly one wins and answers. A row moves
pending → answering → done | failed; the process that owns it is written next to it, so
a process that starts later can tell a question whose owner died (kill -9, a crash) from
one still being answered, and take it over (``orphans`` / ``take_over``).

``AnswerPool`` runs the answering on a fixed number of threads behind a bounded queue,
apart from the threads that ack, so slow answers never delay an ack."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from index.db import open_shared

OPEN_STATES = ("pending", "answering")
REQUESTS_FILE = "slack_requests.sqlite"  # in the data dir

_SCHEMA = """CREATE TABLE IF NOT EXISTS requests (
    event_id TEXT PRIMARY KEY,  -- Slack's event id; for a slash command its trigger id
    kind TEXT NOT NULL,         -- 'event' or 'command'
    channel TEXT NOT NULL,
    thread_ts TEXT,             -- where the answer goes; a command's thread is made when answering
    react_ts TEXT,              -- the message that carries the busy reaction, if any
    user TEXT NOT NULL,
    text TEXT NOT NULL,
    state TEXT NOT NULL,        -- pending, answering, done, failed
    owner TEXT NOT NULL,        -- host:pid of the process answering it
    created REAL NOT NULL,
    updated REAL NOT NULL,
    response_url TEXT,          -- a slash command's reply URL: works where the bot is not a member
    team TEXT,                  -- the asker's team: streaming a reply into a channel names its recipient
    run_id TEXT                 -- the answer's run (its trace: cited papers, votes), once answered
)"""
# Columns added after the first release: (name, declaration), appended to older files on open.
_ADDED = (("team", "TEXT"), ("run_id", "TEXT"))
# Kinds of request that are questions a channel asked (a digest's "Ask about this" included),
# and the rows of a channel's answered questions.
QUESTION_KINDS = ("event", "command", "ask")
_ASKED_IN = f"channel = ? AND state = 'done' AND kind IN ({', '.join('?' * len(QUESTION_KINDS))})"


def this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class Request:
    event_id: str
    kind: str
    channel: str
    thread_ts: str | None
    react_ts: str | None
    user: str
    text: str
    state: str = "pending"
    owner: str = ""
    created: float = 0.0
    updated: float = 0.0
    response_url: str | None = None
    team: str = ""
    run_id: str | None = None


class RequestLog:
    def __init__(self, path: Path, owner: str | None = None) -> None:
        self.owner = owner or this_process()
        self._db = open_shared(path, threads=True)  # two bot processes may share the file
        self._db.execute(_SCHEMA)
        # A channel's history (the digest) and a digest thread's asks are read by channel.
        self._db.execute("CREATE INDEX IF NOT EXISTS requests_by_channel ON requests (channel, thread_ts)")
        have = {row[1] for row in self._db.execute("PRAGMA table_info(requests)")}
        for name, decl in _ADDED:
            if name not in have:
                try:
                    with self._db:
                        self._db.execute(f"ALTER TABLE requests ADD COLUMN {name} {decl}")
                except Exception:  # noqa: BLE001 - another process added it first
                    pass
        self._lock = threading.Lock()  # acks and workers write from several threads

    def claim(self, r: Request) -> bool:
        """Record ``r`` as pending and owned by us (created at ``r.created`` when given, else now);
        False when the event id is known already."""
        now = time.time()
        created = r.created or now
        with self._lock, self._db:
            cur = self._db.execute(
                "INSERT OR IGNORE INTO requests VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, NULL)",
                (r.event_id, r.kind, r.channel, r.thread_ts, r.react_ts, r.user, r.text, self.owner, created, now,
                 r.response_url, r.team),  # fmt: skip
            )
        return cur.rowcount == 1

    def release(self, event_id: str) -> None:
        """Drop our claim on a request not yet started, so that it can be claimed again (a
        digest that could not be posted now is tried again at the next check)."""
        with self._lock, self._db:
            self._db.execute(
                "DELETE FROM requests WHERE event_id = ? AND owner = ? AND state IN ('pending', 'failed')",
                (event_id, self.owner),
            )

    def seen(self, event_id: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM requests WHERE event_id = ?", (event_id,)).fetchone() is not None

    def set_state(self, event_id: str, state: str, thread_ts: str | None = None) -> None:
        with self._lock, self._db:
            self._db.execute(
                "UPDATE requests SET state = ?, thread_ts = COALESCE(?, thread_ts), updated = ? WHERE event_id = ?",
                (state, thread_ts, time.time(), event_id),
            )

    def set_run(self, event_id: str, run_id: str) -> None:
        """The answer's run id: what the channel's digest learns from (its cited papers, votes)."""
        with self._lock, self._db:
            self._db.execute("UPDATE requests SET run_id = ? WHERE event_id = ?", (run_id, event_id))

    def asked_in(self, channel: str) -> list[Request]:
        """The questions answered in ``channel``, oldest first."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT * FROM requests WHERE {_ASKED_IN} ORDER BY created", (channel, *QUESTION_KINDS)
            ).fetchall()
        return [Request(*row) for row in rows]

    def count_asked(self, channel: str) -> int:
        """How many questions were answered in ``channel``."""
        with self._lock:
            row = self._db.execute(f"SELECT COUNT(*) FROM requests WHERE {_ASKED_IN}", (channel, *QUESTION_KINDS))
            return int(row.fetchone()[0])

    def thread_asks(self, channel: str, thread_ts: str) -> list[str]:
        """The "Ask about this" questions of a digest's thread, oldest first: a follow-up there is
        about those papers, though Slack shows the asks as the bot's messages."""
        with self._lock:
            rows = self._db.execute(
                "SELECT text FROM requests WHERE channel = ? AND thread_ts = ? AND kind = 'ask' ORDER BY created",
                (channel, thread_ts),
            ).fetchall()
        return [r[0] for r in rows]

    def get(self, event_id: str) -> Request | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM requests WHERE event_id = ?", (event_id,)).fetchone()
        return Request(*row) if row else None

    def orphans(self, stale_after_s: float) -> list[Request]:
        """Unfinished questions whose owner is gone: a dead process on this host, or (for
        another host, whose processes we cannot see) no progress for ``stale_after_s``."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM requests WHERE state IN (?, ?) ORDER BY created", OPEN_STATES
            ).fetchall()
        return [r for r in map(lambda row: Request(*row), rows) if not _alive(r.owner, r.updated, stale_after_s)]

    def take_over(self, r: Request) -> bool:
        """Make an orphan ours; False when another process took it first."""
        with self._lock, self._db:
            cur = self._db.execute(
                "UPDATE requests SET owner = ?, state = 'pending', updated = ? "
                "WHERE event_id = ? AND owner = ? AND state = ?",
                (self.owner, time.time(), r.event_id, r.owner, r.state),
            )
        return cur.rowcount == 1


def _alive(owner: str, updated: float, stale_after_s: float) -> bool:
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname():
        return time.time() - updated < stale_after_s
    try:
        os.kill(int(pid), 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError):
        return True
    return True


class PoolFull(Exception):
    """The answering queue is at its limit."""


class PoolClosed(Exception):
    """The pool is draining for shutdown and takes no new work."""


class AnswerPool:
    """``workers`` threads run submitted jobs in order; at most ``queue_limit`` wait."""

    def __init__(self, workers: int, queue_limit: int) -> None:
        self._jobs: deque[Callable[[], None]] = deque()
        self._limit = queue_limit
        self._idle = 0
        self._running = 0
        self._closed = False
        self._cond = threading.Condition()
        for i in range(workers):
            threading.Thread(target=self._work, name=f"paperbot-answer-{i}", daemon=True).start()

    def submit(self, job: Callable[[], None]) -> int | None:
        """Queue ``job``. Returns None when a worker takes it at once, else how many queued
        questions wait ahead of it. Raises PoolFull or PoolClosed when it cannot take it."""
        with self._cond:
            if self._closed:
                raise PoolClosed
            ahead = len(self._jobs)
            starts_now = self._idle > ahead
            if not starts_now and ahead >= self._limit:
                raise PoolFull
            self._jobs.append(job)
            self._cond.notify_all()  # notify() could wake drain() instead of a worker
        return None if starts_now else ahead

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        with self._cond:
            self._closed = True

    def drain(self, timeout: float) -> bool:
        """Stop taking work and wait for queued and running jobs; True when all finished."""
        end = time.monotonic() + timeout
        with self._cond:
            self._closed = True
            while self._jobs or self._running:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def _work(self) -> None:
        while True:
            with self._cond:
                self._idle += 1
                while not self._jobs:
                    self._cond.wait()
                self._idle -= 1
                job = self._jobs.popleft()
                self._running += 1
            try:
                job()  # jobs report their own errors; this guard keeps the worker alive
            except Exception:  # noqa: BLE001
                logging.getLogger("paperbot.slack").exception("answer job failed")
            finally:
                with self._cond:
                    self._running -= 1
                    self._cond.notify_all()
