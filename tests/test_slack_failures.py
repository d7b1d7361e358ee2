"""Slack Web API failures, through the real Bolt app over signed HTTP on loopback, with the
Web API stand-in failing the way Slack does (evals/bench/slack_standin.py): 429 with Retry-After
and dropped connections are retried by slack-sdk's retry handlers, a channel the bot is not
in sends /paper's answer through response_url, and no message passes Slack's size limits.
Then Slack's own failures (issue 26, item 7): a stream Slack closed or the user stopped, a
size refusal (split smaller, sent again), a stream's end that keeps its feedback buttons,
/paper's whole answer through response_url and the URL's 30 minutes."""

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


# -- Slack ends streams, refuses sizes, and expires response URLs ----------------------------------

GOOD = "Our sparse router sends each tomato to two gardeners [1]."
SCRIPT = f"{GOOD} Bread rises faster when yeast is entangled [2]. Dough volume was measured across 40 ovens [2]."
CLOSED, STOPPED = "message_not_in_streaming_state", "stopped_by_user"


@pytest.fixture
def streaming_bot(fake_settings, api):
    """The real Bolt app with the fake streaming backend (SCRIPT), answering through ``api``."""
    from bot.answer.answerer import Answerer
    from bot.llm.fake import FakeGenerator
    from bot.slack.app import create_app
    from bot.traces import TraceStore
    from evals.bench.slack_load import SECRET, serve_in_thread
    from index.ingest import ingest
    from index.reader import open_index
    from tests.conftest import DATA

    ingest(fake_settings, [DATA / "papers.jsonl", DATA / "papers.csv"])
    s = fake_settings
    s.llm = s.llm.model_copy(update={"support_threshold": 0.1, "retries": 0})
    s.slack = type(s.slack).model_validate({"bot_token": "xoxb-test", "signing_secret": SECRET, "api_url": api.url})
    answerer = Answerer(s, open_index(s), generator=FakeGenerator(SCRIPT), traces=TraceStore(s.traces_path))
    url, server = serve_in_thread(create_app(s, answerer))
    yield url, answerer
    server.shutdown()


def ask(event_id: str, ts: str) -> str:
    return mention_body(event_id, "<@UBOT> how do gardeners route tomatoes?", ts, user="U8")


def state_of(settings, event_id: str) -> str | None:
    from bot.slack.app import REQUESTS_FILE
    from bot.slack.requests_log import RequestLog

    known = RequestLog(settings.index.data_dir / REQUESTS_FILE).get(event_id)
    return known.state if known else None


def settled(api: WebAPIStandIn) -> bool:
    """Every call the stand-in received has been answered."""
    return all("_ok" in p for _, p, _ in api.calls)


def many_sources(answerer, monkeypatch, n: int = 69, text: str | None = None) -> None:
    """The answerer's answers (whole, or as a stream finishes) get ``n`` long sources."""
    from bot.slack.stream import GroundedStream

    def more(a_text, citations):
        many = tuple(dataclasses.replace(citations[0], n=i, evidence="Evidence. " * 120) for i in range(1, n + 1))
        return (text or a_text), many

    real_call, real_finish = type(answerer).__call__, GroundedStream.finish

    def call(this, question, *a, **k):
        answer = real_call(this, question, *a, **k)
        return dataclasses.replace(answer, **dict(zip(("text", "citations"), more(answer.text, answer.citations))))

    monkeypatch.setattr(type(answerer), "__call__", call)
    monkeypatch.setattr(GroundedStream, "finish", lambda this: more(*real_finish(this)))


@pytest.mark.parametrize("after", [0, 1], ids=["closed-mid-stream", "closed-before-stop"])
def test_a_stream_slack_closed_is_finished_with_chat_update(streaming_bot, api, fake_settings, after):
    """Slack closes the stream (about 5 minutes, or sooner): its message becomes the whole
    checked answer by chat.update on the stream's ts; no apology, the question is done."""
    url, _ = streaming_bot
    api.end_streams(CLOSED, after=after)
    assert send_signed(url, ask("EvC1", "801.1"))[0] == 200
    assert wait_for(lambda: api.succeeded("chat.update") and settled(api))
    (start,) = attempts(api, "chat.startStream")
    (update,) = api.succeeded("chat.update")
    assert update["ts"] == start[0]["_ts"] and update["channel"] == "C1"
    blocks = json.dumps(update["blocks"])
    assert "Bread rises faster" in blocks and "Dough volume" in blocks and "feedback_buttons" in blocks
    assert not [p for p in api.posts() if "Sorry" in (p.get("text") or "")]
    assert wait_for(lambda: state_of(fake_settings, "EvC1") == "done")


