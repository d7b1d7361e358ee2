"""What every LLM backend provides, and the registry that picks one from settings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol

from index.errors import PaperbotError
from index.settings import LLMSettings


class BackendUnavailable(PaperbotError):
    """The backend is down, timed out or answered with something unusable."""


class Generator(Protocol):
    name: str  # "backend:model", shown in answers and traces; never contains a key

    def complete(self, prompt: str) -> str: ...

    def stream(self, prompt: str) -> Iterator[str]: ...


def _llama_index(settings: LLMSettings) -> Generator:
    from bot.llm.llamaindex import build

    return build(settings)


def _fake(settings: LLMSettings) -> Generator:
    from bot.llm.fake import FakeGenerator

    return FakeGenerator(settings.model)


REGISTRY: dict[str, Callable[[LLMSettings], Generator]] = {
    "llama-cpp": _llama_index,
    "ollama": _llama_index,
    "openai": _llama_index,
    "openai-compatible": _llama_index,
    "fake": _fake,
}


def load_generator(settings: LLMSettings) -> Generator | None:
    """The configured generator, or None for the extractive answerer."""
    if settings.backend == "extractive":
        return None
    return REGISTRY[settings.backend](settings)
