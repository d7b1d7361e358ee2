"""The channel digest in Slack: ``/paper digest`` (on, off, now, keywords, and the settings),
the scheduled post, the digest's buttons, and answering "Ask about this" in the digest's thread.

Settings commands are answered in the command's ack (a SQLite write, no Web API call). A digest
is a request like a question (bot/slack/requests_log.py): a scheduled one is claimed as
"digest:<channel>:<period>" before it is built, so of two bot processes sharing the data dir, or a
bot restarted within the period, exactly one posts it; one a killed bot left half done is taken
over on the next start like any question. ``/paper digest now`` is claimed by its trigger id."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any

from bot.digest.build import Digest, build_digest, digest_since, first_digest_since, learned_from, observe
from bot.digest.schedule import CADENCES, check_time, due_period, next_due, period_at
from index.settings.digest import check_timezone
from bot.digest.store import DigestStore, Subscription
from bot.slack.blocks import feedback_vote
from bot.slack.digest_blocks import asked_paper, digest_blocks, digest_text, shown_papers
from bot.slack.reply import NOT_A_MEMBER, Replier, slack_error
from bot.slack.requests_log import Request, RequestLog
from index.reader import LiveIndex
from index.settings import Settings

log = logging.getLogger("paperbot.slack")
WORD = "digest"
# Slack errors that mean the bot cannot post in the channel until someone acts.
GONE = (*NOT_A_MEMBER, "is_archived", "restricted_action")
MAX_TRIES = 3  # a scheduled digest Slack refused for another reason is tried this often in its period
SCHEDULED = "digest:"  # event id prefix of a scheduled digest: digest:<channel>:<period>
NOW = "digest-now:"  # ...of /paper digest now: digest-now:<trigger id>
USAGE = (
    "*Channel digest* — the new papers this channel cares about, picked by what it asks:\n"
    "• `/paper digest on [daily|weekly] [HH:MM] [timezone]` (e.g. `/paper digest on weekly 09:30 Europe/Paris`)\n"
    "• `/paper digest off`\n• `/paper digest now` (post one now)\n"
    "• `/paper digest keywords quantization, KV cache, speculative decoding` (what it follows while it has asked "
    "little)\n• `/paper digest` shows this channel's settings."
)
_DIGESTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def digest_words(text: str) -> list[str] | None:
    """The words after "digest" when ``text`` is a digest command; None for a question
    ("digest" followed by anything but a subcommand is asked like any question)."""
    word, *rest = text.split() or [""]
    if word.lower() != WORD:
        return None
    if rest and rest[0].lower() not in ("on", "off", "now", "keywords", "keyword", "help", "settings", "status"):
        return None
    return rest


def ask_question(title: str) -> str:
    """What "Ask about this" asks about a digest paper."""
    return f"What does the paper “{title}” propose, and what does it find?"


class Digests:
    """The digest side of one Bolt app."""

    def __init__(
        self, settings: Settings, client: Any, index: LiveIndex, requests: RequestLog,
        tell: Callable[[Request, str], None], now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:  # fmt: skip
        """``tell(r, text)`` says something to the one who asked ``r`` alone (Replier.respond: through
        the command's response_url, which works where the bot is not a member)."""
        self.settings, self.s = settings, settings.digest
        self.client, self.index, self.requests, self.now = client, index, requests, now
        self._tell_asker = tell
        self.store = DigestStore(settings.digest_path)
        self._jobs = ThreadPoolExecutor(1, thread_name_prefix="paperbot-digest-post")
        self._failures: dict[str, int] = {}  # scheduled digests Slack refused, by event id
        self._stop = threading.Event()

    # -- /paper digest -----------------------------------------------------------------------
    def command(self, words: list[str], channel: str, user: str, trigger_id: str, team: str = "",
                response_url: str | None = None) -> str:  # fmt: skip
        """What ``/paper digest <words>`` does, answered in its ack."""
        sub = self.store.subscription(channel) or Subscription(
            channel, at=self.s.default_time, tz=self.s.default_timezone, since=first_digest_since(time.time())
        )
        verb, rest = (words[0].lower(), words[1:]) if words else ("settings", [])
        if verb == "on":
            try:
                sub = self._schedule(sub, rest)
            except ValueError as e:
                return f":warning: {e}\n{USAGE}"
            self.store.save(sub)
            return f":white_check_mark: Digest on: {self._describe(sub)}"
        if verb == "off":
            if not sub.enabled:
                return "The digest is already off here. `/paper digest on` starts it."
            self.store.save(dataclasses.replace(sub, enabled=False))
            return ":no_bell: Digest off. Its settings and what it learned are kept: `/paper digest on` resumes it."
        if verb in ("keywords", "keyword"):
            keywords = " ".join(rest).strip()
            self.store.save(dataclasses.replace(sub, keywords=keywords))
            if not keywords:
                return "Keywords cleared: the digest follows what this channel asks."
            return f":label: Keywords set: “{keywords}”. They lead while this channel has asked little, and fade as it asks more."
        if verb == "now":
            r = Request(f"{NOW}{trigger_id}", "digest", channel, None, None, user, "now", response_url=response_url,
                        team=team)  # fmt: skip
            if not self.requests.claim(r):
                return ""
            self.submit(r)
            return ":newspaper: Putting a digest together for this channel…"
        if verb == "help":
            return USAGE
        return self._settings_text(sub)

    def _schedule(self, sub: Subscription, words: list[str]) -> Subscription:
        """``sub`` turned on with the cadence, time and timezone ``words`` name (any order);
        turning it on starts from now: what was added before is not news."""
        cadence, at, tz = sub.cadence, sub.at, sub.tz
        for w in words:
            if w.lower() in CADENCES:
                cadence = w.lower()
            elif any(c.isdigit() for c in w) and ":" in w:
                at = check_time(w)
            else:
                tz = check_timezone(w)
        since = sub.since if sub.enabled else time.time()
        return dataclasses.replace(sub, enabled=True, cadence=cadence, at=at, tz=tz, since=since)

    def _describe(self, sub: Subscription) -> str:
        when = next_due(sub, self.now(), self.s.weekly_day)
        day = f"{when:%A}s" if sub.cadence == "weekly" else "every day"
        return (f"{day} at {sub.at} ({sub.tz}); the next one {when:%a %d %b %H:%M}. "
                "Make sure I'm in this channel (`/invite @paperbot`) so I can post it.")  # fmt: skip

    def _settings_text(self, sub: Subscription) -> str:
        """The settings and, cheaply (this is an ack), what the digest has to learn from."""
        state = f"on, {self._describe(sub)}" if sub.enabled else "off (`/paper digest on` starts it)"
        counts = {"question": self.requests.count_asked(sub.channel)}
        for reaction in self.store.reactions(sub.channel):
            kind = "liked" if reaction.value > 0 else "disliked"
            counts[kind] = counts.get(kind, 0) + 1
        counts["keywords"] = 1 if sub.keywords else 0
        keywords = f"“{sub.keywords}”" if sub.keywords else "none (`/paper digest keywords ...`)"
        return f"*Digest:* {state}\n*Keywords:* {keywords}\n*Learns from:* {learned_from(counts)}\n\n{USAGE}"

    # -- the schedule ------------------------------------------------------------------------
    def tick(self) -> list[str]:
        """Claim and queue every digest due now that no process has claimed; the claimed ids."""
        claimed = []
        now = self.now()
        with self.index.use() as idx:  # note each generation's new papers as it appears
            observe(idx, self.store)
        for sub in self.store.enabled():
            try:  # one channel's broken settings must not stop the others'
                period = due_period(sub, now, self.s.weekly_day)
            except Exception:  # noqa: BLE001
                log.exception("digest schedule of %s is broken; skipped", sub.channel)
                continue
            if period is None:
                continue
            r = Request(f"{SCHEDULED}{sub.channel}:{period}", "digest", sub.channel, None, None, "", period)
            if not self.requests.claim(r):
                continue  # posted, or being posted, by this or another process
            self.submit(r)
            claimed.append(r.event_id)
        return claimed

    def submit(self, r: Request) -> None:
        """Post the digest ``r`` claimed, on the digest's own thread: digests never wait behind
        questions, nor take their workers."""
        self._jobs.submit(self.job, r)

    def still_due(self, r: Request, max_age_s: float) -> bool:
        """Whether a digest a stopped bot left should still be posted: a scheduled one while its
        period lasts (never late, in the next one), one asked for ``now`` while younger than
        ``max_age_s``."""
        if r.event_id.startswith(NOW):
            return time.time() - r.created < max_age_s
        sub = self.store.subscription(r.channel)
        try:
            return sub is not None and sub.enabled and period_at(sub, self.now(), self.s.weekly_day)[0] == r.text
        except Exception:  # noqa: BLE001 - broken settings: not due
            return False

    def start(self) -> None:
        """Look for due digests now (one that fell due while the bot was down is posted on start)
        and every ``check_every_s``, until ``stop``."""

        def loop() -> None:
            while not self._stop.is_set():
                try:
                    self.tick()
                except Exception:  # noqa: BLE001 - a broken tick must not end the schedule
                    log.exception("digest schedule check failed")
                self._stop.wait(self.s.check_every_s)

        threading.Thread(target=loop, name="paperbot-digest", daemon=True).start()

    def stop(self) -> None:
        """No more schedule checks (the app drains); a digest being posted finishes."""
        self._stop.set()

    # -- posting -----------------------------------------------------------------------------
    def job(self, r: Request) -> None:
        """Build and post the digest ``r`` claimed (scheduled, or ``now``), then record it done.
        A scheduled one Slack refused for a passing reason is tried again at the next checks
        (``MAX_TRIES`` in all); one it refused because the bot cannot post there turns the
        channel's digest off."""
        self.requests.set_state(r.event_id, "answering")
        try:
            self._post(r)
            self.requests.set_state(r.event_id, "done")
        except Exception as e:
            error = slack_error(e)
            log.exception("digest %s failed (%s)", r.event_id, error or type(e).__name__)
            self.requests.set_state(r.event_id, "failed")
            if r.event_id.startswith(NOW):
                gone = " (invite me with `/invite @paperbot`)" if error in GONE else ""
                self._tell(r, f":warning: Sorry, I could not post the digest here{gone}.")
            elif error in GONE:  # the bot was removed, or the channel archived: stop trying every period
                sub = self.store.subscription(r.channel)
                if sub is not None:
                    self.store.save(dataclasses.replace(sub, enabled=False))
                log.warning("digest for %s turned off: Slack says %s", r.channel, error)
            else:
                self._failures[r.event_id] = tries = self._failures.get(r.event_id, 0) + 1
                if tries < MAX_TRIES:
                    self.requests.release(r.event_id)  # claimed again at the next check

    def _post(self, r: Request) -> None:
        scheduled = r.event_id.startswith(SCHEDULED)
        period = r.text if scheduled else f"now:{r.event_id[len(NOW):]}"
        if self.store.started(r.channel, period):
            # A process died after reserving this digest's papers, perhaps after posting it:
            # not posted again (a paper is never sent twice).
            log.warning("digest %s was started by a process that stopped; not posted again", r.event_id)
            self.store.record_sent(r.channel, period, None, 0.0, scheduled)
            return
        since = digest_since(self.store.subscription(r.channel), time.time())
        with self.index.use() as idx:
            d = build_digest(self.settings, idx, self.store, r.channel, since)
        blocks = digest_blocks(d, self.now())
        shown = shown_papers(blocks)
        mine = self.store.reserve(r.channel, period, shown)
        if not mine:
            log.info("digest %s: nothing new close enough to %s's interests (%d candidates)", r.event_id,
                     r.channel, d.candidates)  # fmt: skip
            self.store.record_sent(r.channel, period, None, d.until, scheduled)
            if not scheduled:
                self._tell(r, f"No new papers close to what this channel asks about since the last digest "
                              f"({d.candidates} added). I'll keep looking.")  # fmt: skip
            return
        if len(mine) < len(shown):  # another digest took some of them meanwhile
            d = dataclasses.replace(d, picks=[p for p in d.picks if p.paper.id in set(mine)])
            blocks = digest_blocks(d, self.now())
        try:
            posted = self.client.chat_postMessage(channel=r.channel, text=digest_text(d), blocks=blocks,
                                                  unfurl_links=False, unfurl_media=False)  # fmt: skip
        except Exception:
            self.store.release(r.channel, period)  # not sent: they may go in a later digest
            raise
        self.store.record_sent(r.channel, period, posted["ts"], d.until, scheduled)
        log.info("digest %s posted: %d papers", r.event_id, len(mine))

    def _tell(self, r: Request, text: str) -> None:
        Replier.safe(self._tell_asker, r=r, text=text)  # a notice must not fail the job

    # -- the digest's buttons ----------------------------------------------------------------
    def vote(self, body: dict, action: dict) -> None:
        vote = feedback_vote(action.get("value", ""))
        channel = (body.get("channel") or {}).get("id")
        if vote is None or not channel:
            return
        paper_id, value = vote
        self.store.react(channel, paper_id, body.get("user", {}).get("id", ""), "vote", value)

    def ask(self, body: dict, action: dict) -> Request | None:
        """The request "Ask about this" makes: a question about the paper, answered in the
        digest's thread (None when the click is not one). On the ack's thread: the button carries
        the title, so the index is not read here."""
        channel = (body.get("channel") or {}).get("id")
        message = body.get("message") or {}
        ts = message.get("thread_ts") or message.get("ts") or (body.get("container") or {}).get("message_ts")
        asked = asked_paper(action.get("value", ""))
        if not channel or not ts or asked is None:
            return None
        paper_id, title = asked
        user = body.get("user", {}).get("id", "")
        self.store.react(channel, paper_id, user, "ask", 1)
        click = action.get("action_ts") or body.get("trigger_id") or f"{time.time():.6f}"
        return Request(f"ask-{channel}-{paper_id}-{user}-{click}", "ask", channel, ts, None, user,
                       ask_question(title), team=(body.get("team") or {}).get("id", ""))  # fmt: skip


def attach(app: Any, digests: Digests) -> None:
    _DIGESTS[app] = digests


def digests_of(app: Any) -> Digests:
    """The Digests of an app made by create_app (tests drive its schedule with a fake clock)."""
    return _DIGESTS[app]


__all__ = ["Digests", "Digest", "ask_question", "attach", "digest_words", "digests_of"]
