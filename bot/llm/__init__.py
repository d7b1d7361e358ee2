"""Answer generators: a Protocol, a registry of backends, and a fake for tests."""

from bot.llm.base import BackendUnavailable, Generator, load_generator

__all__ = ["BackendUnavailable", "Generator", "load_generator"]
