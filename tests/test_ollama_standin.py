"""The `ollama` backend through llama-index and the real `ollama` client, against a
stand-in speaking Ollama's HTTP API (/api/chat, JSON and NDJSON streaming) on loopback:
the Ollama server itself is a binary download, out of reach here."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

pytest.importorskip("llama_index.llms.ollama", reason="install the ollama extra (make test does)")


class OllamaStandIn(BaseHTTPRequestHandler):
    requests: list[dict] = []

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        OllamaStandIn.requests.append({"path": self.path, **body})
        prompt = body["messages"][-1]["content"]
        first = re.search(r"^\[1\] .*\n(.+?\.)\s", prompt, re.MULTILINE)
        text = (f"{first.group(1)} [1]. " if first else "") + "Also, it cures all diseases [7]."
        msg = lambda content, done: {  # noqa: E731
            "model": body["model"], "created_at": "2026-11-23T00:00:00Z",
            "message": {"role": "assistant", "content": content}, "done": done,
        }  # fmt: skip
        self.send_response(200)
        if body.get("stream"):
            self.send_header("Content-Type", "application/x-ndjson")
            self.end_headers()
            for i in range(0, len(text), 12):
                self.wfile.write((json.dumps(msg(text[i : i + 12], False)) + "\n").encode())
            self.wfile.write((json.dumps(msg("", True)) + "\n").encode())
        else:
            data = json.dumps(msg(text, True)).encode()
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)


@pytest.fixture
def ollama_url():
    OllamaStandIn.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), OllamaStandIn)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_ollama_backend_streams_and_is_grounded(ollama_url, fake_settings):
    from pathlib import Path

    from bot.answer.answerer import Answerer
    from index.ingest import ingest
    from index.reader import open_index

    data = Path(__file__).parent / "data"
    ingest(fake_settings, [data / "papers.jsonl", data / "papers.csv"])
    s = fake_settings
    s.llm = s.llm.model_copy(update={"backend": "ollama", "model": "llama3.2", "base_url": ollama_url,
                                     "max_tokens": 64, "temperature": 0.2})  # fmt: skip
    answerer = Answerer(s, open_index(s))
    assert answerer.generator.name == "ollama:llama3.2"

    streamed: list[str] = []
    a = answerer("How do gardeners route tomatoes?", on_token=streamed.append)
    assert len(streamed) > 2 and a.raw_output == "".join(streamed)
    assert a.backend == "ollama:llama3.2" and not a.refused and not a.notice
    assert "[7]" not in a.text and "cures all diseases" not in a.text  # hallucinated citation dropped
    assert a.removed_sentences == 1 and a.citations[0].paper.id == "u1"

    req = OllamaStandIn.requests[-1]
    assert req["path"] == "/api/chat" and req["model"] == "llama3.2" and req["stream"] is True
    assert req["options"]["num_predict"] == 64 and req["options"]["temperature"] == 0.2
    assert "[1] Sparse Mixture of Gardeners" in req["messages"][-1]["content"]

    a2 = answerer("How do gardeners route tomatoes?")  # non-streaming path
    assert a2.citations[0].paper.id == "u1" and OllamaStandIn.requests[-1]["stream"] is False
