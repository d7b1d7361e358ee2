"""The Chroma store of chunk vectors, embedded (a folder in each generation) or on a Chroma
server (``index.chroma_url``: one collection per index, shared by its generations). chromadb and llama-index's
ChromaVectorStore live here and nowhere else: llama-index turns chunks into nodes and adds
them at ingest; queries talk to chromadb directly (importing llama-index's Chroma store
costs a second that a query does not need)."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from index.errors import PaperbotError
from index.settings import IndexSettings
from index.text import content_hash
from index.types import Chunk

COLLECTION = "chunks"
_BATCH = 2000  # under an embedded Chroma's max batch size; a server says its own
PREFIX = "paperbot"


class StoreUnavailable(PaperbotError):
    """The Chroma server cannot be reached or refused a request."""

    exit_code = 5


@dataclass(frozen=True)
class DenseMatch:
    chunk_id: str
    paper_id: str
    text: str
    similarity: float  # cosine
    stored_id: str = ""  # the id in the collection (a server's: ``stored_id``)


@dataclass(frozen=True)
class Server:
    """Where a Chroma server is, and the headers every request carries (a proxy's token)."""

    url: str
    headers: dict[str, str]

    @classmethod
    def of(cls, settings: IndexSettings) -> "Server | None":
        """The configured server, or None for Chroma embedded in each generation."""
        if not settings.chroma_url:
            return None
        return cls(settings.chroma_url, {k: v.get_secret_value() for k, v in settings.chroma_headers.items()})

    def client(self):
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise PaperbotError(
                f"PAPERBOT_INDEX__CHROMA_URL={self.url!r} is not a server URL; use http://host:port."
            )
        with _unavailable(self.url):
            return chromadb.HttpClient(
                host=parts.hostname, port=parts.port or (443 if parts.scheme == "https" else 80),
                ssl=parts.scheme == "https", headers=self.headers,
                settings=ChromaSettings(anonymized_telemetry=False),
            )  # fmt: skip


class _unavailable:
    """Turns any failure of a call to the server into one line that says what to do."""

    def __init__(self, url: str) -> None:
        self.url = url

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, error, tb) -> bool:
        if error is None or isinstance(error, PaperbotError) or not isinstance(error, Exception):
            return False
        reason = " ".join(str(error).split())[:200] or kind.__name__
        raise StoreUnavailable(
            f"Chroma server at {self.url} failed ({kind.__name__}: {reason}); check that it runs "
            "(`chroma run --path DIR --host HOST --port PORT`) and that PAPERBOT_INDEX__CHROMA_URL "
            "points at it, then run the command again."
        ) from error


def collection_name(index_name: str) -> str:
    """An index's collection on a server (Chroma allows [A-Za-z0-9._-])."""
    return f"{PREFIX}-{re.sub(r'[^A-Za-z0-9._-]', '-', index_name)}"


def stored_id(chunk: Chunk) -> str:
    """A chunk's id in a server's collection, which all generations of an index share:
    addressed by content too, so a paper corrected in a newer generation never changes the
    vectors that readers of an older one search, and an ingest uploads only chunks the
    server lacks."""
    return f"{chunk.id}@{content_hash(chunk.text)[:16]}"


