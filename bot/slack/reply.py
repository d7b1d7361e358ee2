"""How one question's answer (or an add request's result, bot/slack/adding.py) reaches Slack,
on an answering worker (never an ack's thread).

Slack's loading status (assistant.threads.setStatus) shows under the question while
paperbot works; a reply in the thread clears it. With a streaming LLM backend the answer
is streamed (chat.startStream / appendStream / stopStream) a grounded sentence at a time
(bot/slack/stream.py) and the stream ends with the sources and the feedback buttons;
otherwise the answer is posted whole, split across messages within Slack's limits
(bot/slack/blocks.py). ``/paper`` where the bot may not post answers through the
command's response_url instead. Web API calls retry 429 and connection errors
(bot/slack/client.py).

Slack's own failures never lose an answer: a stream Slack closed (``message_not_in_streaming_state``,
after about 5 minutes or sooner) or that failed is finished with chat.update on the stream's
message (or, if that fails too, the checked answer is posted); a stream the asker stopped
(``stopped_by_user``) is a cancel, not an error. A message Slack refuses as too big
(``msg_blocks_too_long``/``invalid_blocks``) is split again with a smaller budget and sent
once more. Through response_url the whole answer goes (at most 5 posts, Slack's limit); past
the URL's 30 minutes the asker gets a direct message saying so, with what was to be sent."""

from __future__ import annotations

import dataclasses
import logging
import time
import uuid
from typing import Any, Callable

from bot.answer.answerer import Answerer
from bot.slack.adding import add_papers, adding
from bot.slack.requests_log import Request, RequestLog
from bot.slack.blocks import TEXT_LIMIT, answer_messages, fallback_text, repack, stream_ending, tail_blocks
from bot.slack.client import webhook_client
from bot.slack.stream import GroundedStream, streaming_answerer
from index.settings import SlackSettings
from bot.types import Answer

log = logging.getLogger("paperbot.slack")

NOT_A_MEMBER = ("not_in_channel", "channel_not_found")
INVITE_HINT = ":information_source: I can't post in this channel, so only you see this answer. " \
    "Invite me with `/invite @paperbot` to get answers in threads."
CHECKING = "Checking citations…"
CLOSED = "message_not_in_streaming_state"  # Slack ended the stream (about 5 minutes, or sooner)
STOPPED = "stopped_by_user"  # the asker pressed stop: a cancel
TOO_BIG = ("msg_blocks_too_long", "invalid_blocks")
# After a size rejection, one more try with this budget (section-heavy messages have been
# refused from about 11.3k characters, under the documented 12k).
RETRY_TEXT_LIMIT = TEXT_LIMIT * 2 // 3
RESPONSE_URL_TTL_S = 30 * 60  # Slack's life of a slash command's response_url...
RESPONSE_URL_POSTS = 5  # ...and how many messages it takes
EXPIRED_URL = ("expired_url", "used_url")
EXPIRED = ":hourglass: Your `/paper` question “{question}” waited longer than Slack keeps its reply link " \
    "(30 minutes), so I'm answering here. Invite me with `/invite @paperbot` to get answers in threads."


def slack_error(e: BaseException) -> str | None:
    """Slack's error string of a failed Web API call (None for any other exception)."""
    from slack_sdk.errors import SlackApiError

    return e.response.get("error") if isinstance(e, SlackApiError) else None


