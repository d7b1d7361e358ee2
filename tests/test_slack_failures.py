"""Slack Web API failures, through the real Bolt app over signed HTTP on loopback, with the
Web API stand-in failing the way Slack does (evals/bench/slack_standin.py): 429 with Retry-After
and dropped connections are retried by slack-sdk's retry handlers, a channel the bot is not
in sends /paper's answer through response_url, and no message passes Slack's size limits."""

from __future__ import annotations

import dataclasses
import json

import pytest

pytest.importorskip("slack_bolt")

from evals.bench.slack_load import (  # noqa: E402
    DROP, FORM, RATE_LIMITED, WebAPIStandIn, command_body, mention_body, send_signed, wait_for,
)
from evals.bench.slack_standin import message_text_size  # noqa: E402


def mention(i: int = 1) -> str:
    return mention_body(f"Ev{i}", "<@UBOT> how do gardeners route tomatoes?", f"{100 + i}.1", user=f"U{i}")


def attempts(api: WebAPIStandIn, method: str) -> list[tuple[dict, float]]:
    return [(p, at) for m, p, at in api.calls if m == method]


def test_rate_limited_post_waits_retry_after_then_answers_once(make_bot, api):
    url, _, _ = make_bot()
    api.inject("chat.postMessage", RATE_LIMITED, times=1, retry_after=1)
    assert send_signed(url, mention())[0] == 200
    # every attempt answered by the stand-in (its outcome recorded), one of them a success
    assert wait_for(lambda: len(api.succeeded("chat.postMessage")) == 1
                    and all("_ok" in p for p, _ in attempts(api, "chat.postMessage")))  # fmt: skip
    posts = attempts(api, "chat.postMessage")
    failed = [(p, at) for p, at in posts if not p["_ok"]]
    ok = [(p, at) for p, at in posts if p["_ok"]]
    assert len(failed) == 1 and len(ok) == 1 and ok[0][0]["thread_ts"] == "101.1"
    assert ok[0][1] - failed[0][1] >= 1.0  # slack-sdk waited the Retry-After Slack asked for
    assert "Sparse Mixture of Gardeners" in json.dumps(ok[0][0]["blocks"])
    wait_for(lambda: False, timeout=0.5)
    assert len(attempts(api, "chat.postMessage")) == 2  # one answer, no apology


def test_dropped_connection_is_retried(make_bot, api):
    url, _, _ = make_bot()
    api.inject("chat.postMessage", DROP)
    assert send_signed(url, mention())[0] == 200
    assert wait_for(lambda: len(api.succeeded("chat.postMessage")) == 1)
    assert len(attempts(api, "chat.postMessage")) == 2


def test_rate_limit_past_the_retries_becomes_an_apology(make_bot, api):
    url, _, _ = make_bot(api_retries=1)
    api.inject("chat.postMessage", RATE_LIMITED, times=2, retry_after=0)
    assert send_signed(url, mention())[0] == 200
    assert wait_for(lambda: len(api.succeeded("chat.postMessage")) == 1)
    (apology,) = api.succeeded("chat.postMessage")
    assert "Sorry, something went wrong" in apology["text"] and apology["thread_ts"] == "101.1"
    assert len(attempts(api, "chat.postMessage")) == 3  # the answer, its one retry, the apology


@pytest.mark.parametrize("error", ["not_in_channel", "channel_not_found"])
def test_paper_where_the_bot_cannot_post_answers_privately_through_response_url(make_bot, api, error):
    url, _, _ = make_bot()
    api.errors["chat.postMessage"] = error
    api.inject("response", RATE_LIMITED, retry_after=0)  # the response_url client retries too
    body = command_body("tiny violins audio", trigger_id="tn", response_url=api.response_url)
    status, ack = send_signed(url, body, content_type=FORM)
    assert status == 200 and "Looking for papers" in ack
    assert wait_for(lambda: len(api.succeeded("response")) == 1)
    (reply,) = api.succeeded("response")
    assert reply["response_type"] == "ephemeral" and "/invite @paperbot" in json.dumps(reply["blocks"])
    assert "Tiny Violins" in json.dumps(reply["blocks"])
    # The order the bot tried: post in the channel (refused), then the response_url (429, then ok).
    assert [m for m in api.methods() if m in ("chat.postMessage", "response")] == [
        "chat.postMessage", "response", "response",
    ]  # fmt: skip


def test_the_stand_in_refuses_messages_slack_would(api):
    """The limits the bot is tested against are real: over 12k characters of text, or more
    than 50 blocks, the stand-in answers as Slack does."""
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    client = WebClient(token="xoxb-test", base_url=api.url)
    with pytest.raises(SlackApiError, match="msg_blocks_too_long"):
        client.chat_postMessage(channel="C1", text="x", blocks=[{"type": "markdown", "text": "y" * 12_000}])
    with pytest.raises(SlackApiError, match="invalid_blocks"):
        client.chat_postMessage(channel="C1", text="x", blocks=[{"type": "divider"}] * 51)
    assert client.chat_postMessage(channel="C1", text="x", blocks=[{"type": "markdown", "text": "y" * 11_000}])["ok"]


def test_a_huge_answer_is_split_into_messages_slack_accepts(make_bot, api, monkeypatch):
    url, answerer, _ = make_bot()
    real = type(answerer).__call__

    def huge(this, question, *a, **k):
        a = real(this, question, *a, **k)
        many = tuple(dataclasses.replace(a.citations[0], n=i, evidence="Evidence. " * 120) for i in range(1, 70))
        return dataclasses.replace(a, text="A sentence of the answer. " * 1500, citations=many)

    monkeypatch.setattr(type(answerer), "__call__", huge)
    assert send_signed(url, mention())[0] == 200
    # the last message (with the feedback buttons) posted, and every post answered
    assert wait_for(lambda: "feedback_buttons" in json.dumps(api.posts()) and all("_ok" in p for p in api.posts()))
    posts = api.posts()
    assert len(posts) > 4 and all(p["_ok"] for p in posts)  # none refused by the stand-in's limits
    assert all(len(p["blocks"]) <= 50 and message_text_size(p) < 12_000 for p in posts)
    assert {p["thread_ts"] for p in posts} == {"101.1"}
    assert "*[69]*" in json.dumps(posts)  # every source made it, in a continuation
