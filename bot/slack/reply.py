"""How one question's answer (or an add request's result, bot/slack/adding.py) reaches Slack,
on an answering worker (never an ack's thread).

Slack's loading status (assistant.threads.setStatus) shows under the question while
paperbot works; a reply in the thread clears it. With a streaming LLM backend the answer
is streamed (chat.startStream / appendStream / stopStream) a grounded sentence at a time
(bot/slack/stream.py) and the stream ends with the sources and the feedback buttons;
otherwise the answer is posted whole, split across messages within Slack's limits
(bot/slack/blocks.py). ``/paper`` where the bot may not post answers through the
command's response_url instead. Web API calls retry 429 and connection errors
(bot/slack/client.py)."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from typing import Any, Callable

from bot.answer.answerer import Answerer
from bot.slack.adding import add_papers, adding
from bot.slack.requests_log import Request, RequestLog
from bot.slack.blocks import MAX_BLOCKS, TEXT_LIMIT, answer_messages, fallback_text, source_blocks, tail_blocks
from bot.slack.client import webhook_client
from bot.slack.stream import GroundedStream, streaming_answerer
from index.settings import SlackSettings
from bot.types import Answer

log = logging.getLogger("paperbot.slack")

NOT_A_MEMBER = ("not_in_channel", "channel_not_found")
INVITE_HINT = ":information_source: I can't post in this channel, so only you see this answer. " \
    "Invite me with `/invite @paperbot` to get answers in threads."
CHECKING = "Checking citations…"


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
            self.post_answer(r, self.answerer(question or r.text))

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
    def post_answer(self, r: Request, a: Answer) -> None:
        for i, blocks in enumerate(answer_messages(a)):  # a long answer continues in the thread
            self.client.chat_postMessage(
                channel=r.channel, thread_ts=r.thread_ts, text=fallback_text(a) if i == 0 else "(continued)",
                blocks=blocks, unfurl_links=False,
            )  # fmt: skip

    def respond_privately(self, r: Request) -> None:
        """``/paper`` where the bot may not post (not a member): the answer goes to the asker
        alone through the command's response_url, with how to get threaded answers."""
        a = self.answerer(r.text)
        hint = {"type": "context", "elements": [{"type": "mrkdwn", "text": INVITE_HINT}]}
        self.respond(r, text=fallback_text(a), blocks=[hint, *answer_messages(a)[0]][:MAX_BLOCKS])

    def respond(self, r: Request, **message: Any) -> None:
        """A message to the asker alone through a slash command's response_url (no membership
        needed); without one (never from Slack), an ephemeral message in the channel."""
        if not r.response_url:
            self.client.chat_postEphemeral(channel=r.channel, user=r.user, **message)
            return
        sent = webhook_client(r.response_url, self.s).send(response_type="ephemeral", **message)
        if sent.status_code != 200:
            raise RuntimeError(f"response_url answered HTTP {sent.status_code}: {sent.body[:200]}")

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
        stream = self.client.chat_stream(channel=r.channel, thread_ts=r.thread_ts, buffer_size=1, **recipients)
        settings = self.answerer.settings
        sentences = GroundedStream(
            self.answerer.index.embed_cached, settings.llm.support_threshold,
            emit=lambda text: stream.append(markdown_text=text),
            on_first_token=lambda: self.status(r, CHECKING),
            limit=TEXT_LIMIT // 2,  # the rest of the message holds the sources
        )  # fmt: skip
        try:
            a = self._streamer(question, on_token=sentences)
        except Exception:
            if sentences.streamed:
                self.safe(stream.stop, markdown_text="\n\n_(interrupted)_")
            raise
        if not sentences.streamed:  # a refusal, or the extractive fallback: nothing was streamed
            self.post_answer(r, a)
            return
        text, citations = sentences.finish()
        if a.raw_output != sentences.raw or a.refused:
            # The backend was retried after part of an answer streamed (or failed and the
            # extractive answer replaced it): the checked answer follows in full.
            stream.stop(markdown_text="\n\n_(the model was interrupted; the checked answer follows)_")
            self.post_answer(r, a)
            return
        shown = dataclasses.replace(a, text=text, citations=citations)
        ending = source_blocks(shown) + tail_blocks(shown)
        if sentences.held:  # past the stream's share of the message: the rest comes next
            stream.stop(markdown_text=" _(continued below)_")
            rest = dataclasses.replace(shown, text=" ".join(sentences.held), caveat="")  # said above already
            self.post_answer(r, rest)
            return
        stream.stop(blocks=ending[:MAX_BLOCKS])


def searching(n: int) -> str:
    return f"Searching {n} abstract{'s' if n != 1 else ''}…"
