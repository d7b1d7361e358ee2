"""The Slack bot (slack-bolt and slack-sdk live in bot/slack/ and nowhere else).

Ways to ask: @-mention in a channel, a direct message (also in Slack's assistant view,
which offers suggested prompts), the slash command; "add" and arXiv ids or links, asked any
of these ways, adds those papers (bot/slack/adding.py) through the same log and pool. A
listener only records the question in the SQLite request log (bot/slack/requests_log.py),
queues it and acks, in the request's own thread, so an ack never waits for answering; a
bounded pool of workers answers in the thread (bot/slack/reply.py: loading status, a
streamed or posted answer, feedback buttons). Slack's retries and repeated event ids never
produce a second answer, across restarts and across bots sharing the log, while a retry of
an event never recorded is answered. On start, questions a dead bot left are answered (or,
when old, apologised for); on SIGTERM (HTTP and Socket Mode) the bot answers what it holds,
turns new events away unacked so Slack delivers them again later, then exits. The bot
ignores its own and other bots' messages and turns an internal error into a short apology
with the run id."""

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

from bot.answer.answerer import Answerer
from bot.slack.adding import add_refs, adding
from bot.slack.requests_log import REQUESTS_FILE, AnswerPool, PoolClosed, PoolFull, Request, RequestLog
from bot.slack.blocks import FEEDBACK_ACTION, feedback_vote
from bot.slack.digest import Digests, attach, digest_words, digests_of
from bot.slack.digest_blocks import ASK_ACTION, VOTE_ACTION
from bot.slack.client import web_client
from bot.slack.reply import INVITE_HINT, NOT_A_MEMBER, Replier  # noqa: F401 - re-exported for callers
from bot.traces import TraceStore
from index.settings import Settings

log = logging.getLogger("paperbot.slack")
_MENTION = re.compile(r"<@[A-Z0-9]+>")
# Each app's answering pool and drain timeout, for the SIGTERM handlers.
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
    from slack_bolt import App, Assistant, BoltResponse

    s = settings.slack
    if s.bot_token is None or s.signing_secret is None:
        from index.errors import ConfigError

        raise ConfigError(
            "Slack needs SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (environment or .env); "
            "see the README's Slack section."
        )
    client = web_client(s)  # retries 429 (after Retry-After) and connection errors
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
    # Notices (queue position, rate limit, prompts) are Web API calls: never on the ack's thread.
    notices = ThreadPoolExecutor(2, thread_name_prefix="paperbot-notice")
    limiter = RateLimiter(s.rate_limit_per_minute)
    # Feedback goes with the traces when the answerer records them, else into its own file.
    feedback_store = answerer.traces or TraceStore(settings.traces_path)
    replier = Replier(client, s, answerer, requests)

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

    digests = Digests(settings, client, answerer.index, requests, tell=lambda r, text: replier.respond(r, text=text))
    attach(app, digests)

    def answer_job(r: Request) -> Callable[[], None]:
        if r.kind == "ask":  # "Ask about this" on a digest: the thread says who asked what
            return lambda: (replier.post(r.channel, r.thread_ts, f"<@{r.user}> asked: {r.text}"), replier.answer(r))
        refs = add_refs(r.text)  # "add 2401.01234": the text in the log says which job it is
        if refs is not None:
            return lambda: replier.add(r, refs)
        return lambda: replier.answer(r, with_history(r))

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

    def with_history(r: Request) -> str:
        """The question, made standalone when it is a reply inside a thread (on the worker)."""
        if not r.react_ts or r.thread_ts in (None, r.react_ts) or s.history_turns == 0:
            return r.text
        try:
            replies = client.conversations_replies(channel=r.channel, ts=r.thread_ts, limit=50)
        except Exception as e:  # noqa: BLE001 - history is a nicety; answer the question anyway
            log.warning("conversations.replies failed: %s", e)
            return r.text
        earlier = [
            question_of(m) for m in replies.get("messages", [])
            if not m.get("bot_id") and m.get("ts") != r.react_ts and float(m.get("ts", 0)) < float(r.react_ts)
        ]  # fmt: skip
        # In a digest's thread, "Ask about this" questions come first: Slack shows them as the bot's.
        earlier = [*requests.thread_asks(r.channel, r.thread_ts), *earlier][-s.history_turns :]
        return standalone_question(r.text, earlier)

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
                    event.get("user", ""), question_of(event) or "help",
                    team=event.get("team") or body.get("team_id") or "")  # fmt: skip
        notice = accept(r)
        if notice and notice[0] == "reply":
            notices.submit(replier.post, r.channel, r.thread_ts, notice[1])
        elif notice:  # queued: only the asker needs to know, and the thread keeps one reply
            notices.submit(replier.safe, client.chat_postEphemeral, channel=r.channel, user=r.user,
                           thread_ts=r.thread_ts, text=notice[1])  # fmt: skip

    def on_command(ack, command: dict) -> None:
        question = command.get("text", "").strip()
        words = digest_words(question)
        if words is not None:  # /paper digest ...: settings answered in the ack
            text = digests.command(words, command["channel_id"], command.get("user_id", ""),
                                   command.get("trigger_id") or uuid.uuid4().hex, command.get("team_id", ""),
                                   command.get("response_url"))  # fmt: skip
            ack(response_type="ephemeral", text=text or "A digest is already on its way.")
            return
        r = Request(f"command-{command.get('trigger_id') or uuid.uuid4().hex}", "command", command["channel_id"],
                    None, None, command.get("user_id", ""), question,
                    response_url=command.get("response_url"), team=command.get("team_id", ""))  # fmt: skip
        notice = accept(r)
        refs = add_refs(question)
        text = f":inbox_tray: {adding(refs)}" if refs is not None else f":mag: Looking for papers on “{question}”…"
        if notice:
            text = f"{text} {notice[1]}" if notice[0] == "queued" else notice[1]
        ack(response_type="ephemeral", text=text)

    def on_feedback(ack, body: dict, action: dict) -> None:
        """Slack's feedback_buttons (value "up:<run id>"), and the plain buttons of answers
        posted before them (action feedback_up / feedback_down, value the run id)."""
        ack()
        if action["action_id"] == FEEDBACK_ACTION:
            vote = feedback_vote(action.get("value", ""))
            if vote is None:
                return
            run_id, v = vote
        else:
            run_id, v = action["value"], 1 if action["action_id"] == "feedback_up" else -1
        feedback_store.add_feedback(run_id, body.get("user", {}).get("id", ""), v)

    def on_digest_vote(ack, body: dict, action: dict) -> None:
        ack()
        digests.vote(body, action)

    def on_digest_ask(ack, body: dict, action: dict) -> None:
        ack()
        r = digests.ask(body, action)
        notice = accept(r) if r is not None else None
        if r is not None and notice:
            notices.submit(replier.safe, client.chat_postEphemeral, channel=r.channel, user=r.user,
                           thread_ts=r.thread_ts, text=notice[1])  # fmt: skip

    # The assistant view in DMs: suggested prompts when a thread opens; its messages are
    # questions like any DM. The channel the user is looking at (thread context) is not used.
    assistant = Assistant()

    def on_thread_started(ack, event: dict) -> None:
        ack()
        thread = event.get("assistant_thread", {})
        prompts = [{"title": p, "message": p} for p in s.suggested_prompts]
        if thread.get("channel_id") and thread.get("thread_ts") and prompts:
            notices.submit(replier.safe, client.assistant_threads_setSuggestedPrompts, channel_id=thread["channel_id"],
                           thread_ts=thread["thread_ts"], title=PROMPTS_TITLE, prompts=prompts)  # fmt: skip

    def on_context_changed(ack) -> None:
        ack()

    assistant.thread_started(on_thread_started)
    assistant.thread_context_changed(on_context_changed)
    assistant.user_message(on_event)
    app.assistant(assistant)
    app.event("app_mention")(on_event)
    app.event("message")(on_event)
    app.command(s.slash_command)(on_command)
    app.action(FEEDBACK_ACTION)(on_feedback)
    app.action("feedback_up")(on_feedback)
    app.action("feedback_down")(on_feedback)
    app.action(VOTE_ACTION)(on_digest_vote)
    app.action(ASK_ACTION)(on_digest_ask)

    # Questions a stopped bot left unanswered: answer them, or apologise when they are old.
    for r in requests.orphans(s.recover_after_s):
        if r.kind == "digest":  # posted on the digest's thread, or quietly dropped when its time is past
            if requests.take_over(r):
                if digests.still_due(r, s.recover_max_age_s):
                    digests.submit(r)
                else:
                    requests.set_state(r.event_id, "failed")
            continue
        if requests.take_over(r):
            fresh = time.time() - r.created < s.recover_max_age_s
            log.info("taking over question %s left %s by %s", r.event_id, r.state, r.owner)
            job = answer_job(r) if fresh else (lambda r=r: replier.apologise(r))
            try:
                pool.submit(job)
            except PoolFull:
                notices.submit(replier.apologise, r)
    # Digests due now (one that fell due while the bot was down) and then every check_every_s.
    digests.start()
    return app


