"""Socket Mode's SIGTERM drain, with a stand-in for Bolt's SocketModeHandler: on stop the bot
turns new events away unacked, closes its connection, and answers what it holds."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

pytest.importorskip("slack_bolt")

from bot.answer.answerer import Answerer  # noqa: E402
from bot.slack.app import create_app, run_socket_mode  # noqa: E402
from evals.bench.slack_load import SECRET, WebAPIStandIn, mention_body, send_signed, serve_in_thread, wait_for  # noqa: E402
from index.ingest import ingest  # noqa: E402
from index.reader import open_index  # noqa: E402

DATA = Path(__file__).parent / "data"


class FakeSocketModeHandler:
    def __init__(self) -> None:
        self.events: list[str] = []

    def connect(self) -> None:
        self.events.append("connect")

    def close(self) -> None:
        self.events.append("close")


def test_stop_closes_the_connection_then_drains_the_answers_in_hand(fake_settings, monkeypatch):
    ingest(fake_settings, [DATA / "papers.jsonl", DATA / "papers.csv"])
    api = WebAPIStandIn()
    s = fake_settings
    s.slack = type(s.slack).model_validate({"bot_token": "xoxb-test", "signing_secret": SECRET, "api_url": api.url})
    answerer = Answerer(s, open_index(s))
    gate, started = threading.Event(), threading.Event()
    real = type(answerer).__call__

    def slow(this, question, *a, **k):
        started.set()
        gate.wait(30)
        return real(this, question, *a, **k)

    monkeypatch.setattr(type(answerer), "__call__", slow)
    app = create_app(s, answerer)
    # Events reach the app over HTTP here; the pool and the drain are the same in Socket Mode.
    url, server = serve_in_thread(app)
    handler, stop, result = FakeSocketModeHandler(), threading.Event(), []
    runner = threading.Thread(target=lambda: result.append(run_socket_mode(app, s, handler=handler, stop=stop)))
    runner.start()
    try:
        assert wait_for(lambda: handler.events == ["connect"])
        assert send_signed(url, mention_body("EvSm1", "<@UBOT> how do gardeners route tomatoes?", "900.1"))[0] == 200
        assert started.wait(10)
        stop.set()  # what SIGTERM does
        assert wait_for(lambda: handler.events == ["connect", "close"])
        # New events go unacked (Socket Mode sends no ack for a non-200), so Slack redelivers them.
        assert send_signed(url, mention_body("EvSm2", "<@UBOT> bread?", "900.2"))[0] == 503
        assert result == [] and api.answers() == []
        gate.set()
        runner.join(30)
        assert result == [True]
        assert [p["thread_ts"] for p in api.answers()] == ["900.1"]
    finally:
        gate.set()
        stop.set()
        server.shutdown()
        api.shutdown()
