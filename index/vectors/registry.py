"""Vector stores by name (PAPERBOT_INDEX__VECTOR_STORE). A new backend is one module with a
``VectorStore`` (base.py) and one line here."""

from __future__ import annotations

from collections.abc import Callable

from index.errors import ConfigError
from index.settings import IndexSettings
from index.vectors.base import VectorStore
from index.vectors.chroma import ChromaServerStore
from index.vectors.exact import ExactStore

STORES: dict[str, Callable[[IndexSettings], VectorStore]] = {
    "exact": lambda s: ExactStore(s.prefilter_min_chunks),
    "chroma-server": ChromaServerStore.of,
}


def load_vector_store(settings: IndexSettings) -> VectorStore:
    """The store the settings name ('auto': a Chroma server when one is configured, else exact)."""
    name = settings.store_name
    if name not in STORES:
        raise ConfigError(
            f"Unknown vector store {name!r} (PAPERBOT_INDEX__VECTOR_STORE); use auto or one of: {', '.join(STORES)}."
        )
    return STORES[name](settings)
