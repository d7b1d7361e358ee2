"""The channel digest in Slack, through the real Bolt app over signed HTTP and the Web API
stand-in on loopback: `/paper digest` settings (answered in the ack, kept across restarts), a
digest posted now and on schedule (a fake clock), exactly once per period across a restart and
across two bot processes, a digest a killed bot left, the digest's votes, and "Ask about this"
answered in the digest's thread with the paper in context."""

from __future__ import annotations

import json
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

pytest.importorskip("slack_bolt")

from bot.digest.build import build_digest  # noqa: E402
from bot.digest.store import DigestStore, Subscription  # noqa: E402
from bot.slack.digest import digests_of  # noqa: E402
from bot.slack.requests_log import REQUESTS_FILE, Request, RequestLog  # noqa: E402
from evals.bench.slack_load import FORM, command_body, mention_body, send_signed, wait_for  # noqa: E402
from evals.bench.slack_standin import message_text_size  # noqa: E402
from index.ingest import ingest_papers  # noqa: E402
from test_digest import DATA, NEW  # noqa: E402 - tests/ is on the path, as pytest runs it

UTC = timezone.utc
LOW_FLOOR = {"min_score": 0.05}  # the fake embedder's bag-of-words cosines are low


@pytest.fixture
def digest_bot(fake_settings, make_bot):
    """make_bot with a score floor for the fake embedder; each call is a (re)start on one data dir."""
    fake_settings.digest = fake_settings.digest.model_copy(update=LOW_FLOOR)
    return make_bot


def command(url: str, text: str, channel: str = "C1", trigger: str = "t1", response_url: str | None = None) -> str:
    body = command_body(text, channel=channel, trigger_id=trigger, **({"response_url": response_url} if response_url else {}))
    status, body = send_signed(url, body, content_type=FORM)
    assert status == 200
    return json.loads(body)["text"] if body.startswith("{") else body


def digests(api, channel: str = "C1") -> list[dict]:
    """The digest messages the stand-in received (a header block first)."""
    return [p for p in api.succeeded("chat.postMessage")
            if p.get("channel") == channel and (p.get("blocks") or [{}])[0].get("type") == "header"]  # fmt: skip


def papers_in(post: dict) -> list[str]:
    return [json.loads(b["accessory"]["value"])["paper_id"] for b in post["blocks"]
            if b.get("accessory", {}).get("action_id") == "digest_ask"]  # fmt: skip


def ask_history(settings, channel: str, text: str, created: float | None = None) -> None:
    log = RequestLog(settings.index.data_dir / REQUESTS_FILE)
    r = Request(f"H-{channel}-{text}", "event", channel, "1.0", "1.0", "U1", text, created=created or time.time())
    log.claim(r)
    log.set_state(r.event_id, "done")


def opted_in(url: str, settings, question: str = "How do gardeners route tomatoes?", papers=NEW,
             schedule: str = "daily 09:00 UTC") -> None:
    """C1 turns its digest on and has asked ``question``; then ``papers`` are added (a second
    later: generations are stamped to the second, and these must arrive after opting in)."""
    command(url, f"digest on {schedule}".strip())
    ask_history(settings, "C1", question)
    time.sleep(1.1)
    ingest_papers(settings, papers)


def test_digest_settings_are_answered_in_the_ack_and_kept_across_a_restart(digest_bot, api):
    url, _, _ = digest_bot()
    assert "off" in command(url, "digest")  # off by default
    ack = command(url, "digest on weekly 09:30 Europe/Paris")
    assert "Digest on" in ack and "Mondays at 09:30 (Europe/Paris)" in ack
    assert "Keywords set" in command(url, "digest keywords tomatoes, gardeners")
    bad = command(url, "digest on 25:00")
    assert ":warning:" in bad and "HH:MM" in bad
    assert "Olympus" in command(url, "digest on Mars/Olympus") and "IANA" in command(url, "digest on Mars/Olympus")
    url2, _, _ = digest_bot()  # a restart: a new app on the same data dir
    shown = command(url2, "digest")
    assert "on, Mondays at 09:30 (Europe/Paris)" in shown and "tomatoes, gardeners" in shown
    assert "Digest off" in command(url2, "digest off")
    assert "off (`/paper digest on` starts it)" in command(url, "digest")
    assert not api.succeeded("chat.postMessage")  # settings post nothing in the channel
    # "digest" followed by anything else is a question like any other
    assert "Looking for papers" in command(url, "digest of the gardeners paper", trigger="tq")


