"""SQLite files that several paperbot processes share (the embedding cache, traces, the
Slack request log): opened one way everywhere."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

BUSY_TIMEOUT_S = 10.0


def open_shared(path: Path, threads: bool = False) -> sqlite3.Connection:
    """A connection in WAL mode (readers and one writer proceed together) whose writers wait
    up to BUSY_TIMEOUT_S for the lock instead of failing at once. ``threads``: the
    connection is used from several threads (the caller serialises writes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(str(path), check_same_thread=not threads, timeout=BUSY_TIMEOUT_S)
    db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    # Switching a new file to WAL takes an exclusive lock that the busy timeout does not
    # wait for: two processes starting together got "database is locked". Retry instead.
    end = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return db
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > end:
                raise
            time.sleep(0.05)
