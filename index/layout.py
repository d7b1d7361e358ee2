"""Where an index lives on disk, and how a new version replaces the old one safely.

An index folder holds numbered generations and a ``CURRENT`` file naming the one to use:

    <index>/CURRENT            "gen-000003-1a2b3c"
    <index>/gen-000003-1a2b3c/       papers.jsonl, chroma/, bm25/, manifest.json (written last)

Ingest writes a whole new generation beside the current one and only then replaces
``CURRENT`` (an atomic rename). A crash or Ctrl-C mid-ingest leaves a generation that
``CURRENT`` never names and that has no manifest; readers never look at it and the next
ingest deletes it."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import IndexMissing, PaperbotError
from bot.types import Paper

MANIFEST = "manifest.json"
PAPERS = "papers.jsonl"
KEEP_GENERATIONS = 2  # the previous one stays for processes that still have it open


@dataclass(frozen=True)
class Generation:
    path: Path

    @property
    def chroma_dir(self) -> Path:
        return self.path / "chroma"

    @property
    def bm25_dir(self) -> Path:
        return self.path / "bm25"

    def manifest(self) -> dict[str, Any]:
        return json.loads((self.path / MANIFEST).read_text())

    def papers(self) -> list[Paper]:
        with (self.path / PAPERS).open(encoding="utf-8") as f:
            return [Paper.from_dict(json.loads(line)) for line in f if line.strip()]

    def write_papers(self, papers: list[Paper]) -> None:
        with (self.path / PAPERS).open("w", encoding="utf-8") as f:
            for p in papers:
                f.write(json.dumps(p.to_dict(), ensure_ascii=False) + "\n")

    def seal(self, manifest: dict[str, Any]) -> None:
        """Write the manifest last: a generation without one is incomplete."""
        _atomic_write(self.path / MANIFEST, json.dumps(manifest, indent=2))


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def current_generation(index_dir: Path) -> Generation | None:
    """The generation CURRENT names, if it is complete; None for an empty index."""
    pointer = index_dir / "CURRENT"
    if not pointer.is_file():
        return None
    gen = Generation(index_dir / pointer.read_text().strip())
    if not (gen.path / MANIFEST).is_file():
        raise IndexMissing(
            f"{index_dir}: CURRENT names {gen.path.name}, which is incomplete; "
            "re-run `paperbot ingest` to rebuild the index."
        )
    return gen


def require_generation(index_dir: Path) -> Generation:
    gen = current_generation(index_dir)
    if gen is None:
        raise IndexMissing(
            f"No index at {index_dir}; run `paperbot ingest` first (no paths = the bundled corpus)."
        )
    return gen


def new_generation(index_dir: Path) -> Generation:
    """A fresh, never reused folder name: Chroma caches open databases by path inside a
    process, so reusing the name of a discarded generation would hit a stale handle."""
    index_dir.mkdir(parents=True, exist_ok=True)
    numbers = [int(p.name[4:10]) for p in index_dir.glob("gen-*") if p.name[4:10].isdigit()]
    gen = Generation(index_dir / f"gen-{max(numbers, default=0) + 1:06d}-{uuid.uuid4().hex[:6]}")
    gen.path.mkdir()
    return gen


def publish(index_dir: Path, gen: Generation) -> None:
    """Make ``gen`` the one readers use, then drop generations nobody should still need."""
    _atomic_write(index_dir / "CURRENT", gen.path.name)
    gens = sorted(p for p in index_dir.glob("gen-*") if p.is_dir())
    for old in gens[: -KEEP_GENERATIONS]:
        shutil.rmtree(old, ignore_errors=True)


def discard_incomplete(index_dir: Path) -> None:
    """Remove generations left by an interrupted ingest (no manifest, not current)."""
    current = (index_dir / "CURRENT").read_text().strip() if (index_dir / "CURRENT").is_file() else ""
    for gen in index_dir.glob("gen-*"):
        if gen.name != current and not (gen / MANIFEST).is_file():
            shutil.rmtree(gen, ignore_errors=True)


@contextmanager
def ingest_lock(index_dir: Path) -> Iterator[None]:
    """One ingest at a time per index; a second one fails fast instead of interleaving."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with (index_dir / ".lock").open("w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            raise PaperbotError(
                f"Another `paperbot ingest` is writing {index_dir}; wait for it to finish."
            ) from e
        yield