class ChunkStore:
    """One collection of chunk vectors (cosine space).

    Embedded: ``expected`` is the number of chunks a new collection will receive. Chroma
    writes its HNSW files every ``sync_threshold`` additions and otherwise replays its log
    into them whenever a client opens the folder; with the threshold at the collection's
    size the files are complete when ingest ends."""

    def __init__(self, collection: Any, where: str, max_batch: int) -> None:
        self._collection = collection
        self._where = where
        self._max_batch = max_batch

    @classmethod
    def embedded(cls, path: Path, expected: int | None = None) -> "ChunkStore":
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        path.mkdir(parents=True, exist_ok=True)
        client = chromadb.PersistentClient(
            path=str(path), settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        )
        collection = client.get_or_create_collection(
            COLLECTION, metadata=_metadata(expected), embedding_function=None
        )
        return cls(collection, str(path), _BATCH)

    @classmethod
    def update_copy(
        cls, source: Path, path: Path, stale: list[str], fresh: list[Chunk], vectors: np.ndarray
    ) -> None:
        """Build ``path`` as a copy of the sealed collection at ``source`` changed by chunk-id
        difference: ``stale`` ids deleted, ``fresh`` chunks added. Costs a file copy plus the
        difference, where a rebuild re-inserts every vector (75% of a 100k-paper ingest)."""
        shutil.copytree(source, path, ignore=shutil.ignore_patterns("chroma.sqlite3*"), copy_function=_copy_file)
        database = source / "chroma.sqlite3"
        if any(database.with_name(database.name + s).exists() for s in ("-journal", "-wal")):
            # Changes not yet in the file itself (never so in a sealed generation: its writer
            # closed the database): SQLite's backup API makes a consistent copy.
            with sqlite3.connect(database) as src, sqlite3.connect(path / database.name) as dst:
                src.backup(dst)
        else:
            # The file is the database, and nothing writes it (the ingest lock is held and
            # readers never open Chroma): a file copy, 1.0 s against the backup API's 8.4 s
            # for the 2.3 GB of a 100k-paper index.
            _copy_file(database, path / database.name)
        ops = max(len(stale) + len(fresh), 2)
        store = cls.embedded(path)
        store.configure({"hnsw": {"sync_threshold": ops, "batch_size": min(ops, 100)}})
        for i in range(0, len(stale), _BATCH):
            store._collection.delete(ids=stale[i : i + _BATCH])
        if fresh:
            store.add(fresh, vectors)
        del store
        # The open collection keeps the threshold it was loaded with; opened again, Chroma
        # replays its log into the HNSW files under the new one: complete on disk, as after
        # a fresh build.
        close_embedded(path)
        cls.embedded(path).count()
        close_embedded(path)

    def configure(self, config: dict[str, Any]) -> None:
        """Change the collection's configuration (it applies once the folder is opened again)."""
        # Chroma's own start-up write on a newly opened folder can still hold SQLite's lock
        # for a moment (the first write then fails at once with "database is locked").
        for attempt in range(50):
            try:
                self._collection.modify(configuration=config)
                return
            except Exception as e:
                if "database is locked" not in str(e) or attempt == 49:
                    raise
                time.sleep(0.1)

    @classmethod
    def remote(cls, server: Server, name: str, create: bool = False) -> "ChunkStore":
        client = server.client()
        with _unavailable(server.url):
            if create:
                collection = client.get_or_create_collection(name, metadata=_metadata(None), embedding_function=None)
            else:
                collection = client.get_collection(name, embedding_function=None)
            return cls(collection, server.url, min(_BATCH, int(client.get_max_batch_size())))

    def count(self) -> int:
        with _unavailable(self._where):
            return int(self._collection.count())

    def add(self, chunks: list[Chunk], vectors: np.ndarray, ids: list[str] | None = None) -> None:
        """Add chunks under their ids (or ``ids``: a server's ``stored_id``s)."""
        from llama_index.core.schema import TextNode
        from llama_index.vector_stores.chroma import ChromaVectorStore

        store = ChromaVectorStore(chroma_collection=self._collection)
        nodes = [
            TextNode(id_=i, text=c.text, embedding=v.tolist(), metadata={"paper_id": c.paper_id, "position": c.position})
            for i, c, v in zip(ids or [c.id for c in chunks], chunks, vectors)
        ]
        with _unavailable(self._where):
            for i in range(0, len(nodes), self._max_batch):
                store.add(nodes[i : i + self._max_batch])

    def present(self, ids: list[str]) -> set[str]:
        """Which of ``ids`` the collection holds."""
        found: set[str] = set()
        with _unavailable(self._where):
            for i in range(0, len(ids), self._max_batch):
                found.update(self._collection.get(ids=ids[i : i + self._max_batch], include=[])["ids"])
        return found

    def all_ids(self) -> list[str]:
        out: list[str] = []
        with _unavailable(self._where):
            while True:
                page = self._collection.get(include=[], limit=self._max_batch, offset=len(out))["ids"]
                out.extend(page)
                if len(page) < self._max_batch:
                    return out

    def delete(self, ids: list[str]) -> None:
        with _unavailable(self._where):
            for i in range(0, len(ids), self._max_batch):
                self._collection.delete(ids=ids[i : i + self._max_batch])

    def query(self, vector: np.ndarray, k: int) -> list[DenseMatch]:
        """The ``k`` nearest chunks, nearest first (ties by chunk id)."""
        with _unavailable(self._where):
            k = min(k, int(self._collection.count()))
            if k <= 0:
                return []
            res = self._collection.query(
                query_embeddings=[np.asarray(vector, dtype=np.float32)], n_results=k,
                include=["distances", "documents", "metadatas"],
            )  # fmt: skip
        matches = [
            DenseMatch(chunk_id=i.split("@", 1)[0], paper_id=str(m["paper_id"]), text=d,
                       similarity=1.0 - float(dist), stored_id=i)  # fmt: skip
            for i, d, m, dist in zip(res["ids"][0], res["documents"][0], res["metadatas"][0], res["distances"][0])
        ]
        return sorted(matches, key=lambda m: (-m.similarity, m.chunk_id))


