"""Slack's assistant view (DMs with paperbot as an AI app), through the real Bolt app over
signed HTTP: suggested prompts when a thread opens, questions in its threads answered once
in the thread, context changes acked without a call."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

pytest.importorskip("slack_bolt")

from bot.answer.answerer import Answerer  # noqa: E402
from bot.slack.app import PROMPTS_TITLE, create_app  # noqa: E402
from evals.bench.slack_load import SECRET, WebAPIStandIn, dm_body, send_signed, serve_in_thread, wait_for  # noqa: E402
from index.ingest import ingest  # noqa: E402
from index.reader import open_index  # noqa: E402

DATA = Path(__file__).parent / "data"
PROMPTS = ["Which papers route tomatoes?", "What makes bread rise?"]


@pytest.fixture
def bot(fake_settings):
    ingest(fake_settings, [DATA / "papers.jsonl", DATA / "papers.csv"])
    api = WebAPIStandIn()
    s = fake_settings
    s.slack = type(s.slack).model_validate({"bot_token": "xoxb-test", "signing_secret": SECRET, "api_url": api.url,
                                            "suggested_prompts": PROMPTS})  # fmt: skip
    url, server = serve_in_thread(create_app(s, Answerer(s, open_index(s))))
    yield url, api
    server.shutdown()
    api.shutdown()


def assistant_event(event_id: str, kind: str, **thread) -> str:
    event = {"type": kind, "assistant_thread": {"user_id": "U1", "channel_id": "D1", "thread_ts": "800.1",
             "context": {"channel_id": "C9", "team_id": "T1"}, **thread}, "event_ts": "800.2"}  # fmt: skip
    return json.dumps({"type": "event_callback", "team_id": "T1", "api_app_id": "A1", "event_id": event_id,
                       "event_time": int(time.time()), "event": event})  # fmt: skip


def test_opening_the_assistant_view_offers_the_suggested_prompts(bot):
    url, api = bot
    assert send_signed(url, assistant_event("EvA1", "assistant_thread_started"))[0] == 200
    assert wait_for(lambda: "assistant.threads.setSuggestedPrompts" in api.methods())
    (call,) = [p for m, p, _ in api.calls if m == "assistant.threads.setSuggestedPrompts"]
    assert call["channel_id"] == "D1" and call["thread_ts"] == "800.1" and call["title"] == PROMPTS_TITLE
    assert call["prompts"] == [{"title": p, "message": p} for p in PROMPTS]


def test_a_question_in_an_assistant_thread_is_answered_once_in_it(bot):
    url, api = bot
    body = dm_body("EvA2", "how do gardeners route tomatoes?", "800.3", thread_ts="800.1")
    assert send_signed(url, body)[0] == 200
    assert send_signed(url, body, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})[0] == 200
    assert wait_for(lambda: len(api.answers()) == 1)
    wait_for(lambda: False, timeout=0.5)
    (answer,) = api.answers()
    assert answer["channel"] == "D1" and answer["thread_ts"] == "800.1"
    assert "Sparse Mixture of Gardeners" in json.dumps(answer["blocks"])
    (status,) = [p for m, p, _ in api.calls if m == "assistant.threads.setStatus"]
    assert status["channel_id"] == "D1" and status["thread_ts"] == "800.1"


def test_context_changes_and_the_bots_own_messages_make_no_calls(bot):
    url, api = bot
    assert send_signed(url, assistant_event("EvA3", "assistant_thread_context_changed"))[0] == 200
    own = dm_body("EvA4", "an answer", "800.4", thread_ts="800.1", bot_id="BBOT")
    assert send_signed(url, own)[0] == 200
    wait_for(lambda: False, timeout=0.5)
    assert [m for m in api.methods() if m != "auth.test"] == []  # auth.test: the App checking its token