def test_a_stream_the_user_stopped_is_a_cancel(streaming_bot, api, fake_settings):
    url, _ = streaming_bot
    api.end_streams(STOPPED, after=0)
    assert send_signed(url, ask("EvC2", "802.1"))[0] == 200
    assert wait_for(lambda: state_of(fake_settings, "EvC2") in ("done", "failed") and settled(api))
    wait_for(lambda: False, timeout=0.5)
    assert state_of(fake_settings, "EvC2") == "done"
    assert not api.posts() and not attempts(api, "chat.update")  # nothing more: no answer again, no apology
    assert [p["_ok"] for p, _ in attempts(api, "chat.appendStream")] == [False]  # one refused append, then quiet


def test_a_stream_whose_update_fails_posts_the_checked_answer(streaming_bot, api, fake_settings):
    url, _ = streaming_bot
    api.end_streams(CLOSED, after=0)
    api.errors["chat.update"] = "cant_update_message"
    assert send_signed(url, ask("EvC3", "803.1"))[0] == 200
    assert wait_for(lambda: api.answers() and settled(api))
    (answer,) = api.answers()
    assert answer["thread_ts"] == "803.1" and "Dough volume" in json.dumps(answer["blocks"])
    assert "feedback_buttons" in json.dumps(answer["blocks"])
    assert wait_for(lambda: state_of(fake_settings, "EvC3") == "done")


def test_a_refused_size_is_split_smaller_and_sent_again(make_bot, api, monkeypatch):
    """Slack refused section-heavy messages under its documented 12k: the answer is split
    again with a smaller budget and goes out whole, no apology."""
    url, answerer, _ = make_bot()
    many_sources(answerer, monkeypatch, text="A sentence of the answer. " * 600)
    api.text_limit = 9_000
    assert send_signed(url, mention())[0] == 200
    assert wait_for(lambda: "feedback_buttons" in json.dumps(api.succeeded("chat.postMessage")) and settled(api))
    posts = api.posts()
    refused = [p for p in posts if not p["_ok"]]
    assert len(refused) == 1 and all(message_text_size(p) <= 9_000 for p in posts if p["_ok"])
    assert "*[69]*" in json.dumps(api.succeeded("chat.postMessage"))
    assert not [p for p in posts if "Sorry" in (p.get("text") or "")]
    assert "feedback_buttons" in json.dumps(api.succeeded("chat.postMessage")[-1]["blocks"])


def test_a_stream_ends_with_the_feedback_buttons_and_its_sources_follow(streaming_bot, api, monkeypatch):
    """69 long sources do not fit the stream's message: the stream stops with the sources that
    fit and the feedback buttons (refused as too big once, then split smaller), the rest follow."""
    url, answerer = streaming_bot
    many_sources(answerer, monkeypatch)
    api.text_limit = 9_000
    assert send_signed(url, ask("EvC4", "804.1"))[0] == 200
    assert wait_for(lambda: api.succeeded("chat.stopStream") and "*[69]*" in json.dumps(api.posts()) and settled(api))
    stops = attempts(api, "chat.stopStream")
    assert [p["_ok"] for p, _ in stops] == [False, True]  # too big once, then within the smaller budget
    final = json.dumps(stops[-1][0]["blocks"])
    assert "feedback_buttons" in final and "*[1]*" in final
    rest = api.posts()
    assert rest and all(p["_ok"] and p["thread_ts"] == "804.1" for p in rest)
    assert "feedback_buttons" not in json.dumps(rest)


def test_paper_through_response_url_sends_the_whole_answer(make_bot, api, monkeypatch):
    url, answerer, _ = make_bot()
    many_sources(answerer, monkeypatch, n=20)
    api.errors["chat.postMessage"] = "not_in_channel"
    body = command_body("tiny violins audio", trigger_id="tw", response_url=api.new_response_url())
    assert send_signed(url, body, content_type=FORM)[0] == 200
    assert wait_for(lambda: "feedback_buttons" in json.dumps(api.succeeded("response")) and settled(api))
    replies = api.succeeded("response")
    assert 2 <= len(replies) <= 5 and len(attempts(api, "response")) == len(replies)
    assert "/invite @paperbot" in json.dumps(replies[0]["blocks"]) and "*[20]*" in json.dumps(replies)
    assert "feedback_buttons" in json.dumps(replies[-1]["blocks"])
    assert all(r["response_type"] == "ephemeral" for r in replies)


