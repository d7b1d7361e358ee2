"""Embedding cache keyed by (model, text) content hash, in SQLite.

Shared by every index under the data folder: re-ingesting the same text, rebuilding an
index, or an ingest that was interrupted half-way never embeds the same text twice.
Each batch is committed as it is computed, so a crash loses at most one batch of work."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from index.db import open_shared
from index.text import content_hash


class EmbeddingCache:
    def __init__(self, path: Path, model_name: str, dim: int) -> None:
        self._db = open_shared(path)
        self._db.execute("CREATE TABLE IF NOT EXISTS emb (key TEXT PRIMARY KEY, vec BLOB NOT NULL)")
        self._model = model_name
        self._dim = dim

    def key(self, text: str) -> str:
        return content_hash(self._model, text)

    def get_many(self, texts: list[str]) -> dict[str, np.ndarray]:
        """Cached vectors for those texts that have one, by text."""
        found: dict[str, np.ndarray] = {}
        keys = {self.key(t): t for t in texts}
        items = list(keys)
        for i in range(0, len(items), 500):
            part = items[i : i + 500]
            rows = self._db.execute(
                f"SELECT key, vec FROM emb WHERE key IN ({','.join('?' * len(part))})", part
            ).fetchall()
            for key, blob in rows:
                vec = np.frombuffer(blob, dtype=np.float32)
                if vec.shape[0] == self._dim:
                    found[keys[key]] = vec
        return found

    def put_many(self, texts: list[str], vecs: np.ndarray) -> None:
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO emb (key, vec) VALUES (?, ?)",
                [(self.key(t), np.asarray(v, dtype=np.float32).tobytes()) for t, v in zip(texts, vecs)],
            )

    def close(self) -> None:
        self._db.close()
