"""A scripted generator for unit tests: replies with fixed text, or fails on cue."""

from __future__ import annotations

from collections.abc import Iterator

from bot.llm.base import BackendUnavailable


class FakeGenerator:
    def __init__(self, script: str = "") -> None:
        self.name = "fake"
        self.script = script
        self.prompts: list[str] = []

    def complete(self, prompt: str) -> str:
        self.prompts.append(prompt)
        if self.script == "!down":
            raise BackendUnavailable("fake backend is down")
        return self.script

    def stream(self, prompt: str) -> Iterator[str]:
        text = self.complete(prompt)
        for i in range(0, len(text), 8):
            yield text[i : i + 8]
