"""Slack load test on loopback, and the pieces the Slack tests share: the Slack Web API
stand-in (evals/bench/slack_standin.py), a signer for Slack's request signatures, and builders
of signed events, commands and clicks.

Sends N concurrent signed app_mention events to paperbot's HTTP mode and reports ack
latency p50/p99, time from event to posted reply, and that every event got exactly one
reply. With ``--mixed`` the N events are mentions, DMs, ``/paper`` commands and feedback
clicks in turn, answers are made slow (``--slow-answer-s``), and every question must get
exactly one reply. Bounded in count and time; loopback only.

    python -m evals.bench.slack_load [--events 50] [--mixed --slow-answer-s 2 --workers 4] [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from evals.metrics import percentile
from evals.bench.slack_standin import DROP, RATE_LIMITED, WebAPIStandIn  # noqa: F401 - the tests import them from here

SECRET = "load-test-signing-secret"


def serve_in_thread(app) -> tuple[str, object]:
    """Serve a Bolt app from paperbot's HTTP mode on a free loopback port: (events URL, server)."""
    from bot.slack.app import serve_http

    server = serve_http(app, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/slack/events", server


def send_signed(url: str, body: str, secret: str = SECRET, content_type: str = "application/json",
                ts: int | None = None, headers: dict | None = None) -> tuple[int, str]:  # fmt: skip
    """POST a request signed the way Slack signs them (v0 HMAC-SHA256)."""
    ts = int(time.time()) if ts is None else ts
    sig = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    req = urllib.request.Request(url, data=body.encode(), method="POST", headers={
        "Content-Type": content_type, "X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": sig,
        **(headers or {}),
    })  # fmt: skip
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def mention_body(event_id: str, text: str, ts: str, user: str = "U1", channel: str = "C1", **extra) -> str:
    event = {"type": "app_mention", "user": user, "text": text, "ts": ts, "channel": channel, **extra}
    return json.dumps({"type": "event_callback", "team_id": "T1", "api_app_id": "A1",
                       "event_id": event_id, "event_time": int(time.time()), "event": event})  # fmt: skip


def command_body(text: str, user: str = "U1", channel: str = "C2", trigger_id: str = "t",
                 response_url: str = "http://127.0.0.1:1/x") -> str:  # fmt: skip
    """A slash command (/paper) as Slack posts it (form-encoded; send with FORM)."""
    return urllib.parse.urlencode({"command": "/paper", "text": text, "user_id": user, "channel_id": channel,
                                   "team_id": "T1", "response_url": response_url, "trigger_id": trigger_id})  # fmt: skip


def click_body(action_id: str, value: str, user: str = "U1", kind: str = "button") -> str:
    """A button click (block_actions) as Slack posts it (form-encoded; send with FORM).
    ``kind`` "feedback_buttons" with ``value`` "up:<run id>" is a click on Slack's feedback buttons."""
    payload = {"type": "block_actions", "user": {"id": user}, "team": {"id": "T1"}, "api_app_id": "A1",
               "container": {"type": "message"}, "trigger_id": "t", "channel": {"id": "C1"},
               "actions": [{"action_id": action_id, "block_id": "feedback", "value": value, "type": kind}]}  # fmt: skip
    return urllib.parse.urlencode({"payload": json.dumps(payload)})


def dm_body(event_id: str, text: str, ts: str, user: str = "U1", channel: str = "D1", **extra) -> str:
    """A direct message to the bot (message.im); with ``thread_ts`` one in the assistant view."""
    event = {"type": "message", "channel_type": "im", "user": user, "text": text, "ts": ts, "channel": channel,
             "team": "T1", **extra}  # fmt: skip
    return json.dumps({"type": "event_callback", "team_id": "T1", "api_app_id": "A1",
                       "event_id": event_id, "event_time": int(time.time()), "event": event})  # fmt: skip


FORM = "application/x-www-form-urlencoded"
RETRY = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}  # headers of Slack's retries


def serving(url: str) -> bool:
    """Whether a Bolt app answers at ``url`` (and checks signatures: a bad one gets 401)."""
    try:
        return send_signed(url, "{}", secret="not-the-secret")[0] == 401
    except OSError:
        return False


