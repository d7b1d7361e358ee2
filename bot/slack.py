"""The Slack bot (slack-bolt lives here and nowhere else).

Ways to ask: @-mention in a channel, a direct message, the slash command. A listener only
records the question in the SQLite request log (bot/requests_log.py), queues it and acks,
in the request's own thread, so an ack never waits for answering; a bounded pool of
workers answers in the thread. Slack's retries and repeated event ids never produce a
second answer, across restarts and across bots sharing the log, while a retry of an
event never recorded is answered. On start, questions a dead bot left are answered (or,
when old, apologised for); on SIGTERM (HTTP mode) the bot answers what it holds, turns
new events away with 503 so Slack retries them later, then exits. The bot ignores its
own and other bots' messages, shows a reaction while working, and turns an internal
error into a short apology with the run id."""

from __future__ import annotations

import logging
import re
import signal
import threading
import time
import uuid
import weakref
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from bot.answer import Answerer
from bot.requests_log import AnswerPool, PoolClosed, PoolFull, Request, RequestLog
from index.settings import Settings
from bot.slack_blocks import answer_messages, fallback_text
from bot.traces import TraceStore

log = logging.getLogger("paperbot.slack")
_MENTION = re.compile(r"<@[A-Z0-9]+>")
REQUESTS_FILE = "slack_requests.sqlite"
# Each app's answering pool and drain timeout, for serve_http's SIGTERM handler.
_POOLS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


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
    from slack_sdk.errors import SlackApiError
    from slack_sdk.webhook import WebhookClient

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
            # Listeners (which only record, queue and ack) run in the request's own thread and
            # their ack is the HTTP response. Bolt's default runs them, and lazy listeners, on one
            # 5-thread executor, where an ack waited behind slow answers (3 s with 5 in flight).
            process_before_response=True,
        )
    except Exception as e:  # auth.test failed: unreachable API or a bad token
        from index.errors import ConfigError

        raise ConfigError(
            f"Could not verify SLACK_BOT_TOKEN with {s.api_url} ({type(e).__name__}); check the token "
            "and that the Slack API (PAPERBOT_SLACK__API_URL) is reachable."
        ) from e
    requests = RequestLog(settings.index.data_dir / REQUESTS_FILE)
    pool = AnswerPool(s.answer_workers, s.queue_limit)
    _POOLS[app] = (pool, s.drain_timeout_s)
    # Notices (queue position, rate limit) are Web API calls: never on the ack's thread.
    notices = ThreadPoolExecutor(2, thread_name_prefix="paperbot-notice")
    limiter = RateLimiter(s.rate_limit_per_minute)
    # Feedback goes with the traces when the answerer records them, else into its own file.
    feedback_store = answerer.traces or TraceStore(settings.traces_path)

    @app.middleware
    def refuse_while_draining(body: dict, next):  # noqa: A002 - Bolt's name
        if not pool.closed:
            return next()
        if body.get("type") == "event_callback":
            # Not recorded and not acked: Slack retries the event (after about 1 and 5 minutes),
            # and the restarted bot, or another one, answers it since the log never saw it.
            return BoltResponse(status=503, body="restarting")
        if body.get("command"):  # Slack never retries a slash command: say so instead
            return BoltResponse(status=200, body={"response_type": "ephemeral", "text": RESTARTING})
        return next()  # button clicks are quick and still recorded

    def post(channel: str, thread_ts: str | None, text: str) -> None:
        _safe(client.chat_postMessage, channel=channel, thread_ts=thread_ts, text=text)

    def answer_job(r: Request) -> Callable[[], None]:
        def job() -> None:
            requests.set_state(r.event_id, "answering")
            thread_ts = r.thread_ts
            try:
                if thread_ts is None:  # a slash command: its thread starts with the question
                    try:
                        posted = client.chat_postMessage(channel=r.channel, text=f"<@{r.user}> asked: {r.text}")
                    except SlackApiError as e:
                        if e.response.get("error") not in NOT_A_MEMBER or not r.response_url:
                            raise
                        respond_privately(r)
                        return
                    thread_ts = posted["ts"]
                    requests.set_state(r.event_id, "answering", thread_ts)
                if r.react_ts:
                    _safe(client.reactions_add, channel=r.channel, timestamp=r.react_ts, name=s.busy_reaction)
                a = answerer(with_history(r.channel, thread_ts, r.react_ts, r.text))
                for i, blocks in enumerate(answer_messages(a)):  # a long answer continues in the thread
                    client.chat_postMessage(
                        channel=r.channel, thread_ts=thread_ts, text=fallback_text(a) if i == 0 else "(continued)",
                        blocks=blocks, unfurl_links=False,
                    )  # fmt: skip
                requests.set_state(r.event_id, "done")
            except Exception:
                run_id = uuid.uuid4().hex[:12]
                log.exception("answering failed (run %s)", run_id)
                post(r.channel, thread_ts, f":warning: Sorry, something went wrong while answering (run `{run_id}`). "
                     "Please try again.")  # fmt: skip
                requests.set_state(r.event_id, "failed")
            finally:
                if r.react_ts:
                    _safe(client.reactions_remove, channel=r.channel, timestamp=r.react_ts, name=s.busy_reaction)

        return job

    def respond_privately(r: Request) -> None:
        """``/paper`` where the bot may not post (not a member): the answer goes to the asker
        alone through the command's response_url, with how to get threaded answers."""
        a = answerer(r.text)
        hint = {"type": "context", "elements": [{"type": "mrkdwn", "text": INVITE_HINT}]}
        WebhookClient(r.response_url).send(
            text=fallback_text(a), blocks=[hint, *answer_messages(a)[0]][:50], response_type="ephemeral"
        )
        requests.set_state(r.event_id, "done")

    def apology_job(r: Request) -> Callable[[], None]:
        def job() -> None:
            mention = "" if r.thread_ts else f"<@{r.user}> "  # a command that never got its thread
            post(r.channel, r.thread_ts, f"{mention}:warning: Sorry, I restarted and lost track of your question "
                 f"“{r.text}”. Please ask again.")  # fmt: skip
            requests.set_state(r.event_id, "failed")
            if r.react_ts:
                _safe(client.reactions_remove, channel=r.channel, timestamp=r.react_ts, name=s.busy_reaction)

        return job

    def accept(r: Request) -> tuple[str, str] | None:
        """Record and queue a question (before its ack). What to tell the asker now, if anything:
        ("queued", text) while it waits for a worker, ("reply", text) when it will not be answered."""
        if not requests.claim(r):
            return None  # a retry or duplicate: this or another process has it already
        if not limiter.allow(r.user):
            requests.set_state(r.event_id, "done")
            return "reply", (f"You're asking faster than I can read ({s.rate_limit_per_minute} questions a minute). "
                    "Please try again in a minute.")  # fmt: skip
        try:
            ahead = pool.submit(answer_job(r))
        except PoolFull:
            requests.set_state(r.event_id, "failed")
            return "reply", BUSY
        except PoolClosed:  # SIGTERM since the middleware let it in: stays pending for the next start
            return None
        return None if ahead is None else ("queued", queued(ahead))

    def question_of(event: dict) -> str:
        return " ".join(_MENTION.sub(" ", event.get("text") or "").split())

    def with_history(channel: str, thread_ts: str, ts: str | None, question: str) -> str:
        """The question, made standalone when it is a reply inside a thread."""
        if not ts or thread_ts == ts or s.history_turns == 0:
            return question
        try:
            replies = client.conversations_replies(channel=channel, ts=thread_ts, limit=50)
        except Exception as e:  # noqa: BLE001 - history is a nicety; answer the question anyway
            log.warning("conversations.replies failed: %s", e)
            return question
        earlier = [
            question_of(m) for m in replies.get("messages", [])
            if not m.get("bot_id") and m.get("ts") != ts and float(m.get("ts", 0)) < float(ts)
        ][-s.history_turns :]  # fmt: skip
        return standalone_question(question, earlier)

    def on_event(ack, event: dict, body: dict) -> None:
        ack()  # the HTTP response leaves when this function returns: after the log has the question
        # Direct messages only; channel messages reach us as app_mention. Never bots.
        if event.get("bot_id") or event.get("subtype"):
            return
        if event["type"] == "message" and event.get("channel_type") != "im":
            return
        ts = event["ts"]
        event_id = body.get("event_id") or f"{event['channel']}-{ts}"
        r = Request(event_id, "event", event["channel"], event.get("thread_ts") or ts, ts,
                    event.get("user", ""), question_of(event) or "help")  # fmt: skip
        notice = accept(r)
        if notice and notice[0] == "reply":
            notices.submit(post, r.channel, r.thread_ts, notice[1])
        elif notice:  # queued: only the asker needs to know, and the thread keeps one reply
            notices.submit(_safe, client.chat_postEphemeral, channel=r.channel, user=r.user,
                           thread_ts=r.thread_ts, text=notice[1])  # fmt: skip

    def on_command(ack, command: dict) -> None:
        question = command.get("text", "").strip()
        r = Request(f"command-{command.get('trigger_id') or uuid.uuid4().hex}", "command", command["channel_id"],
                    None, None, command.get("user_id", ""), question,
                    response_url=command.get("response_url"))  # fmt: skip
        notice = accept(r)
        text = f":mag: Looking for papers on “{question}”…"
        if notice:
            text = f"{text} {notice[1]}" if notice[0] == "queued" else notice[1]
        ack(response_type="ephemeral", text=text)

    def on_feedback(ack, body: dict, action: dict) -> None:
        ack()
        vote = 1 if action["action_id"] == "feedback_up" else -1
        feedback_store.add_feedback(action["value"], body.get("user", {}).get("id", ""), vote)

    app.event("app_mention")(on_event)
    app.event("message")(on_event)
    app.command(s.slash_command)(on_command)
    app.action("feedback_up")(on_feedback)
    app.action("feedback_down")(on_feedback)

    # Questions a stopped bot left unanswered: answer them, or apologise when they are old.
    for r in requests.orphans(s.recover_after_s):
        if requests.take_over(r):
            fresh = time.time() - r.created < s.recover_max_age_s
            log.info("taking over question %s left %s by %s", r.event_id, r.state, r.owner)
            try:
                pool.submit(answer_job(r) if fresh else apology_job(r))
            except PoolFull:
                notices.submit(apology_job(r))
    return app