def queued(ahead: int) -> str:
    return f":hourglass: Queued: {ahead} question{'s' if ahead != 1 else ''} ahead of yours; I'll answer in the thread."


BUSY = ":warning: I'm answering too many questions right now; please ask again in a few minutes."
RESTARTING = ":arrows_counterclockwise: I'm restarting; please ask again in a minute."
PROMPTS_TITLE = "Ask about ML papers — I answer from their abstracts, with citations:"


def drain(app, server=None, timeout: float | None = None) -> bool:
    """Stop taking questions, finish the queued and running ones (up to the drain timeout),
    then stop ``server``. Unfinished ones stay pending in the log; the next start takes them."""
    pool, default_timeout = _POOLS[app]
    digests_of(app).stop()
    pool.close()
    log.info("draining: no new questions; finishing the ones in hand")
    finished = pool.drain(default_timeout if timeout is None else timeout)
    if not finished:
        log.warning("drain timed out; unfinished questions stay in the log for the next start")
    if server is not None:
        server.shutdown()
    return finished


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


def run_socket_mode(app, settings: Settings, handler=None, stop: threading.Event | None = None) -> bool:
    """Socket Mode until SIGTERM (or ``stop``), then the drain: new events go unacked (Slack
    delivers them again, to another connection or after the restart), the connection
    closes, and the questions in hand are answered. ``handler`` replaces Bolt's
    SocketModeHandler (tests). Returns whether the drain finished in time."""
    if handler is None:  # pragma: no cover - needs Slack itself
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        if settings.slack.app_token is None:
            from index.errors import ConfigError

            raise ConfigError("Socket Mode needs SLACK_APP_TOKEN (xapp-…); or run `paperbot slack --http`.")
        handler = SocketModeHandler(app, settings.slack.app_token.get_secret_value())
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    handler.connect()
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    pool, timeout = _POOLS[app]
    pool.close()  # the middleware now leaves events unacked
    handler.close()
    return drain(app, timeout=timeout)
