"""Answer latency per backend that runs here: time to first streamed token and total,
over a few dev questions, in a warm process (index and models loaded first).

Backends: extractive; llama-cpp in-process and openai-compatible against
`python -m llama_cpp.server` started on loopback, both with the bundled Gemma 3 270M.

    python -m evals.bench.llm [--questions 5]
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bot.answer.answerer import Answerer
from bot.llm.llamaindex import bundled_gguf
from index.settings import LLMSettings, Settings
from evals.questions import BUNDLED_DEV as DEV
from evals.questions import load_questions
from index.reader import open_index


def start_llama_server(gguf: Path, api_key: str | None = None, timeout_s: float = 90) -> tuple[subprocess.Popen, str]:
    """`python -m llama_cpp.server` on a free loopback port, serving ``gguf`` as "gemma";
    returns the process and its /v1 URL once /v1/models answers. The caller stops it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1",
           "--port", str(port), "--n_ctx", "4096", "--model_alias", "gemma"]  # fmt: skip
    if api_key:
        cmd += ["--api_key", api_key]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(urllib.request.Request(f"{url}/models", headers=headers), timeout=2) as r:
                if json.load(r)["data"]:
                    return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError(f"llama_cpp.server did not come up within {timeout_s:g} s")


def measure(answerer: Answerer, questions: list[str]) -> dict[str, float]:
    firsts, totals, fallbacks = [], [], 0
    answerer(questions[0])  # warm-up
    for q in questions:
        start = time.perf_counter()
        first: list[float] = []
        a = answerer(q, on_token=lambda _d: first or first.append(time.perf_counter() - start))
        totals.append(time.perf_counter() - start)
        firsts.append(first[0] if first else totals[-1])
        fallbacks += bool(a.notice)
    return {
        "first_token_p50_s": statistics.median(firsts),
        "total_p50_s": statistics.median(totals),
        "total_max_s": max(totals),
        "fallbacks": fallbacks,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--questions", type=int, default=5)
    args = ap.parse_args()
    settings = Settings()
    index = open_index(settings)
    # answerable dev questions only: refusals never reach the LLM
    questions = [q.question for q in load_questions(DEV) if q.answerable][: args.questions]
    gguf = bundled_gguf()
    llm = {"max_tokens": 128, "temperature": 0.0, "retries": 0}
    proc, url = start_llama_server(gguf)
    try:
        configs = {
            "extractive": LLMSettings(),
            "llama-cpp (in-process)": LLMSettings(backend="llama-cpp", model=str(gguf), **llm),
            "openai-compatible (llama.cpp server)": LLMSettings(
                backend="openai-compatible", base_url=url, model="gemma", chat=False, **llm
            ),
        }
        print(f"{len(questions)} dev questions, Gemma 3 270M Q4_K_M on 2 CPU cores, max_tokens=128")
        for name, llm_settings in configs.items():
            s = settings.model_copy(update={"llm": llm_settings})
            r = measure(Answerer(s, index), questions)
            print(f"{name:<38} first token p50 {r['first_token_p50_s']:6.2f}s   total p50 "
                  f"{r['total_p50_s']:6.2f}s   max {r['total_max_s']:6.2f}s   fallbacks {r['fallbacks']}")  # fmt: skip
    finally:
        proc.terminate()


if __name__ == "__main__":
    main()