# Chroma's defaults (ef 100) miss a few of the 150 nearest chunks a query asks for on the
# bundled corpus. On 18k chunks of synthetic papers (python -m evals.bench.scale) ef 512 found
# 0.983 of the exact top-10 (0.970 of the top-150), ef 2000 0.997 (0.995) at about the cost
# of M=32 with ef 1000, and without M=32's extra memory. At 180k chunks (100k synthetic
# papers) ef 2000 found 0.981 with M=16, 0.996 with M=32 (+128 bytes a vector, HNSW build
# ~1.4x slower). A server searches its collection approximately, so collections get M=32
# (embedded readers search the vectors exactly; their collection is what a server would hold).
SEARCH_EF = 2000
CONSTRUCTION_EF = 200
M = 32


def _copy_file(src: str | Path, dst: str | Path) -> None:
    """Copy a file inside the kernel (copy_file_range; a reflink where the file system can):
    6x faster than shutil's sendfile loop on ext4. Falls back to shutil where there is none."""
    try:
        with open(src, "rb") as fin, open(dst, "wb") as fout:
            left = os.fstat(fin.fileno()).st_size
            while left > 0:
                copied = os.copy_file_range(fin.fileno(), fout.fileno(), left)
                if copied == 0:
                    break
                left -= copied
        if left == 0:
            return
    except (AttributeError, OSError):  # no such call here (macOS), or not between these files
        pass
    shutil.copyfile(src, dst)


def close_embedded(path: Path) -> None:
    """Let go of the embedded Chroma at ``path`` in this process: chromadb keeps every
    persistent client's system (database handles, HNSW in memory) for the process's life,
    which a long-running process that ingests again and again cannot afford."""
    from chromadb.api.shared_system_client import SharedSystemClient

    with SharedSystemClient._refcount_lock:
        system = SharedSystemClient._identifier_to_system.pop(str(path), None)
        SharedSystemClient._identifier_to_refcount.pop(str(path), None)
    if system is not None:
        system.stop()


def _metadata(expected: int | None) -> dict[str, str | int]:
    metadata: dict[str, str | int] = {
        "hnsw:space": "cosine", "hnsw:search_ef": SEARCH_EF, "hnsw:construction_ef": CONSTRUCTION_EF,
        "hnsw:M": M,
    }  # fmt: skip
    if expected is not None:
        sync = max(expected, 2)
        metadata |= {"hnsw:sync_threshold": sync, "hnsw:batch_size": min(sync, 100)}
    return metadata


def prune_remote(server: Server, index_name: str, keep: set[str]) -> int:
    """Delete from the index's collection every chunk no generation on disk uses (a deleted
    generation's, or a crashed ingest's), and the per-generation collections of index
    format 2; returns how many chunks went."""
    name = collection_name(index_name)
    client = server.client()
    with _unavailable(server.url):
        for legacy in [c.name for c in client.list_collections() if c.name.startswith(f"{name}-gen-")]:
            client.delete_collection(legacy)
    store = ChunkStore.remote(server, name, create=True)
    gone = [i for i in store.all_ids() if i not in keep]
    store.delete(gone)
    return len(gone)

