"""What every LLM backend provides (bot/llm/registry.py picks one from settings)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from index.errors import PaperbotError


class BackendUnavailable(PaperbotError):
    """The backend is down, timed out or answered with something unusable."""


class Generator(Protocol):
    name: str  # "backend:model", shown in answers and traces; never contains a key

    def complete(self, prompt: str) -> str: ...

    def stream(self, prompt: str) -> Iterator[str]: ...
