"""The Slack bot (slack-bolt lives here and nowhere else).

Ways to ask: @-mention in a channel, a direct message, the slash command. Every request
is acknowledged at once and answered by a lazy listener after the ack (Slack wants an
ack within 3 s). Slack's retries and repeated event ids never produce a second answer;
the bot ignores its own and other bots' messages. While working it shows a reaction;
an internal error becomes a short apology with the run id."""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections import OrderedDict, deque
from typing import Any

from bot.answer import Answerer
from index.settings import Settings
from bot.slack_blocks import answer_blocks, fallback_text
from bot.traces import TraceStore

log = logging.getLogger("paperbot.slack")
_MENTION = re.compile(r"<@[A-Z0-9]+>")


class SeenEvents:
    """Event ids already taken, bounded: a retried or duplicated delivery is answered once."""

    def __init__(self, size: int = 10_000) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def first_time(self, event_id: str) -> bool:
        with self._lock:
            if event_id in self._ids:
                return False
            self._ids[event_id] = None
            if len(self._ids) > self._size:
                self._ids.popitem(last=False)
            return True


class RateLimiter:
    """At most ``per_minute`` questions per user in any 60-second window."""

    def __init__(self, per_minute: int) -> None:
        self._per_minute = per_minute
        self._times: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, user: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._times.setdefault(user, deque())
            while times and now - times[0] >= 60:
                times.popleft()
            if len(times) >= self._per_minute:
                return False
            times.append(now)
            return True


def standalone_question(followup: str, earlier: list[str]) -> str:
    """A follow-up made retrievable on its own: the thread's earlier questions (oldest
    first, bounded by the caller) stated before it, so "and how fast is it?" keeps the
    subject the thread was about."""
    context = " ".join(q for q in earlier if q and q != followup)
    return f"{context} {followup}".strip() if context else followup