def queued(ahead: int) -> str:
    return f":hourglass: Queued: {ahead} question{'s' if ahead != 1 else ''} ahead of yours; I'll answer in the thread."


BUSY = ":warning: I'm answering too many questions right now; please ask again in a few minutes."
NOT_A_MEMBER = ("not_in_channel", "channel_not_found")
INVITE_HINT = ":information_source: I can't post in this channel, so only you see this answer. " \
    "Invite me with `/invite @paperbot` to get answers in threads."
RESTARTING = ":arrows_counterclockwise: I'm restarting; please ask again in a minute."


def drain(app, server=None, timeout: float | None = None) -> bool:
    """Stop taking questions, finish the queued and running ones (up to the drain timeout),
    then stop ``server``. Unfinished ones stay pending in the log; the next start takes them."""
    pool, default_timeout = _POOLS[app]
    pool.close()
    log.info("draining: no new questions; finishing the ones in hand")
    finished = pool.drain(default_timeout if timeout is None else timeout)
    if not finished:
        log.warning("drain timed out; unfinished questions stay in the log for the next start")
    if server is not None:
        server.shutdown()
    return finished


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

        def serve_forever(self, poll_interval: float = 0.5) -> None:
            # Serving from the main thread is the `paperbot slack --http` process: SIGTERM
            # (a deploy, `docker stop`) drains answers, then ends serve_forever. The drain runs
            # on its own thread because shutdown() waits for this loop, which runs the handler.
            if threading.current_thread() is threading.main_thread():
                signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=drain, args=(app, self)).start())
            super().serve_forever(poll_interval)

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