class Replier:
    def __init__(self, client: Any, s: SlackSettings, answerer: Answerer, requests: RequestLog) -> None:
        self.client, self.s, self.answerer, self.requests = client, s, answerer, requests
        self.streaming = s.stream_answers and answerer.streams
        self._streamer = streaming_answerer(answerer) if self.streaming else answerer

    # -- the jobs ----------------------------------------------------------------------------
    def answer(self, r: Request, question: str | None = None) -> None:
        """Answer ``r`` in its thread (a command gets its thread first); ``question`` is the
        text to answer when it differs from what was asked (a thread's follow-up)."""
        self._job(r, lambda: self._answer(r, question))

    def add(self, r: Request, refs: list[str]) -> None:
        """Add the papers ``refs`` name (bot/slack/adding.py) and say what became of each: in the
        thread, or for ``/paper add`` to the asker through the command's response_url."""
        self._job(r, lambda: self._add(r, refs))

    def _job(self, r: Request, work: Callable[[], None]) -> None:
        """Run one request's ``work``: answering, then done; an unexpected error becomes an
        apology with a run id (in the request's thread, as the log knows it by then) and failed."""
        self.requests.set_state(r.event_id, "answering")
        try:
            if r.react_ts and self.s.busy_reaction:
                self.safe(self.client.reactions_add, channel=r.channel, timestamp=r.react_ts, name=self.s.busy_reaction)
            work()
            self.requests.set_state(r.event_id, "done")
        except Exception:
            run_id = uuid.uuid4().hex[:12]
            log.exception("answering failed (run %s)", run_id)
            known = self.requests.get(r.event_id)
            self.post(r.channel, known.thread_ts if known else r.thread_ts, f":warning: Sorry, something went wrong "
                      f"while answering (run `{run_id}`). Please try again.")  # fmt: skip
            self.requests.set_state(r.event_id, "failed")
        finally:
            self.unreact(r)

    def _answer(self, r: Request, question: str | None) -> None:
        from slack_sdk.errors import SlackApiError

        if r.thread_ts is None:  # a slash command: its thread starts with the question
            try:
                posted = self.client.chat_postMessage(channel=r.channel, text=f"<@{r.user}> asked: {r.text}")
            except SlackApiError as e:
                if e.response.get("error") not in NOT_A_MEMBER or not r.response_url:
                    raise
                self.respond_privately(r)
                return
            self.requests.set_state(r.event_id, "answering", posted["ts"])
            r = dataclasses.replace(r, thread_ts=posted["ts"])
        looking = searching(len(self.answerer.index.papers))
        self.status(r, looking, [looking, CHECKING])
        if self.streaming and self._can_stream(r):
            self._stream(r, question or r.text)
        else:
            self.post_answer(r, self._answered(r, self.answerer(question or r.text)))

    def _answered(self, r: Request, a: Answer) -> Answer:
        """``a``, its run noted with the request: the channel's digest learns from it."""
        self.requests.set_run(r.event_id, a.run_id)
        return a

    def _add(self, r: Request, refs: list[str]) -> None:
        self.status(r, adding(refs))
        text = add_papers(self.answerer.settings, self.answerer.index, refs)
        if r.thread_ts is None:  # /paper add: to the asker, like its ack; no thread needed
            self.respond(r, text=text)
        else:
            self.client.chat_postMessage(channel=r.channel, thread_ts=r.thread_ts, text=text, unfurl_links=False)

    def apologise(self, r: Request) -> None:
        """A question a stopped bot left, too old to answer now."""
        mention = "" if r.thread_ts else f"<@{r.user}> "  # a command that never got its thread
        self.post(r.channel, r.thread_ts, f"{mention}:warning: Sorry, I restarted and lost track of your question "
                  f"“{r.text}”. Please ask again.")  # fmt: skip
        self.requests.set_state(r.event_id, "failed")
        self.unreact(r)

    # -- posting -----------------------------------------------------------------------------
    def post_answer(self, r: Request, a: Answer, skip: int = 0) -> None:
        """The whole answer in the thread, a long one continued in further messages (those
        after the first ``skip``)."""
        def post(i: int, blocks: list) -> None:
            self.client.chat_postMessage(
                channel=r.channel, thread_ts=r.thread_ts, text=fallback_text(a) if i == 0 else "(continued)",
                blocks=blocks, unfurl_links=False,
            )  # fmt: skip

        self.send_all(answer_messages(a), post, start=skip)

    @staticmethod
    def send_all(messages: list[list[dict]], send: Callable[[int, list], None], start: int = 0) -> None:
        """``send(i, blocks)`` each message from ``start`` on. The first size rejection splits
        the unsent rest again with a smaller budget and goes on; a second one is raised."""
        i, retried = start, False
        while i < len(messages):
            try:
                send(i, messages[i])
            except Exception as e:
                if retried or slack_error(e) not in TOO_BIG:
                    raise
                log.warning("Slack refused message %d as too big (%s); splitting smaller", i, slack_error(e))
                retried = True
                messages = messages[:i] + repack(messages[i:], RETRY_TEXT_LIMIT)
                continue
            i += 1

    def respond_privately(self, r: Request) -> None:
        """``/paper`` where the bot may not post (not a member): the whole answer goes to the
        asker alone through the command's response_url (at most 5 posts), with how to get
        threaded answers."""
        a = self._answered(r, self.answerer(r.text))
        hint = {"type": "context", "elements": [{"type": "mrkdwn", "text": INVITE_HINT}]}
        messages = answer_messages(a, lead=[hint])
        if len(messages) > RESPONSE_URL_POSTS:  # over 50k characters: the last post says what is missing
            cut = {"type": "context", "elements": [{"type": "mrkdwn", "text": "_(the rest of this answer did not "
                   "fit; invite me with `/invite @paperbot` for the whole answer in a thread)_"}]}  # fmt: skip
            messages = messages[: RESPONSE_URL_POSTS - 1] + [[cut, *tail_blocks(a)]]
        self.respond(r, *[{"text": fallback_text(a) if i == 0 else "(continued)", "blocks": blocks}
                          for i, blocks in enumerate(messages)])  # fmt: skip

    def respond(self, r: Request, *messages: dict[str, Any], **message: Any) -> None:
        """Messages to the asker alone through a slash command's response_url (no membership
        needed); without one (never from Slack), ephemeral messages in the channel. Past the
        URL's life (30 minutes, or Slack says it expired) they go to the asker's direct
        messages, after a line that says why."""
        messages = (*messages, message) if message else messages
        if not r.response_url:
            for m in messages:
                self.client.chat_postEphemeral(channel=r.channel, user=r.user, **m)
            return
        known = self.requests.get(r.event_id)
        created = r.created or (known.created if known else 0.0)
        sent = 0
        if not created or time.time() - created <= RESPONSE_URL_TTL_S:
            hook = webhook_client(r.response_url, self.s)
            for m in messages:
                answered = hook.send(response_type="ephemeral", **m)
                if answered.status_code != 200 and answered.body.strip() in EXPIRED_URL:
                    break
                if answered.status_code != 200:
                    raise RuntimeError(f"response_url answered HTTP {answered.status_code}: {answered.body[:200]}")
                sent += 1
        if sent == len(messages):
            return
        log.info("response_url of %s expired; answering in a direct message", r.event_id)
        self.client.chat_postMessage(channel=r.user, text=EXPIRED.format(question=r.text))
        for m in messages[sent:]:
            self.client.chat_postMessage(channel=r.user, unfurl_links=False, **m)

    def post(self, channel: str, thread_ts: str | None, text: str) -> None:
        self.safe(self.client.chat_postMessage, channel=channel, thread_ts=thread_ts, text=text)

    def status(self, r: Request, text: str, loading: list[str] | None = None) -> None:
        """Slack's loading status under the question (``loading`` rotates while it shows);
        the reply clears it."""
        if self.s.loading_status and r.thread_ts:
            self.safe(self.client.assistant_threads_setStatus, channel_id=r.channel, thread_ts=r.thread_ts,
                      status=text, loading_messages=loading or [text])  # fmt: skip

    def unreact(self, r: Request) -> None:
        if r.react_ts and self.s.busy_reaction:
            self.safe(self.client.reactions_remove, channel=r.channel, timestamp=r.react_ts, name=self.s.busy_reaction)

    @staticmethod
    def safe(call, **kwargs: Any) -> None:
        """Cosmetic calls (status, reactions, notices) must never stop an answer."""
        try:
            call(**kwargs)
        except Exception as e:  # noqa: BLE001
            log.warning("%s failed: %s", getattr(call, "__name__", "call"), e)

    # -- streaming ---------------------------------------------------------------------------
    def _can_stream(self, r: Request) -> bool:
        # Outside a DM Slack needs the recipient (user and team) of a streamed message.
        return r.channel.startswith("D") or bool(r.user and r.team)

    def _stream(self, r: Request, question: str) -> None:
        recipients = {} if r.channel.startswith("D") else {"recipient_user_id": r.user, "recipient_team_id": r.team}
        stream = _Stream(self.client.chat_stream(channel=r.channel, thread_ts=r.thread_ts, buffer_size=1, **recipients))
        settings = self.answerer.settings
        sentences = GroundedStream(
            self.answerer.index.embed_cached, settings.llm.support_threshold,
            emit=stream.append,  # never raises: a stream Slack ended takes no more text
            on_first_token=lambda: self.status(r, CHECKING),
            limit=TEXT_LIMIT // 2,  # the rest of the message holds the sources
        )  # fmt: skip
        try:
            a = self._answered(r, self._streamer(question, on_token=sentences))
        except Exception:
            if sentences.streamed and not stream.ended:
                self.safe(stream.stop, markdown_text="\n\n_(interrupted)_")
            raise
        if stream.ended == STOPPED:
            log.info("the asker stopped the answer (run %s): not sent", a.run_id)
            return
        if not sentences.streamed:  # a refusal, or the extractive fallback: nothing was streamed
            self.post_answer(r, a)
            return
        text, citations = sentences.finish()
        shown = dataclasses.replace(a, text=text, citations=citations)
        if a.raw_output != sentences.raw or a.refused:
            # The backend was retried after part of an answer streamed (or failed and the
            # extractive answer replaced it): the checked answer follows in full.
            self._end(r, stream, a, markdown_text="\n\n_(the model was interrupted; the checked answer follows)_")
        elif sentences.held:  # past the stream's share of the message: the rest comes next
            rest = dataclasses.replace(shown, text=" ".join(sentences.held), caveat="")  # said above already
            self._end(r, stream, shown, markdown_text=" _(continued below)_", then=rest)
        else:
            self._end_with_sources(r, stream, shown)

    def _end(self, r: Request, stream: _Stream, a: Answer, then: Answer | None = None, **stop: Any) -> None:
        """Stop ``stream`` with ``stop`` and post ``then`` (default ``a``, the whole answer) in the
        thread; if Slack ended the stream first, ``a`` replaces it instead."""
        error = stream.ended or stream.stop_error(**stop)
        if error == STOPPED:
            log.info("the asker stopped the answer (run %s)", a.run_id)
        elif error:
            self._replace(r, stream, a)
        else:
            self.post_answer(r, then or a)

    def _end_with_sources(self, r: Request, stream: _Stream, a: Answer) -> None:
        """Stop ``stream`` with the sources and the feedback buttons (sources that do not fit
        follow in the thread; the buttons are never what gets cut); too big for Slack: once
        more with a smaller budget."""
        for budget in (TEXT_LIMIT, RETRY_TEXT_LIMIT):
            blocks, rest = stream_ending(a, stream.sent, budget)
            error = stream.ended or stream.stop_error(blocks=blocks)
            if error in TOO_BIG and budget != RETRY_TEXT_LIMIT:
                log.warning("Slack refused the stream's end as too big (%s); splitting smaller", error)
                continue
            if error == STOPPED:
                log.info("the asker stopped the answer (run %s)", a.run_id)
            elif error in TOO_BIG:
                raise RuntimeError(f"Slack refused the stream's end twice ({error})")
            elif error:
                self._replace(r, stream, a)
            else:
                for blocks in rest:
                    self.client.chat_postMessage(channel=r.channel, thread_ts=r.thread_ts, text="(continued)",
                                                 blocks=blocks, unfurl_links=False)  # fmt: skip
            return

    def _replace(self, r: Request, stream: _Stream, a: Answer) -> None:
        """A stream Slack ended (or that failed): its message becomes the whole checked answer
        (chat.update on the stream's ts, as slack-sdk's maintainers advise), continued in the
        thread; with no message to update, or the update refused, the answer is posted."""
        log.warning("answer stream ended by Slack (%s); finishing with chat.update", stream.ended or "stop failed")
        messages = answer_messages(a)
        if stream.ts is not None:
            try:
                self.send_all(messages[:1], lambda i, blocks: self.client.chat_update(
                    channel=r.channel, ts=stream.ts, text=fallback_text(a), blocks=blocks))  # fmt: skip
            except Exception as e:  # noqa: BLE001 - the answer is posted instead
                log.warning("chat.update of the stream's message failed: %s", e)
            else:
                self.post_answer(r, a, skip=1)
                return
        self.post_answer(r, a)