def wait_for(pred, timeout: float = 15.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def run_load(url: str, api: WebAPIStandIn, questions: list[str], reply_timeout: float) -> dict[str, float]:
    """Fire one signed mention per question at once (distinct users, so no rate limit)."""
    n = len(questions)
    sent_at: dict[str, float] = {}

    def one(i: int) -> float:
        ts = f"{1000 + i}.0001"
        body = mention_body(f"EvLoad{i}", f"<@UBOT> {questions[i]}", ts, user=f"U{i}")
        start = time.monotonic()
        sent_at[ts] = start
        status, _ = send_signed(url, body)
        if status != 200:
            raise RuntimeError(f"event {i} got HTTP {status}")
        return time.monotonic() - start

    with ThreadPoolExecutor(max_workers=n) as pool:
        acks = list(pool.map(one, range(n)))
    wait_for(lambda: len(api.posts()) >= n, timeout=reply_timeout)
    time.sleep(0.5)  # a duplicate would arrive now
    per_thread: dict[str, int] = {}
    reply_times = []
    for method, params, at in api.calls:
        if method == "chat.postMessage":
            per_thread[params.get("thread_ts")] = per_thread.get(params.get("thread_ts"), 0) + 1
            if params.get("thread_ts") in sent_at:
                reply_times.append(at - sent_at[params["thread_ts"]])
    return {
        "events": n,
        "ack_p50_ms": percentile(acks, 0.5) * 1e3,
        "ack_p99_ms": percentile(acks, 0.99) * 1e3,
        "events_with_exactly_one_reply": sum(1 for ts in sent_at if per_thread.get(ts) == 1),
        "reply_p50_s": percentile(reply_times, 0.5) if reply_times else float("nan"),
        "reply_p95_s": percentile(reply_times, 0.95) if reply_times else float("nan"),
    }


KINDS = ("mention", "dm", "command", "click")


def run_mixed_load(url: str, api: WebAPIStandIn, questions: list[str], reply_timeout: float) -> dict[str, float]:
    """One event per question, all at once: mentions, DMs, ``/paper`` commands and feedback
    clicks in turn (a click asks nothing). Ack latency over all events and per kind; every
    question must get exactly one reply in its thread (a command's thread is the bot's
    "asked:" message, found by the asker's user id)."""
    n = len(questions)
    acks: dict[str, list[float]] = {k: [] for k in KINDS}
    sent_at: dict[str, float] = {}  # thread ts (or, for a command, the asker) -> when sent
    lock = threading.Lock()

    def one(i: int) -> None:
        kind, ts, user = KINDS[i % len(KINDS)], f"{5000 + i}.0001", f"UM{i}"
        ctype = "application/json"
        if kind == "mention":
            key, body = ts, mention_body(f"EvMix{i}", f"<@UBOT> {questions[i]}", ts, user=user)
        elif kind == "dm":
            key, body = ts, dm_body(f"EvMix{i}", questions[i], ts, user=user, channel=f"D{i}")
        elif kind == "command":
            key, body, ctype = user, command_body(questions[i], user=user, trigger_id=f"tmix{i}"), FORM
        else:
            key, body, ctype = None, click_body("feedback", f"up:run{i}", user=user, kind="feedback_buttons"), FORM
        start = time.monotonic()
        status, _ = send_signed(url, body, content_type=ctype)
        took = time.monotonic() - start
        if status != 200:
            raise RuntimeError(f"{kind} event {i} got HTTP {status}")
        with lock:
            acks[kind].append(took)
            if key is not None:
                sent_at[key] = start

    with ThreadPoolExecutor(max_workers=min(n, 32)) as pool:
        list(pool.map(one, range(n)))
    asked = len(sent_at)
    wait_for(lambda: len(_replies(api, sent_at)[0]) >= asked, timeout=reply_timeout)
    time.sleep(0.5)  # a duplicate would arrive now
    per_question, reply_times = _replies(api, sent_at)
    every = [t for k in KINDS for t in acks[k]]
    result: dict[str, float] = {
        "events": n,
        "questions": asked,
        "questions_with_exactly_one_reply": sum(1 for c in per_question.values() if c == 1),
        "ack_p50_ms": percentile(every, 0.5) * 1e3,
        "ack_p99_ms": percentile(every, 0.99) * 1e3,
        "ack_max_ms": max(every) * 1e3,
    }
    for kind in KINDS:
        result[f"{kind}s"] = len(acks[kind])
        if acks[kind]:
            result[f"{kind}_ack_p99_ms"] = percentile(acks[kind], 0.99) * 1e3
    result["reply_p50_s"] = percentile(reply_times, 0.5) if reply_times else float("nan")
    result["reply_p95_s"] = percentile(reply_times, 0.95) if reply_times else float("nan")
    return result


def _replies(api: WebAPIStandIn, sent_at: dict[str, float]) -> tuple[dict[str, int], list[float]]:
    """Answers (posted with blocks, or streamed) per question key, and event-to-answer times."""
    roots = {}  # a command's thread root ts -> the asker
    for method, p, _ in list(api.calls):
        if method == "chat.postMessage" and " asked: " in (p.get("text") or "") and not p.get("thread_ts"):
            roots[p["_ts"]] = p["text"].split(">", 1)[0].lstrip("<@")
    counts: dict[str, int] = {}
    times = []
    for method, p, at in list(api.calls):
        if method == "chat.startStream" or (method == "chat.postMessage" and p.get("thread_ts") and p.get("blocks")
                                            and p.get("text") != "(continued)"):  # fmt: skip
            key = roots.get(p["thread_ts"], p["thread_ts"])
            if key in sent_at:
                counts[key] = counts.get(key, 0) + 1
                times.append(at - sent_at[key])
    return counts, times


def slowed(answerer, seconds: float):
    """A copy of ``answerer`` that takes ``seconds`` longer per question (slow answers, as
    from a slow LLM, without needing one)."""
    import copy

    class Slow(type(answerer)):
        def __call__(self, question, *args, **kwargs):
            time.sleep(seconds)
            return super().__call__(question, *args, **kwargs)

    slow = copy.copy(answerer)
    slow.__class__ = Slow
    return slow


def main(argv: list[str] | None = None) -> None:
    import tempfile
    from pathlib import Path

    from bot.answer.answerer import Answerer
    from bot.slack.app import create_app
    from bot.traces import TraceStore
    from index.settings import Settings
    from evals.questions import BUNDLED_DEV, load_questions
    from index.reader import open_index

    ap = argparse.ArgumentParser(prog="python -m evals.bench.slack_load")
    ap.add_argument("--events", type=int, default=50)
    ap.add_argument("--mixed", action="store_true",
                    help="mentions, DMs, /paper commands and feedback clicks in turn, with slow answers")  # fmt: skip
    ap.add_argument("--slow-answer-s", type=float, default=0.0, help="seconds added to every answer")
    ap.add_argument("--workers", type=int, default=None, help="answering workers (default: slack.answer_workers)")
    ap.add_argument("--json", action="store_true", help="print the result as one JSON object")
    args = ap.parse_args(argv)
    api = WebAPIStandIn()
    settings = Settings()
    overrides = {"answer_workers": args.workers} if args.workers else {}
    settings.slack = type(settings.slack).model_validate(
        {"bot_token": "xoxb-load", "signing_secret": SECRET, "api_url": api.url, **overrides}
    )
    # The load's answers and feedback clicks go to a throwaway trace file, not the team's.
    scratch = tempfile.TemporaryDirectory(prefix="paperbot-slack-load-")
    answerer = Answerer(settings, open_index(settings), traces=TraceStore(Path(scratch.name) / "traces.sqlite"))
    answerer("warm-up question about transformers")  # model loaded before timing
    if args.slow_answer_s:
        answerer = slowed(answerer, args.slow_answer_s)
    url, server = serve_in_thread(create_app(settings, answerer))
    qs = [q.question for q in load_questions(BUNDLED_DEV)]
    questions = [qs[i % len(qs)] for i in range(args.events)]
    run = run_mixed_load if args.mixed else run_load
    result = run(url, api, questions, reply_timeout=600)
    server.shutdown()
    api.shutdown()
    scratch.cleanup()
    if args.json:
        print(json.dumps(result))
        return
    for k, v in result.items():
        print(f"{k:<32} {v:10.2f}" if isinstance(v, float) else f"{k:<32} {v:10d}")
    print(f"({settings.llm.backend} backend, {settings.slack.answer_workers} answering workers, "
          f"answers slowed by {args.slow_answer_s:g} s, HTTP mode on loopback)")  # fmt: skip


if __name__ == "__main__":
    main()