def test_paper_answer_past_five_posts_is_cut_with_a_note(make_bot, api, monkeypatch):
    url, answerer, _ = make_bot()
    many_sources(answerer, monkeypatch, text="A sentence of the answer. " * 1500)
    api.errors["chat.postMessage"] = "not_in_channel"
    body = command_body("tiny violins audio", trigger_id="tw5", response_url=api.new_response_url())
    assert send_signed(url, body, content_type=FORM)[0] == 200
    assert wait_for(lambda: "feedback_buttons" in json.dumps(api.succeeded("response")) and settled(api))
    replies = api.succeeded("response")
    assert len(replies) == 5 == len(attempts(api, "response"))  # Slack's limit, none refused
    assert "did not fit" in json.dumps(replies[-1]["blocks"])


@pytest.mark.parametrize("how", ["clock", "slack"])
def test_paper_past_the_response_urls_life_says_so_in_a_direct_message(make_bot, api, monkeypatch, how):
    """Past 30 minutes (by the bot's clock, or Slack answers expired_url) the asker hears why,
    and gets the answer, in a direct message: never silence."""
    url, _, _ = make_bot()
    if how == "clock":
        monkeypatch.setattr("bot.slack.reply.RESPONSE_URL_TTL_S", -1)
    else:
        api.expire_response_urls()
    api.inject("chat.postMessage", "not_in_channel")  # the channel refuses; the direct message works
    body = command_body("tiny violins audio", trigger_id=f"tx{how}", response_url=api.new_response_url())
    assert send_signed(url, body, content_type=FORM)[0] == 200
    assert wait_for(lambda: "feedback_buttons" in json.dumps(api.succeeded("chat.postMessage")) and settled(api))
    dms = api.succeeded("chat.postMessage")
    assert {p["channel"] for p in dms} == {"U1"}
    assert "30 minutes" in dms[0]["text"] and "tiny violins audio" in dms[0]["text"]
    assert "Tiny Violins" in json.dumps(dms[1:])
    assert not api.succeeded("response")
    assert len(attempts(api, "response")) == (0 if how == "clock" else 1)


def test_the_stand_in_fails_streams_and_urls_as_slack_does(api):
    """Required streaming arguments, streams Slack ends, whole-second Retry-After, a
    response_url's five messages."""
    import urllib.error
    import urllib.request

    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    client = WebClient(token="xoxb-test", base_url=api.url)
    with pytest.raises(SlackApiError, match="invalid_arguments"):
        client.chat_startStream(channel="C1", thread_ts="1.1")  # a channel needs its recipient
    assert client.chat_startStream(channel="D1", thread_ts="1.1")["ok"]
    ts = client.chat_startStream(channel="C1", thread_ts="1.1", recipient_user_id="U1", recipient_team_id="T1")["ts"]
    with pytest.raises(SlackApiError, match="invalid_arguments"):
        client.api_call("chat.appendStream", json={"ts": ts, "markdown_text": "x"})  # no channel
    assert client.chat_appendStream(channel="C1", ts=ts, markdown_text="hello")["ok"]
    api.end_streams(STOPPED, after=1)
    with pytest.raises(SlackApiError, match=STOPPED):
        client.chat_appendStream(channel="C1", ts=ts, markdown_text=" world")
    with pytest.raises(SlackApiError, match=STOPPED):
        client.chat_stopStream(channel="C1", ts=ts)
    assert client.chat_update(channel="C1", ts=ts, text="the whole answer")["ok"]

    api.inject("chat.postMessage", RATE_LIMITED, retry_after=0.3)
    try:
        urllib.request.urlopen(urllib.request.Request(api.url + "chat.postMessage", data=b"channel=C1"))
    except urllib.error.HTTPError as e:
        assert e.code == 429 and e.headers["Retry-After"] == "1"  # whole seconds, as Slack sends
    else:
        pytest.fail("not rate limited")

    url = api.new_response_url()
    statuses = []
    for _ in range(6):
        try:
            statuses.append(urllib.request.urlopen(urllib.request.Request(url, data=b'{"text": "x"}')).status)
        except urllib.error.HTTPError as e:
            statuses.append((e.code, e.read().decode()))
    assert statuses == [200] * 5 + [(404, "used_url")]