def test_digest_now_posts_one_message_in_slack_conventions_and_never_repeats_a_paper(digest_bot, api, fake_settings):
    url, _, _ = digest_bot()
    opted_in(url, fake_settings, "How do gardeners route tomatoes to expert gardeners?")
    assert "Putting a digest together" in command(url, "digest now", trigger="now1")
    assert wait_for(lambda: len(digests(api)) == 1)
    (post,) = digests(api)
    assert post["unfurl_links"] in (False, "false", "0") and post["unfurl_media"] in (False, "false", "0")
    blocks = post["blocks"]
    assert len(blocks) <= 50 and message_text_size(post) <= 11_000
    assert blocks[0]["type"] == "header" and "New papers" in blocks[0]["text"]["text"]
    shown = papers_in(post)
    assert shown[:2] in (["n1", "n2"], ["n2", "n1"])  # the channel asked about gardeners and tomatoes
    section = next(b for b in blocks if b.get("accessory"))
    assert "Routing Tomatoes" in section["text"]["text"] or "Gardeners as Experts" in section["text"]["text"]
    assert "asked here" in section["text"]["text"]  # the one-line reason
    votes = [b for b in blocks if b["type"] == "context_actions"]
    assert len(votes) == len(shown) and votes[0]["elements"][0]["type"] == "feedback_buttons"
    assert votes[0]["elements"][0]["positive_button"]["value"] == f"up:{shown[0]}"
    # Asked again with nothing new: no second message, the asker is told.
    command(url, "digest now", trigger="now2", response_url=api.new_response_url())
    assert wait_for(lambda: any("No new papers" in p.get("text", "") for p in api.succeeded("response")))
    assert len(digests(api)) == 1
    # A new paper later: only it (and never a paper sent before).
    time.sleep(1.1)
    ingest_papers(fake_settings, [NEW[0].__class__("n5", "Tomato Routing for Gardeners, Revisited",
                                                   "Gardeners route tomatoes again with a better router.")])  # fmt: skip
    command(url, "digest now", trigger="now3")
    assert wait_for(lambda: len(digests(api)) == 2)
    assert papers_in(digests(api)[1]) == ["n5"]


def test_scheduled_digest_is_posted_once_per_period_on_a_fake_clock(digest_bot, api, fake_settings):
    url, _, app = digest_bot()
    opted_in(url, fake_settings, papers=NEW[:2])
    d = digests_of(app)
    now = datetime.now(UTC)
    tomorrow = now.replace(hour=9, minute=0, second=0, microsecond=0)  # the first 09:00 after opting in
    tomorrow += timedelta(days=1) if tomorrow <= now else timedelta(0)
    d.now = lambda: tomorrow - timedelta(minutes=1)
    assert d.tick() == []  # not due yet
    d.now = lambda: tomorrow + timedelta(minutes=1)
    assert d.tick() == [f"digest:C1:{tomorrow:%Y-%m-%d}"]
    assert wait_for(lambda: len(digests(api)) == 1)
    assert d.tick() == []  # the same period again: claimed already
    d.now = lambda: tomorrow + timedelta(hours=8)
    assert d.tick() == []
    time.sleep(1.1)
    ingest_papers(fake_settings, NEW[2:])
    d.now = lambda: tomorrow + timedelta(days=1, minutes=1)  # the next day
    assert len(d.tick()) == 1
    assert wait_for(lambda: DigestStore(fake_settings.digest_path).subscription("C1").last_period
                    == f"{tomorrow + timedelta(days=1):%Y-%m-%d}")  # fmt: skip
    sent = [p for post in digests(api) for p in papers_in(post)]
    assert len(sent) == len(set(sent))  # never the same paper twice


def test_digest_where_the_bot_cannot_post_tells_the_asker_and_a_scheduled_one_turns_itself_off(digest_bot, api,
                                                                                                fake_settings):  # fmt: skip
    url, _, app = digest_bot()
    opted_in(url, fake_settings)
    api.errors["chat.postMessage"] = "not_in_channel"
    command(url, "digest now", trigger="nm", response_url=api.new_response_url())
    assert wait_for(lambda: any("/invite @paperbot" in p.get("text", "") for p in api.succeeded("response")))
    d = digests_of(app)
    tomorrow = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0) + timedelta(days=1)
    d.now = lambda: tomorrow + timedelta(minutes=1)
    assert len(d.tick()) == 1
    store = DigestStore(fake_settings.digest_path)
    assert wait_for(lambda: not store.subscription("C1").enabled)  # no failing post every day from now on
    assert "off" in command(url, "digest")


