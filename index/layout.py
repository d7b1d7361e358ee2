"""The on-disk protocol of an index: generations, the pointer, leases and cleanup.

This docstring is the specification; ``tests/test_living_index.py`` and
``tests/test_crash_safety.py`` try to break it with real processes.

Files::

    <index>/CURRENT                  "gen-000003-1a2b3c": the generation readers use
    <index>/.lock                    held (flock, exclusive) by the one ingest that writes
    <index>/gen-000003-1a2b3c/       papers.jsonl, chunks.jsonl, bm25/, vocabulary.json,
                                     the vector store's files (index/vectors/; the exact
                                     store's vectors.npy), manifest.json (written last)
    <index>/.trash-gen-000001-.../   a generation being deleted (never read)

Rules:

1. **Writers.** One ingest at a time holds ``.lock``. It writes a whole new generation
   in a fresh folder (a name never used before), fsyncs its files, writes
   ``manifest.json`` last (``seal``), and only then replaces ``CURRENT`` by an atomic
   rename (``publish``). Nothing in a published generation is ever modified again.
2. **Crashes.** A crash at any point leaves either the old ``CURRENT`` or the new one,
   each naming a sealed generation. Unsealed generations are never read and are
   removed by the next ingest (``discard_incomplete``).
3. **Readers never write.** A reader opens files of a sealed generation read-only.
   It holds a *lease* while it uses a generation: a shared ``flock`` on that
   generation's ``manifest.json`` (a lock changes no file).
4. **Living index.** A long-running reader calls ``lease_current`` before each question;
   when ``CURRENT`` names a newer generation it moves to it and lets the old lease go
   once no question in flight uses the old generation.
5. **Cleanup.** After publishing, the ingest deletes every generation other than the
   current one *whose lease it can take exclusively without waiting*; a generation still
   leased is left for a later ingest. Deletion first renames the folder to
   ``.trash-<name>`` while holding the exclusive lock, so a reader that read the old name
   from ``CURRENT`` either got its shared lease before that (and the folder stays) or
   finds the path gone after it and reads ``CURRENT`` again.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from index.errors import IndexMissing, PaperbotError
from index.jsonl import read_rows, write_rows
from index.types import Paper

MANIFEST = "manifest.json"
PAPERS = "papers.jsonl"
POINTER = "CURRENT"
TRASH = ".trash-"


@dataclass(frozen=True)
class Generation:
    path: Path

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def bm25_dir(self) -> Path:
        return self.path / "bm25"

    def manifest(self) -> dict[str, Any]:
        return json.loads((self.path / MANIFEST).read_text())

    def papers(self) -> list[Paper]:
        return [Paper.from_dict(row) for row in read_rows(self.path / PAPERS)]

    def write_papers(self, papers: list[Paper]) -> None:
        write_rows(self.path / PAPERS, (p.to_dict() for p in papers))

    def seal(self, manifest: dict[str, Any]) -> None:
        """Make every file durable, then write the manifest last: a generation without one
        is incomplete."""
        _fsync_tree(self.path)
        atomic_write(self.path / MANIFEST, json.dumps(manifest, indent=2))


def _fsync_tree(root: Path) -> None:
    """Flush a generation's files and folders to disk before the manifest names them
    complete (a power cut after publish must not find half-written files)."""
    for folder, _, files in os.walk(root):
        for name in files:
            fd = os.open(os.path.join(folder, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(folder))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def current_name(index_dir: Path) -> str | None:
    """The generation name CURRENT holds (None: no index yet)."""
    try:
        return (index_dir / POINTER).read_text().strip() or None
    except FileNotFoundError:
        return None


def current_generation(index_dir: Path) -> Generation | None:
    """The generation CURRENT names (sealed by rule 1); None for an empty index."""
    name = current_name(index_dir)
    if name is None:
        return None
    gen = Generation(index_dir / name)
    if not (gen.path / MANIFEST).is_file():
        raise IndexMissing(
            f"{index_dir}: CURRENT names {name}, which is missing or incomplete; "
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


class Lease:
    """A shared lock on one sealed generation: while held, no ingest deletes it."""

    def __init__(self, generation: Generation, handle: IO[bytes]) -> None:
        self.generation = generation
        self._handle = handle

    def release(self) -> None:
        if not self._handle.closed:
            self._handle.close()  # closing the file drops the flock

    @property
    def held(self) -> bool:
        return not self._handle.closed


def lease_current(index_dir: Path, attempts: int = 50) -> Lease:
    """Lease the generation CURRENT names (rule 3). Retries while an ingest switches or
    deletes generations under us; raises IndexMissing when there is no index."""
    for _ in range(attempts):
        name = current_name(index_dir)
        if name is None:
            require_generation(index_dir)  # raises: no index yet
        gen = Generation(index_dir / name)
        manifest = gen.path / MANIFEST
        try:
            handle = manifest.open("rb")
        except FileNotFoundError:
            if current_name(index_dir) != name:
                continue  # switched and deleted after we read CURRENT: read it again
            require_generation(index_dir)  # raises: CURRENT names an incomplete generation
            continue
        fcntl.flock(handle, fcntl.LOCK_SH)
        try:
            same = os.stat(manifest).st_ino == os.fstat(handle.fileno()).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return Lease(gen, handle)
        handle.close()
        time.sleep(0.01)
    raise IndexMissing(f"{index_dir}: the index kept changing while it was opened; try again.")


def new_generation(index_dir: Path) -> Generation:
    """A fresh, never reused folder name: a name read from ``CURRENT`` always means the
    contents of one generation."""
    index_dir.mkdir(parents=True, exist_ok=True)
    numbers = [
        int(p.name.removeprefix(TRASH)[4:10])
        for p in index_dir.iterdir()
        if p.name.removeprefix(TRASH).startswith("gen-") and p.name.removeprefix(TRASH)[4:10].isdigit()
    ]
    gen = Generation(index_dir / f"gen-{max(numbers, default=0) + 1:06d}-{uuid.uuid4().hex[:6]}")
    gen.path.mkdir()
    return gen


def publish(index_dir: Path, gen: Generation) -> list[str]:
    """Make ``gen`` the one readers use (rule 1), then delete the generations nobody holds
    a lease on (rule 5). Returns the names of generations kept because they are leased."""
    atomic_write(index_dir / POINTER, gen.name)
    return collect_garbage(index_dir)


def collect_garbage(index_dir: Path) -> list[str]:
    current = current_name(index_dir)
    kept = []
    for path in sorted(index_dir.glob("gen-*")):
        if path.name == current or not path.is_dir():
            continue
        if not _delete_unleased(path):
            kept.append(path.name)
    for trash in index_dir.glob(f"{TRASH}*"):  # left by a crash half-way through a delete
        shutil.rmtree(trash, ignore_errors=True)
    return kept


def _delete_unleased(path: Path) -> bool:
    manifest = path / MANIFEST
    if not manifest.is_file():
        shutil.rmtree(path, ignore_errors=True)  # unsealed: never leased (rule 2)
        return True
    with manifest.open("rb") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        trash = path.with_name(TRASH + path.name)
        os.rename(path, trash)
    shutil.rmtree(trash, ignore_errors=True)
    return True


def discard_incomplete(index_dir: Path) -> None:
    """Remove generations left by an interrupted ingest (unsealed, not current; rule 2)."""
    current = current_name(index_dir)
    for gen in index_dir.glob("gen-*"):
        if gen.name != current and not (gen / MANIFEST).is_file():
            shutil.rmtree(gen, ignore_errors=True)
    for tmp in index_dir.glob(f"{POINTER}.*.tmp"):  # a pointer switch that never happened
        tmp.unlink(missing_ok=True)


@contextmanager
def ingest_lock(index_dir: Path, wait: Callable[[], None] | None = None) -> Iterator[None]:
    """One ingest at a time per index (rule 1). Without ``wait`` a second ingest fails at
    once; with it, ``wait()`` is called (to say so) and the ingest blocks until its turn."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with (index_dir / ".lock").open("w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            if wait is None:
                raise PaperbotError(
                    f"Another `paperbot ingest` is writing {index_dir}; wait for it to finish "
                    "(or pass --wait to queue behind it)."
                ) from e
            wait()
            fcntl.flock(f, fcntl.LOCK_EX)
        yield