def create_app(settings: Settings, answerer: Answerer, token_verification: bool = True):
    """A Bolt App wired to ``answerer``; nothing is built at import time."""
    from slack_bolt import App, BoltResponse
    from slack_sdk import WebClient

    s = settings.slack
    if s.bot_token is None or s.signing_secret is None:
        from index.errors import ConfigError

        raise ConfigError(
            "Slack needs SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (environment or .env); "
            "see the README's Slack section."
        )
    token = s.bot_token.get_secret_value()
    client = WebClient(token=token, base_url=s.api_url)
    try:
        app = App(
            client=client,
            signing_secret=s.signing_secret.get_secret_value(),
            token_verification_enabled=token_verification,
            process_before_response=False,
        )
    except Exception as e:  # auth.test failed: unreachable API or a bad token
        from index.errors import ConfigError

        raise ConfigError(
            f"Could not verify SLACK_BOT_TOKEN with {s.api_url} ({type(e).__name__}); check the token "
            "and that the Slack API (PAPERBOT_SLACK__API_URL) is reachable."
        ) from e
    seen = SeenEvents()
    limiter = RateLimiter(s.rate_limit_per_minute)
    # Feedback goes with the traces when the answerer records them, else into its own file.
    feedback_store = answerer.traces or TraceStore(settings.traces_path)

    @app.middleware
    def drop_retries_and_duplicates(body: dict, request, next):  # noqa: A002 - Bolt's name
        # We ack at once, so a retry means Slack did not hear the ack in time: the first
        # delivery is being answered already.
        if request.headers.get("x-slack-retry-num"):
            return BoltResponse(status=200, body="")
        event_id = body.get("event_id")
        if event_id and not seen.first_time(event_id):
            return BoltResponse(status=200, body="")
        return next()

    def reply(client, channel: str, thread_ts: str, question: str, react_ts: str | None, user: str) -> None:
        if not limiter.allow(user):
            _safe(
                client.chat_postMessage, channel=channel, thread_ts=thread_ts,
                text=f"You're asking faster than I can read ({s.rate_limit_per_minute} questions a minute). "
                "Please try again in a minute.",
            )  # fmt: skip
            return
        if react_ts:
            _safe(client.reactions_add, channel=channel, timestamp=react_ts, name=s.busy_reaction)
        try:
            a = answerer(question)
            client.chat_postMessage(
                channel=channel, thread_ts=thread_ts, text=fallback_text(a), blocks=answer_blocks(a),
                unfurl_links=False,
            )  # fmt: skip
        except Exception:
            run_id = uuid.uuid4().hex[:12]
            log.exception("answering failed (run %s)", run_id)
            _safe(
                client.chat_postMessage, channel=channel, thread_ts=thread_ts,
                text=f":warning: Sorry, something went wrong while answering (run `{run_id}`). Please try again.",
            )  # fmt: skip
        finally:
            if react_ts:
                _safe(client.reactions_remove, channel=channel, timestamp=react_ts, name=s.busy_reaction)

    def question_of(event: dict) -> str:
        return " ".join(_MENTION.sub(" ", event.get("text") or "").split())

    def with_history(client, event: dict) -> str:
        """The event's question, made standalone when it is a reply inside a thread."""
        question = question_of(event) or "help"
        thread_ts = event.get("thread_ts")
        if not thread_ts or thread_ts == event["ts"] or s.history_turns == 0:
            return question
        try:
            replies = client.conversations_replies(channel=event["channel"], ts=thread_ts, limit=50)
        except Exception as e:  # noqa: BLE001 - history is a nicety; answer the question anyway
            log.warning("conversations.replies failed: %s", e)
            return question
        earlier = [
            question_of(m) for m in replies.get("messages", [])
            if not m.get("bot_id") and m.get("ts") != event["ts"] and float(m.get("ts", 0)) < float(event["ts"])
        ][-s.history_turns :]  # fmt: skip
        return standalone_question(question, earlier)

    def ack_event(ack) -> None:
        ack()

    def on_mention(event: dict, client) -> None:
        if event.get("bot_id"):
            return
        ts = event["ts"]
        reply(client, event["channel"], event.get("thread_ts") or ts, with_history(client, event), ts, event.get("user", ""))

    def on_message(event: dict, client) -> None:
        # Direct messages only; channel messages reach us as app_mention.
        if event.get("channel_type") != "im" or event.get("bot_id") or event.get("subtype"):
            return
        ts = event["ts"]
        reply(client, event["channel"], event.get("thread_ts") or ts, with_history(client, event), ts, event.get("user", ""))

    def ack_command(ack, command: dict) -> None:
        ack(response_type="ephemeral", text=f":mag: Looking for papers on “{command.get('text', '').strip()}”…")

    def on_command(command: dict, client) -> None:
        question = command.get("text", "").strip()
        posted = client.chat_postMessage(
            channel=command["channel_id"], text=f"<@{command['user_id']}> asked: {question}"
        )
        reply(client, command["channel_id"], posted["ts"], question, None, command.get("user_id", ""))

    def on_feedback(ack, body: dict, action: dict) -> None:
        ack()
        vote = 1 if action["action_id"] == "feedback_up" else -1
        feedback_store.add_feedback(action["value"], body.get("user", {}).get("id", ""), vote)

    app.event("app_mention")(ack=ack_event, lazy=[on_mention])
    app.event("message")(ack=ack_event, lazy=[on_message])
    app.command(s.slash_command)(ack=ack_command, lazy=[on_command])
    app.action("feedback_up")(on_feedback)
    app.action("feedback_down")(on_feedback)
    return app


def _safe(call, **kwargs: Any) -> None:
    """Cosmetic calls (reactions) must never stop an answer."""
    try:
        call(**kwargs)
    except Exception as e:  # noqa: BLE001
        log.warning("%s failed: %s", getattr(call, "__name__", "call"), e)


def serve_http(app, host: str, port: int):
    """HTTP mode: Bolt's WSGI adapter (its own signature verification) on a threading
    server at /slack/events. Returns the server; call serve_forever() or shutdown()."""
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    from slack_bolt.adapter.wsgi import SlackRequestHandler

    class ThreadingServer(ThreadingMixIn, WSGIServer):
        daemon_threads = True
        # socketserver's default listen backlog is 5: a burst of events (or retries) on a busy
        # machine overflowed it and clients waited for TCP retransmits; Slack wants an ack in 3 s.
        request_queue_size = 128

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    handler = SlackRequestHandler(app)

    def wsgi(environ, start_response):
        if environ.get("PATH_INFO") != "/slack/events":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        return handler(environ, start_response)

    return make_server(host, port, wsgi, server_class=ThreadingServer, handler_class=QuietHandler)


def run_socket_mode(app, settings: Settings) -> None:  # pragma: no cover - needs Slack itself
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    if settings.slack.app_token is None:
        from index.errors import ConfigError

        raise ConfigError("Socket Mode needs SLACK_APP_TOKEN (xapp-…); or run `paperbot slack --http`.")
    SocketModeHandler(app, settings.slack.app_token.get_secret_value()).start()