def test_a_scheduled_digest_and_one_asked_for_at_the_same_time_never_send_a_paper_twice(digest_bot, api, fake_settings,
                                                                                        monkeypatch):  # fmt: skip
    url, _, app = digest_bot()
    opted_in(url, fake_settings, "How do gardeners route tomatoes to expert gardeners?")
    import bot.slack.digest as slack_digest

    def slow_build(*args, **kwargs):
        built = build_digest(*args, **kwargs)
        time.sleep(1.0)  # both are built before either reserves its papers
        return built

    monkeypatch.setattr(slack_digest, "build_digest", slow_build)
    d = digests_of(app)
    d._jobs = ThreadPoolExecutor(2)  # the bot posts digests one at a time; two processes would not
    tomorrow = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0) + timedelta(days=1)
    d.now = lambda: tomorrow + timedelta(minutes=1)
    command(url, "digest now", trigger="race", response_url=api.new_response_url())
    (scheduled,) = d.tick()
    log = RequestLog(fake_settings.index.data_dir / REQUESTS_FILE)
    assert wait_for(lambda: all(log.get(e).state == "done" for e in ("digest-now:race", scheduled)))
    sent = [p for post in digests(api) for p in papers_in(post)]
    assert sent and len(sent) == len(set(sent))  # each paper in one of them, whichever took it


def _due_now(settings) -> None:
    """C1 opted in two days ago, daily at a time that passed two minutes ago (UTC)."""
    at = datetime.now(UTC) - timedelta(minutes=2)
    DigestStore(settings.digest_path).save(Subscription("C1", True, "daily", f"{at:%H:%M}", "UTC",
                                                        since=time.time() - 2 * 86_400))  # fmt: skip
    ask_history(settings, "C1", "How do gardeners route tomatoes?", created=time.time() - 86_400)
    ingest_papers(settings, NEW)


def test_a_digest_due_while_the_bot_was_down_is_posted_on_start_once(digest_bot, api, fake_settings):
    _due_now(fake_settings)
    digest_bot()  # the start posts what fell due while nothing ran
    assert wait_for(lambda: len(digests(api)) == 1)
    digest_bot()  # restarted within the period: nothing more
    time.sleep(1.5)
    assert len(digests(api)) == 1


def test_a_digest_a_killed_bot_left_is_posted_by_the_next_start(digest_bot, api, fake_settings):
    from test_slack_service import dead_owner

    _due_now(fake_settings)
    period = f"{datetime.now(UTC) - timedelta(minutes=2):%Y-%m-%d}"
    dead = RequestLog(fake_settings.index.data_dir / REQUESTS_FILE, owner=dead_owner())
    assert dead.claim(Request(f"digest:C1:{period}", "digest", "C1", None, None, "", period))
    dead.set_state(f"digest:C1:{period}", "answering")  # killed while posting
    digest_bot()
    assert wait_for(lambda: len(digests(api)) == 1)
    time.sleep(1.0)
    assert len(digests(api)) == 1


RACER = """
import json, sys, time
from datetime import datetime
from pathlib import Path
from bot.answer.answerer import Answerer
from bot.slack.app import create_app, drain
from bot.slack.digest import digests_of
from index.reader import open_index
from index.settings import Settings

settings = Settings()
app = create_app(settings, Answerer(settings, open_index(settings)))
d = digests_of(app)
d.now = lambda: datetime.fromisoformat(sys.argv[1])
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.01)
claimed = d.tick()
drain(app, timeout=30)
print(json.dumps(claimed))
"""


def test_a_digest_a_killed_bot_may_have_posted_or_whose_period_ended_is_not_posted(digest_bot, api, fake_settings):
    from test_slack_service import dead_owner

    _due_now(fake_settings)
    period = f"{datetime.now(UTC) - timedelta(minutes=2):%Y-%m-%d}"
    dead = RequestLog(fake_settings.index.data_dir / REQUESTS_FILE, owner=dead_owner())
    dead.claim(Request(f"digest:C1:{period}", "digest", "C1", None, None, "", period))
    dead.set_state(f"digest:C1:{period}", "answering")
    DigestStore(fake_settings.digest_path).reserve("C1", period, ["n1"])  # killed after reserving: maybe posted
    dead.claim(Request("digest:C1:2020-01-01", "digest", "C1", None, None, "", "2020-01-01"))  # long past
    digest_bot()
    log = RequestLog(fake_settings.index.data_dir / REQUESTS_FILE)
    assert wait_for(lambda: log.get(f"digest:C1:{period}").state == "done" and log.get("digest:C1:2020-01-01").state == "failed")
    time.sleep(1.0)
    assert not digests(api) and not api.succeeded("chat.postMessage")  # no second digest, no apology


