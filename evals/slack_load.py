"""Slack load test on loopback, and the pieces the Slack tests share: a Slack Web API
stand-in that records calls, and a signer for Slack's request signatures.

Sends N concurrent signed app_mention events to paperbot's HTTP mode and reports ack
latency p50/p99, time from event to posted reply, and that every event got exactly one
reply. Bounded in count and time; loopback only.

    python -m evals.slack_load [--events 50]
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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from evals.metrics import percentile

SECRET = "load-test-signing-secret"


class WebAPIStandIn:
    """A Slack Web API on 127.0.0.1 that answers ok and records (method, params, time).
    ``delays`` holds seconds a method takes (a slow Slack, or a bot kept mid-answer);
    ``errors`` an error a method answers with (e.g. "not_in_channel"). Posts to
    ``response_url`` are recorded as method "response"."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict, float]] = []
        self.thread: list[dict] = []  # what conversations.replies returns
        self.delays: dict[str, float] = {}
        self.errors: dict[str, str] = {}
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                if "json" in (self.headers.get("Content-Type") or ""):
                    params = json.loads(raw or "{}")
                else:
                    params = {k: v[0] for k, v in urllib.parse.parse_qs(raw).items()}
                method = self.path.rsplit("/", 1)[-1]
                stand_in.calls.append((method, params, time.monotonic()))
                time.sleep(stand_in.delays.get(method, 0))
                extra = {"messages": stand_in.thread} if method == "conversations.replies" else {}
                if method in stand_in.errors:
                    extra = {"ok": False, "error": stand_in.errors[method]}
                body = json.dumps({"ok": True, **extra, "ts": f"{time.time():.6f}", "channel": params.get("channel"),
                                   "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1"}).encode()  # fmt: skip
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/api/"
        self.response_url = f"http://127.0.0.1:{self._server.server_address[1]}/response"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def posts(self) -> list[dict]:
        return [p for m, p, _ in self.calls if m == "chat.postMessage"]

    def answers(self, thread_ts: str | None = None) -> list[dict]:
        """Posted answers (messages with blocks), optionally those in one thread."""
        return [p for p in self.posts() if p.get("blocks") and thread_ts in (None, p.get("thread_ts"))]

    def methods(self) -> list[str]:
        return [m for m, _, _ in self.calls]

    def shutdown(self) -> None:
        self._server.shutdown()

    def __enter__(self) -> "WebAPIStandIn":
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()


def serve_in_thread(app) -> tuple[str, object]:
    """Serve a Bolt app from paperbot's HTTP mode on a free loopback port: (events URL, server)."""
    from bot.slack import serve_http

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


def click_body(action_id: str, value: str, user: str = "U1") -> str:
    """A button click (block_actions) as Slack posts it (form-encoded; send with FORM)."""
    payload = {"type": "block_actions", "user": {"id": user}, "team": {"id": "T1"}, "api_app_id": "A1",
               "container": {"type": "message"}, "trigger_id": "t", "channel": {"id": "C1"},
               "actions": [{"action_id": action_id, "block_id": "feedback", "value": value, "type": "button"}]}  # fmt: skip
    return urllib.parse.urlencode({"payload": json.dumps(payload)})


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


def main() -> None:
    from bot.answer import Answerer
    from index.settings import Settings
    from bot.slack import create_app
    from evals.questions import BUNDLED_DEV, load_questions
    from index.loaded import open_index

    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=50)
    args = ap.parse_args()
    api = WebAPIStandIn()
    settings = Settings()
    settings.slack = type(settings.slack).model_validate(
        {"bot_token": "xoxb-load", "signing_secret": SECRET, "api_url": api.url}
    )
    answerer = Answerer(settings, open_index(settings))
    answerer("warm-up question about transformers")  # model loaded before timing
    url, server = serve_in_thread(create_app(settings, answerer))
    qs = [q.question for q in load_questions(BUNDLED_DEV)]
    questions = [qs[i % len(qs)] for i in range(args.events)]
    result = run_load(url, api, questions, reply_timeout=600)
    server.shutdown()
    api.shutdown()
    for k, v in result.items():
        print(f"{k:<32} {v:10.2f}" if isinstance(v, float) else f"{k:<32} {v:10d}")
    print("(extractive backend, bundled index, HTTP mode on loopback, 2 CPU cores)")


if __name__ == "__main__":
    main()
