"""Chroma: the ``chroma-server`` store, and the export of a generation to a Chroma folder.

chromadb and llama-index's Chroma integration live here and nowhere else (imported only when
Chroma is used). With a server (``index.chroma_url``, started with ``chroma run``) each index is
one collection, ``paperbot-<index>``, shared by its generations: chunks are stored under
content-addressed ids (``stored_id``), ingest uploads only the chunks the server lacks, queries search the server's
HNSW index and read the vectors of a paper's chunks from it, and no ``vectors.npy`` is written
or read. ``paperbot export chroma DIR`` writes the current generation of an exact-store index
as the same collection in a Chroma folder (``chromadb.PersistentClient(path=DIR)``)."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from index import layout
from index.errors import ConfigError, PaperbotError
from index.settings import IndexSettings, Settings
from index.text import content_hash
from index.types import Chunk
from index.vectors.base import CHUNKS, ChunkTable, Neighbour, VectorsOf, read_chunks
from index.vectors.exact import stored_vectors

_BATCH = 2000  # under an embedded Chroma's max batch size; a server says its own
PREFIX = "paperbot"


class StoreUnavailable(PaperbotError):
    """The Chroma server cannot be reached or refused a request."""

    exit_code = 5


@dataclass(frozen=True)
class Server:
    """Where a Chroma server is, and the headers every request carries (a proxy's token)."""

    url: str
    headers: dict[str, str]

    @classmethod
    def of(cls, settings: IndexSettings) -> "Server | None":
        """The configured server, or None."""
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
    """An index's collection (Chroma allows [A-Za-z0-9._-])."""
    return f"{PREFIX}-{re.sub(r'[^A-Za-z0-9._-]', '-', index_name)}"


def stored_id(chunk: Chunk) -> str:
    """A chunk's id in a collection, which all generations of an index share: addressed by
    content too, so a paper corrected in a newer generation never changes the vectors that
    readers of an older one search, and an ingest uploads only chunks the server lacks."""
    return f"{chunk.id}@{content_hash(chunk.text)[:16]}"


class ChunkStore:
    """One collection of chunk vectors (cosine space), in a Chroma folder or on a server.

    In a folder, ``expected`` is the number of chunks a new collection will receive. Chroma
    writes its HNSW files every ``sync_threshold`` additions and otherwise replays its log
    into them whenever a client opens the folder; with the threshold at the collection's
    size the files are complete when the writer is done."""

    def __init__(self, client: Any, collection: Any, where: str, max_batch: int) -> None:
        self._client = client
        self._collection = collection
        self.where = where
        self._max_batch = max_batch

    @classmethod
    def embedded(cls, path: Path, name: str, expected: int | None = None) -> "ChunkStore":
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        path.mkdir(parents=True, exist_ok=True)
        client = chromadb.PersistentClient(
            path=str(path), settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        )
        try:
            collection = client.get_or_create_collection(name, metadata=_metadata(expected), embedding_function=None)
        except BaseException:
            client.close()
            raise
        return cls(client, collection, str(path), _BATCH)

    @classmethod
    def remote(cls, server: Server, name: str, create: bool = False) -> "ChunkStore":
        client = server.client()
        try:
            with _unavailable(server.url):
                if create:
                    collection = client.get_or_create_collection(name, metadata=_metadata(None), embedding_function=None)
                else:
                    collection = client.get_collection(name, embedding_function=None)
                return cls(client, collection, server.url, min(_BATCH, int(client.get_max_batch_size())))
        except BaseException:
            client.close()
            raise

    def close(self) -> None:
        """Let go of the client: chromadb keeps a folder's database open (and its HNSW index in
        memory) until its last client closes."""
        self._client.close()

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

    def count(self) -> int:
        with _unavailable(self.where):
            return int(self._collection.count())

    def add(self, chunks: list[Chunk], vectors: np.ndarray, ids: list[str] | None = None) -> None:
        """Add chunks under their ids (or ``ids``: their ``stored_id``s), through llama-index's
        Chroma integration: the collection is one llama-index reads as its own vector store."""
        from llama_index.core.schema import TextNode
        from llama_index.vector_stores.chroma import ChromaVectorStore

        store = ChromaVectorStore(chroma_collection=self._collection)
        nodes = [
            TextNode(id_=i, text=c.text, embedding=v.tolist(), metadata={"paper_id": c.paper_id, "position": c.position})
            for i, c, v in zip(ids or [c.id for c in chunks], chunks, vectors)
        ]
        with _unavailable(self.where):
            for i in range(0, len(nodes), self._max_batch):
                store.add(nodes[i : i + self._max_batch])

    def present(self, ids: list[str]) -> set[str]:
        """Which of ``ids`` the collection holds."""
        found: set[str] = set()
        with _unavailable(self.where):
            for i in range(0, len(ids), self._max_batch):
                found.update(self._collection.get(ids=ids[i : i + self._max_batch], include=[])["ids"])
        return found

    def all_ids(self) -> list[str]:
        out: list[str] = []
        with _unavailable(self.where):
            while True:
                page = self._collection.get(include=[], limit=self._max_batch, offset=len(out))["ids"]
                out.extend(page)
                if len(page) < self._max_batch:
                    return out

    def delete(self, ids: list[str]) -> None:
        with _unavailable(self.where):
            for i in range(0, len(ids), self._max_batch):
                self._collection.delete(ids=ids[i : i + self._max_batch])

    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """The ids of the ``k`` nearest chunks by HNSW search and their cosines, nearest first
        (ties by id)."""
        with _unavailable(self.where):
            k = min(k, int(self._collection.count()))
            if k <= 0:
                return []
            res = self._collection.query(
                query_embeddings=[np.asarray(vector, dtype=np.float32)], n_results=k, include=["distances"]
            )
        found = [(i, 1.0 - float(d)) for i, d in zip(res["ids"][0], res["distances"][0])]
        return sorted(found, key=lambda m: (-m[1], m[0]))

    def embeddings(self, ids: list[str]) -> dict[str, np.ndarray]:
        """The stored vectors of those of ``ids`` the collection holds."""
        out: dict[str, np.ndarray] = {}
        with _unavailable(self.where):
            for i in range(0, len(ids), self._max_batch):
                got = self._collection.get(ids=ids[i : i + self._max_batch], include=["embeddings"])
                out.update(zip(got["ids"], np.asarray(got["embeddings"], dtype=np.float32)))
        return out


# Chroma's defaults (ef 100) miss a few of the 150 nearest chunks a query asks for on the
# bundled corpus. On 18k chunks of synthetic papers (python -m evals.bench.scale) ef 512 found
# 0.983 of the exact top-10 (0.970 of the top-150), ef 2000 0.997 (0.995) at about the cost
# of M=32 with ef 1000, and without M=32's extra memory. At 180k chunks (100k synthetic
# papers) ef 2000 found 0.981 with M=16, 0.996 with M=32 (+128 bytes a vector, HNSW build
# ~1.4x slower). A server searches its collection approximately, so collections get M=32.
SEARCH_EF = 2000
CONSTRUCTION_EF = 200
M = 32


def _metadata(expected: int | None) -> dict[str, str | int]:
    metadata: dict[str, str | int] = {
        "hnsw:space": "cosine", "hnsw:search_ef": SEARCH_EF, "hnsw:construction_ef": CONSTRUCTION_EF,
        "hnsw:M": M,
    }  # fmt: skip
    if expected is not None:
        sync = max(expected, 2)
        metadata |= {"hnsw:sync_threshold": sync, "hnsw:batch_size": min(sync, 100)}
    return metadata


class ChromaServerStore:
    """The ``chroma-server`` backend (base.VectorStore): one collection per index on a server."""

    name = "chroma-server"

    def __init__(self, server: Server, collection: str) -> None:
        self.server = server
        self.collection = collection

    @classmethod
    def of(cls, settings: IndexSettings) -> "ChromaServerStore":
        server = Server.of(settings)
        if server is None:
            raise ConfigError(
                "PAPERBOT_INDEX__VECTOR_STORE=chroma-server needs the server: set PAPERBOT_INDEX__CHROMA_URL "
                "to the http://host:port of a `chroma run`."
            )
        return cls(server, collection_name(settings.name))

    def write(self, gen: layout.Generation, chunks: list[Chunk], vectors_of: VectorsOf) -> dict[str, Any]:
        # Upload only what the server lacks: unchanged chunks are there from earlier
        # generations, and a rerun after a crash finds what the crashed ingest uploaded.
        store = ChunkStore.remote(self.server, self.collection, create=True)
        try:
            ids = [stored_id(c) for c in chunks]
            there = store.present(ids)
            todo = [i for i, sid in enumerate(ids) if sid not in there]
            if todo:
                store.add([chunks[i] for i in todo], vectors_of(todo), ids=[ids[i] for i in todo])
        finally:
            store.close()
        return {"chroma_collection": self.collection}

    def prune(self, index_dir: Path) -> None:
        """Delete from the collection every chunk no generation on disk uses (a deleted
        generation's, or a crashed ingest's; a leased generation keeps its folder and so its
        chunks), and the per-generation collections of index format 2."""
        keep = {
            stored_id(c) for gen in index_dir.glob("gen-*") if (gen / CHUNKS).is_file() for c in read_chunks(gen)
        }  # fmt: skip
        client = self.server.client()
        try:
            with _unavailable(self.server.url):
                for legacy in [c.name for c in client.list_collections() if c.name.startswith(f"{self.collection}-gen-")]:
                    client.delete_collection(legacy)
        finally:
            client.close()
        store = ChunkStore.remote(self.server, self.collection, create=True)
        try:
            store.delete([i for i in store.all_ids() if i not in keep])
        finally:
            store.close()

    def open(self, gen: layout.Generation, table: ChunkTable) -> "ServerVectors":
        return ServerVectors(ChunkStore.remote(self.server, gen.manifest()["chroma_collection"]), table)


class ServerVectors:
    """A generation's chunks in the server's collection, which also holds the chunks of the
    index's other generations: a search asks for as many more as there are chunks not its
    own and keeps its own."""

    def __init__(self, store: ChunkStore, table: ChunkTable) -> None:
        self.store = store
        self.table = table
        self._ids = [stored_id(c) for c in table.chunks]
        self._rows = {sid: row for row, sid in enumerate(self._ids)}

    def nearest(self, query: np.ndarray, n: int) -> list[Neighbour]:
        want = n + max(0, self.store.count() - len(self._rows))
        found = [(self._rows[sid], sim) for sid, sim in self.store.query(query, want) if sid in self._rows]
        return self.table.ranked(found, n)

    def similarities(self, query: np.ndarray, paper_ids: Sequence[str]) -> list[np.ndarray]:
        query = np.asarray(query, dtype=np.float32)

        def cosines(rows: list[int]) -> np.ndarray:
            ids = [self._ids[r] for r in rows]
            stored = self.store.embeddings(ids)
            if len(stored) < len(ids):
                raise StoreUnavailable(
                    f"The collection on the Chroma server at {self.store.where} lacks {len(ids) - len(stored)} "
                    "chunks of this index (deleted outside paperbot?); delete the index folder and run "
                    "`paperbot ingest` to upload them again (embeddings are cached)."
                )
            return np.stack([stored[i] for i in ids]) @ query

        return self.table.per_paper(paper_ids, cosines)

    def close(self) -> None:
        self.store.close()


def export_collection(path: Path, name: str, chunks: list[Chunk], vectors_of: VectorsOf) -> tuple[int, int]:
    """Make the collection ``name`` of the Chroma folder ``path`` hold exactly ``chunks`` (under
    their ``stored_id``s, as a server holds them): built whole the first time, an earlier export
    updated by difference. Chroma's HNSW files are complete when it returns (a client opening
    the folder replays nothing). Returns (chunks added, chunks deleted)."""
    ids = [stored_id(c) for c in chunks]
    store = ChunkStore.embedded(path, name, expected=len(ids))  # ``expected`` applies to a new collection only
    try:
        there = set(store.all_ids())
        stale = sorted(there - set(ids))
        todo = [i for i, sid in enumerate(ids) if sid not in there]
        if there:
            ops = max(len(stale) + len(todo), 2)
            store.configure({"hnsw": {"sync_threshold": ops, "batch_size": min(ops, 100)}})
        store.delete(stale)
        if todo:
            store.add([chunks[i] for i in todo], vectors_of(todo), ids=[ids[i] for i in todo])
    finally:
        store.close()
    if there and (stale or todo):
        # The open collection kept the threshold it was loaded with; opened again, Chroma
        # replays its log into the HNSW files under the new one.
        again = ChunkStore.embedded(path, name)
        again.count()
        again.close()
    return len(todo), len(stale)


def export_chroma(settings: Settings, path: Path) -> dict[str, Any]:
    """``paperbot export chroma DIR``: the current generation as the collection
    ``paperbot-<index>`` in the Chroma folder ``path``."""
    lease = layout.lease_current(settings.index_dir)  # not deleted while we read it
    try:
        gen = lease.generation
        vectors = stored_vectors(gen.path)
        name = collection_name(settings.index.name)
        if vectors is None:
            raise ConfigError(
                f"{settings.index_dir} keeps its vectors on a Chroma server, in the collection {name}: "
                "query that server, or rebuild the index without PAPERBOT_INDEX__CHROMA_URL to export it."
            )
        chunks = read_chunks(gen.path)
        added, deleted = export_collection(path, name, chunks, lambda rows: vectors[np.asarray(rows, dtype=np.int64)])
    finally:
        lease.release()
    return {"path": str(path), "collection": name, "generation": gen.name, "chunks": len(chunks),
            "added": added, "deleted": deleted}  # fmt: skip
