"""Every answer's run, recorded in a local SQLite file for replay and debugging:
question, the settings that shaped it (never secrets), hits with scores, prompt
version, backend/model, raw model output, final answer, timings."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from index.db import open_shared
from index.errors import BadInput
from index.settings import Settings
from bot.types import Answer

_SCHEMA = """CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    created TEXT NOT NULL,
    question TEXT NOT NULL,
    settings TEXT NOT NULL,
    prompt_version TEXT NOT NULL,
    backend TEXT NOT NULL,
    raw_output TEXT NOT NULL,
    answer TEXT NOT NULL,
    timings TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS feedback (
    run_id TEXT NOT NULL,
    user TEXT NOT NULL,
    vote INTEGER NOT NULL,  -- +1 or -1; a user's later click replaces the earlier one
    created TEXT NOT NULL,
    PRIMARY KEY (run_id, user)
)"""


def traced_settings(settings: Settings) -> dict[str, Any]:
    """The settings that decide an answer; the API key is never part of it."""
    return {
        "retrieval": settings.retrieval.model_dump(),
        "answer": settings.answer.model_dump(),
        "llm": settings.llm.model_dump(exclude={"api_key"}),
        "index": settings.index.name,
    }


class TraceStore:
    def __init__(self, path: Path) -> None:
        # Several processes (a bot, batch `ask`, evals) record into one file.
        self._db = open_shared(path, threads=True)
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()  # Slack handlers record from several threads

    def record(self, answer: Answer, settings: Settings, prompt_version: str) -> None:
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    answer.run_id,
                    time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    answer.question,
                    json.dumps(traced_settings(settings)),
                    prompt_version,
                    answer.backend,
                    answer.raw_output,
                    json.dumps(answer.to_dict()),
                    json.dumps(answer.timings),
                ),
            )

    def add_feedback(self, run_id: str, user: str, vote: int) -> None:
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO feedback VALUES (?, ?, ?, ?)",
                (run_id, user, 1 if vote > 0 else -1, time.strftime("%Y-%m-%dT%H:%M:%S%z")),
            )

    def feedback(self, run_id: str) -> list[tuple[str, int]]:
        return self._db.execute("SELECT user, vote FROM feedback WHERE run_id = ?", (run_id,)).fetchall()

    def cited(self, run_ids: list[str]) -> dict[str, list[str]]:
        """The papers each recorded run's answer cited (none for a refusal), by run id."""
        out: dict[str, list[str]] = {}
        for chunk in _chunks(run_ids):
            marks = ", ".join("?" * len(chunk))
            for run_id, answer in self._db.execute(f"SELECT run_id, answer FROM runs WHERE run_id IN ({marks})", chunk):
                out[run_id] = [c["paper_id"] for c in json.loads(answer).get("citations", [])]
        return out

    def net_votes(self, run_ids: list[str]) -> dict[str, int]:
        """Thumbs up minus thumbs down on each run that has any, by run id."""
        out: dict[str, int] = {}
        for chunk in _chunks(run_ids):
            marks = ", ".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT run_id, SUM(vote) FROM feedback WHERE run_id IN ({marks}) GROUP BY run_id", chunk
            )
            out.update({run_id: int(total) for run_id, total in rows})
        return out

    def downvoted(self) -> list[dict[str, Any]]:
        """Runs with a net thumbs-down, oldest first, with their recorded answers."""
        rows = self._db.execute(
            "SELECT r.run_id, r.question, r.answer FROM runs r JOIN feedback f ON f.run_id = r.run_id "
            "GROUP BY r.run_id HAVING SUM(f.vote) < 0 ORDER BY MIN(f.created)"
        ).fetchall()
        return [{"run_id": r, "question": q, "answer": json.loads(a)} for r, q, a in rows]

    def get(self, run_id: str) -> dict[str, Any]:
        row = self._db.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            raise BadInput(f"No recorded run {run_id!r}; run ids are printed with each answer (--json: run_id).")
        cols = [d[0] for d in self._db.execute("SELECT * FROM runs LIMIT 0").description]
        rec = dict(zip(cols, row))
        for key in ("settings", "answer", "timings"):
            rec[key] = json.loads(rec[key])
        return rec

    def close(self) -> None:
        self._db.close()


def _chunks(items: list[str], size: int = 500) -> list[list[str]]:
    """SQLite takes at most 999 parameters in a statement (older builds)."""
    return [items[i : i + size] for i in range(0, len(items), size)]