class _Stream:
    """slack-sdk's ChatStream, for a stream Slack may end on its side: ``append`` never raises
    (a failed append ends the stream: ``ended`` says why, and later text is dropped), and
    ``sent`` counts the characters that reached the message."""

    def __init__(self, stream: Any) -> None:
        self._stream, self.ended, self.sent = stream, None, 0

    @property
    def ts(self) -> str | None:
        return self._stream.ts

    def append(self, text: str) -> None:
        if self.ended:
            return
        try:
            self._stream.append(markdown_text=text)
        except Exception as e:  # noqa: BLE001 - the answer is finished another way (Replier._replace)
            self.ended = slack_error(e) or type(e).__name__
            log.warning("appending to the answer stream failed: %s", e)
        else:
            self.sent += len(text)

    def stop(self, **kwargs: Any) -> None:
        self._stream.stop(**kwargs)

    def stop_error(self, **kwargs: Any) -> str | None:
        """Stop the stream; None when it stopped, else why not (Slack's error, or the exception's type)."""
        try:
            self._stream.stop(**kwargs)
        except Exception as e:  # noqa: BLE001 - the caller finishes the answer another way
            log.warning("stopping the answer stream failed: %s", e)
            return slack_error(e) or type(e).__name__
        return None


def searching(n: int) -> str:
    return f"Searching {n} abstract{'s' if n != 1 else ''}…"