def test_bot_processes_checking_the_schedule_at_once_post_a_due_digest_once(fake_settings, api, tmp_path):
    """Three bot processes on one data dir find the same digest due at the same moment (a fake
    clock, started together): the request log's claim lets exactly one post it."""
    import subprocess
    import sys

    from conftest import fake_process_env, stop

    from evals.bench.slack_load import SECRET
    from index.ingest import ingest

    ingest(fake_settings, [DATA / "papers.jsonl"])
    store = DigestStore(fake_settings.digest_path)
    store.save(Subscription("C1", True, "daily", "09:00", "UTC", since=time.time()))
    ask_history(fake_settings, "C1", "How do gardeners route tomatoes?")
    time.sleep(1.1)
    ingest_papers(fake_settings, NEW)
    now = datetime.now(UTC)
    due = now.replace(hour=9, minute=0, second=0, microsecond=0)
    due += timedelta(days=1) if due <= now else timedelta(0)
    env = {**fake_process_env(fake_settings.index.data_dir), "SLACK_BOT_TOKEN": "xoxb-proc",
           "SLACK_SIGNING_SECRET": SECRET, "PAPERBOT_SLACK__API_URL": api.url,
           "PAPERBOT_DIGEST__MIN_SCORE": "0.05"}  # fmt: skip
    go = tmp_path / "go"
    clock = (due + timedelta(minutes=1)).isoformat()
    procs = [subprocess.Popen([sys.executable, "-c", RACER, clock, str(go)], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]  # fmt: skip
    try:
        time.sleep(8)  # each has built its app and waits for the signal
        go.touch()
        outs = [stop(p, timeout=60, terminate=False) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    claims = [json.loads(out.strip().splitlines()[-1]) for out, _ in outs]
    assert sorted(len(c) for c in claims) == [0, 0, 1], [err[-800:] for _, err in outs]
    assert len(digests(api)) == 1


def click(url: str, action_id: str, value: str, message_ts: str, user: str = "U2", kind: str = "button") -> None:
    payload = {"type": "block_actions", "user": {"id": user}, "team": {"id": "T1"}, "api_app_id": "A1",
               "container": {"type": "message", "message_ts": message_ts, "channel_id": "C1"}, "trigger_id": "tc",
               "channel": {"id": "C1"}, "message": {"ts": message_ts, "text": "New papers"},
               "actions": [{"action_id": action_id, "block_id": "b", "value": value, "type": kind,
                            "action_ts": f"{time.time():.6f}"}]}  # fmt: skip
    status, _ = send_signed(url, urllib.parse.urlencode({"payload": json.dumps(payload)}), content_type=FORM)
    assert status == 200


def test_votes_and_ask_about_this_answer_in_the_digests_thread(digest_bot, api, fake_settings):
    url, _, _ = digest_bot()
    opted_in(url, fake_settings, schedule="")
    command(url, "digest now", trigger="n1")
    assert wait_for(lambda: len(digests(api)) == 1)
    ts = digests(api)[0]["_ts"]
    click(url, "digest_feedback", "up:n1", ts, kind="feedback_buttons")
    click(url, "digest_feedback", "down:n3", ts, kind="feedback_buttons")
    store = DigestStore(fake_settings.digest_path)
    assert wait_for(lambda: {(r.paper_id, r.value) for r in store.reactions("C1")} == {("n1", 1), ("n3", -1)})
    button = next(b["accessory"] for b in digests(api)[0]["blocks"]
                  if b.get("accessory") and json.loads(b["accessory"]["value"])["paper_id"] == "n2")  # fmt: skip
    click(url, "digest_ask", button["value"], ts)  # the value the posted button carries
    assert wait_for(lambda: len(api.answers(ts)) == 1)
    asked = [p for p in api.succeeded("chat.postMessage") if p.get("thread_ts") == ts and not p.get("blocks")]
    assert asked and "Gardeners as Experts for Tomato Harvests" in asked[0]["text"] and "<@U2>" in asked[0]["text"]
    (answer,) = api.answers(ts)
    assert "Gardeners as Experts" in json.dumps(answer["blocks"])  # the paper asked about is cited
    assert ("n2", 1) in {(r.paper_id, r.value) for r in store.reactions("C1")}  # an ask counts as interest
    # A follow-up in the digest's thread is answered there, about the paper asked about.
    body = mention_body("Ev-f", "<@UBOT> does it help the harvest?", "999.1", user="U2", thread_ts=ts)
    assert send_signed(url, body)[0] == 200
    assert wait_for(lambda: len(api.answers(ts)) == 2)
    log = RequestLog(fake_settings.index.data_dir / REQUESTS_FILE)
    assert log.thread_asks("C1", ts) == [asked[0]["text"].split("asked: ", 1)[1]]
    assert "Gardeners as Experts" in json.dumps(api.answers(ts)[1]["blocks"])
