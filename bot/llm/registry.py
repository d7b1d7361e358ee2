"""The registry of answer generators: a backend name -> a factory. Adding a backend is one
module and one line here; each factory imports its library only when called."""

from __future__ import annotations

from collections.abc import Callable

from bot.llm.base import Generator
from index.settings import LLMSettings


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
