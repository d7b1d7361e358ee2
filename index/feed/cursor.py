"""Where each harvested set has got to: the last day a run completed, per index and set, kept
in the data dir and replaced atomically only after the run's papers are published (a failed
or killed run leaves it as it was, and the rerun harvests the same days again)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from index.errors import ConfigError
from index.layout import atomic_write


class Cursors:
    def __init__(self, feed_dir: Path, index_name: str) -> None:
        self.path = feed_dir / f"{index_name}.cursors.json"

    def read(self) -> dict[str, str]:
        """{set: last completed day (YYYY-MM-DD)}; {} before the first harvest."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            # Written atomically, so this is damage from outside: say so rather than re-harvest years.
            raise ConfigError(
                f"{self.path} is not the feed's cursor file ({e}); fix it or delete it and pass "
                "--from YYYY-MM-DD to say where the harvest starts."
            ) from e
        return {str(k): str(v) for k, v in data.items()}

    def advance(self, days: dict[str, str]) -> None:
        """Move each set's cursor to its day, never back (a backfill of older days keeps it)."""
        cursors = self.read()
        for set_, day in days.items():
            cursors[set_] = max(cursors.get(set_, day), day)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(self.path, json.dumps(cursors, indent=2, sort_keys=True))

    def last_run(self) -> datetime | None:
        """When a run last completed (the file is rewritten by every completed run); None before."""
        try:
            return datetime.fromtimestamp(self.path.stat().st_mtime, timezone.utc)
        except FileNotFoundError:
            return None
