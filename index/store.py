"""The dense index: chunk vectors in a persistent Chroma collection, used through
llama-index's ChromaVectorStore. chromadb and llama-index live here and nowhere else."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.types import Chunk

COLLECTION = "chunks"
_BATCH = 2000  # under Chroma's max batch size


@dataclass(frozen=True)
class DenseMatch:
    chunk_id: str
    paper_id: str
    text: str
    similarity: float  # cosine


class ChunkStore:
    """``expected``: the number of chunks a new collection will receive. Chroma writes its
    HNSW files every ``sync_threshold`` additions and otherwise replays its log into them
    whenever a client opens the folder; with the threshold at the collection's size the
    files are complete when ingest ends."""

    def __init__(self, path: Path, expected: int | None = None) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from llama_index.vector_stores.chroma import ChromaVectorStore

        path.mkdir(parents=True, exist_ok=True)
        self._client = chromadb.PersistentClient(
            path=str(path), settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        )
        # Cosine space: llama-index reports exp(-distance) with distance = 1 - cosine,
        # which we turn back into a cosine that thresholds can be set on.
        metadata: dict[str, str | int] = {"hnsw:space": "cosine"}
        if expected is not None:
            sync = max(expected, 2)
            metadata |= {"hnsw:sync_threshold": sync, "hnsw:batch_size": min(sync, 100)}
        collection = self._client.get_or_create_collection(
            COLLECTION, metadata=metadata, embedding_function=None
        )
        self._store = ChromaVectorStore(chroma_collection=collection)
        self._collection = collection

    def ids(self) -> set[str]:
        got = self._collection.get(include=[])
        return set(got["ids"])

    def count(self) -> int:
        return int(self._collection.count())

    def add(self, chunks: list[Chunk], vectors: np.ndarray) -> None:
        from llama_index.core.schema import TextNode

        nodes = [
            TextNode(
                id_=c.id,
                text=c.text,
                embedding=v.tolist(),
                metadata={"paper_id": c.paper_id, "position": c.position},
            )
            for c, v in zip(chunks, vectors)
        ]
        for i in range(0, len(nodes), _BATCH):
            self._store.add(nodes[i : i + _BATCH])

    def delete(self, chunk_ids: list[str]) -> None:
        for i in range(0, len(chunk_ids), _BATCH):
            self._store.delete_nodes(node_ids=chunk_ids[i : i + _BATCH])

    def query(self, vector: np.ndarray, k: int) -> list[DenseMatch]:
        from llama_index.core.vector_stores.types import VectorStoreQuery

        k = min(k, self.count())
        if k <= 0:
            return []
        res = self._store.query(VectorStoreQuery(query_embedding=vector.tolist(), similarity_top_k=k))
        return [
            DenseMatch(
                chunk_id=node.node_id,
                paper_id=str(node.metadata["paper_id"]),
                text=node.get_content(),
                similarity=1.0 + math.log(max(sim, 1e-12)),
            )
            for node, sim in zip(res.nodes or [], res.similarities or [])
        ]
