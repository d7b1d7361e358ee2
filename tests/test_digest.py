"""The channel digest without Slack: its store, the schedule's periods, the ranking, the history it
reads from the data dir the bot writes, and `paperbot digest` (the dry run) through a real index."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from bot.digest.history import Signal, channel_history
from bot.digest.rank import rank
from bot.digest.schedule import check_time, due_period, next_due, period_at
from index.settings.digest import check_timezone
from bot.digest.store import DigestStore, Subscription
from bot.slack.requests_log import REQUESTS_FILE, Request, RequestLog
from bot.traces import TraceStore
from bot.types import Answer, Citation
from index.ingest import ingest_papers
from index.settings import DigestSettings
from index.types import Paper

DATA = Path(__file__).parent / "data"
UTC = timezone.utc

# New papers for the digest tests: two about the channel's topic (routing tomatoes among
# gardeners), two not.
NEW = [
    Paper("n1", "Routing Tomatoes to Gardeners at Scale", "We route tomatoes to gardeners with a sparse router and "
          "balance the gardeners' load across the orchard."),
    Paper("n2", "Gardeners as Experts for Tomato Harvests", "Each tomato is sent to expert gardeners; the router "
          "learns which gardener handles which tomato."),
    Paper("n3", "Sourdough Starters under Refrigeration", "Cold sourdough starters keep yeast alive for weeks; we "
          "measure rise after storage."),
    Paper("n4", "Violin Bows from Carbon Fibre", "Carbon fibre bows change the tone of violins; listeners rated "
          "recordings blind."),
]  # fmt: skip


# -- the store ---------------------------------------------------------------------------------
def test_store_keeps_subscriptions_sent_papers_reactions_and_arrivals(tmp_path):
    path = tmp_path / "digests.sqlite"
    store = DigestStore(path)
    store.save(Subscription("C1", True, "weekly", "09:30", "Europe/Paris", "tomatoes", since=100.0))
    assert store.reserve("C1", "2026-W50", ["p1", "p2"]) == ["p1", "p2"]
    store.record_sent("C1", "2026-W50", "111.1", until=200.0)
    assert store.reserve("C1", "2026-W51", ["p2", "p3"]) == ["p3"]  # p2 was sent: never twice
    assert store.started("C1", "2026-W51") and not store.started("C1", "2026-W52")
    store.record_sent("C1", "2026-W51", "222.2", until=150.0)
    assert store.reserve("C1", "2026-W52", ["p4"]) == ["p4"]
    store.release("C1", "2026-W52")  # Slack refused that digest: p4 may go in a later one
    store.react("C1", "p1", "U1", "vote", 1)
    store.react("C1", "p1", "U1", "vote", -1)  # a later vote replaces the earlier
    store.react("C1", "p3", "U2", "ask", 1)
    store.observe("default", ["p1", "p2"], at=10.0)
    store.observe("default", ["p1", "p2", "p4"], at=20.0)  # p1, p2 keep their first sighting
    store.close()

    again = DigestStore(path)  # another process, or the bot after a restart
    sub = again.subscription("C1")
    assert (sub.enabled, sub.cadence, sub.at, sub.tz, sub.keywords) == (True, "weekly", "09:30", "Europe/Paris", "tomatoes")
    assert sub.last_period == "2026-W51" and sub.since == 200.0  # since never moves back
    assert again.sent_ids("C1") == {"p1", "p2", "p3"}
    assert [(r.paper_id, r.kind, r.value) for r in again.reactions("C1")] == [("p1", "vote", -1), ("p3", "ask", 1)]
    assert again.first_seen("default", 15.0) == {"p4": 20.0}
    assert again.first_seen("default", 5.0, until=15.0) == {"p1": 10.0, "p2": 10.0}
    assert again.subscription("C2") is None and [s.channel for s in again.enabled()] == ["C1"]


def test_a_digest_asked_for_now_does_not_count_as_the_scheduled_one(tmp_path):
    store = DigestStore(tmp_path / "d.sqlite")
    store.save(Subscription("C1", True, since=1.0, last_period="2026-12-06"))
    store.reserve("C1", "now:t1", ["p1"])
    store.record_sent("C1", "now:t1", "1.1", until=5.0, scheduled=False)
    assert store.subscription("C1").last_period == "2026-12-06" and store.subscription("C1").since == 5.0


# -- the schedule ------------------------------------------------------------------------------
def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_daily_periods_follow_the_channels_timezone():
    sub = Subscription("C1", True, "daily", "09:00", "America/New_York")  # 14:00 UTC in winter
    assert period_at(sub, at(2026, 12, 7, 13, 59))[0] == "2026-12-06"
    assert period_at(sub, at(2026, 12, 7, 14, 0))[0] == "2026-12-07"
    assert next_due(sub, at(2026, 12, 7, 13, 59)) == at(2026, 12, 7, 14, 0)


def test_weekly_periods_are_iso_weeks_from_the_chosen_day():
    sub = Subscription("C1", True, "weekly", "09:00", "UTC")  # Mondays
    assert period_at(sub, at(2026, 12, 7, 8, 0))[0] == "2026-W49"  # Monday before 09:00: last week's
    assert period_at(sub, at(2026, 12, 7, 9, 0))[0] == "2026-W50"
    assert period_at(sub, at(2026, 12, 13, 23, 0))[0] == "2026-W50"
    assert period_at(sub, at(2026, 12, 9, 10, 0), weekly_day=2)[0] == "2026-W50"  # Wednesdays


def test_a_day_across_a_clock_change_keeps_its_local_time():
    sub = Subscription("C1", True, "daily", "09:00", "Europe/Paris")
    # 29 March 2026: clocks go forward; 09:00 in Paris is 08:00 UTC before, 07:00 UTC after.
    assert next_due(sub, at(2026, 3, 28, 9, 0)) == at(2026, 3, 29, 7, 0)
    assert due_period(sub, at(2026, 3, 29, 6, 59)) == "2026-03-28"
    assert due_period(sub, at(2026, 3, 29, 7, 0)) == "2026-03-29"
    assert due_period(Subscription("C1", True, "daily", "09:00", "Europe/Paris"), at(2026, 10, 25, 8, 0)) == "2026-10-25"


def test_due_once_per_period_and_never_for_a_time_before_opting_in():
    on_at = at(2026, 12, 7, 10, 0).timestamp()
    sub = Subscription("C1", True, "daily", "09:00", "UTC", since=on_at)
    assert due_period(sub, at(2026, 12, 7, 10, 5)) is None  # 09:00 came before it was turned on
    assert due_period(sub, at(2026, 12, 8, 9, 1)) == "2026-12-08"
    posted = Subscription("C1", True, "daily", "09:00", "UTC", since=on_at, last_period="2026-12-08")
    assert due_period(posted, at(2026, 12, 8, 18, 0)) is None
    assert due_period(Subscription("C1", False, since=0.0), at(2026, 12, 8, 9, 1)) is None


def test_times_and_timezones_are_checked_with_a_fix():
    assert check_time("9:05") == "09:05"
    with pytest.raises(ValueError, match="HH:MM"):
        check_time("25:00")
    with pytest.raises(ValueError, match="Europe/Paris"):
        check_timezone("Mars/Olympus")


# -- ranking -----------------------------------------------------------------------------------
def _bow(texts: list[str]) -> np.ndarray:
    from index.embedding.embedders import FakeEmbedder

    return FakeEmbedder().embed(texts)


def _sims(papers: dict[str, Paper]):
    def similarities(vector: np.ndarray, ids: list[str]) -> list[np.ndarray]:
        return [_bow([papers[p].text]) @ vector for p in ids]

    return similarities


def test_rank_puts_papers_close_to_the_channels_questions_first_and_says_why():
    papers = {p.id: p for p in NEW}
    now = time.time()
    history = [Signal("question", now - 86_400, text="How do gardeners route tomatoes?")]
    picks = rank(NEW, history, "", papers, _bow, _sims(papers), DigestSettings(), now)
    assert {p.paper.id for p in picks[:2]} == {"n1", "n2"}
    assert "How do gardeners route tomatoes?" in picks[0].reason and "asked here" in picks[0].reason
    assert picks[0].score >= picks[1].score >= picks[-1].score


def test_keywords_stand_in_for_a_channel_with_no_history():
    papers = {p.id: p for p in NEW}
    picks = rank(NEW, [], "sourdough yeast starters", papers, _bow, _sims(papers), DigestSettings())
    assert picks[0].paper.id == "n3" and "keywords" in picks[0].reason
    assert rank(NEW, [], "", papers, _bow, _sims(papers), DigestSettings()) == []  # nothing to go on


def test_a_paper_voted_down_pulls_similar_papers_down_and_one_voted_up_lifts_them():
    papers = {p.id: p for p in NEW} | {
        "old_violin": Paper("old_violin", "Violin Bows and Tone", "Bows change the tone of violins."),
        "old_bread": Paper("old_bread", "Sourdough Rising", "Sourdough starters and yeast rise."),
    }
    now = time.time()
    asked = [Signal("question", now, text="violins bows tone sourdough yeast starters")]
    s = DigestSettings(lexical_weight=0.0)
    def scores(history: list[Signal]) -> dict[str, float]:
        return {p.paper.id: p.score for p in rank(NEW, history, "", papers, _bow, _sims(papers), s, now)}

    neutral = scores(asked)
    after = scores(asked + [Signal("disliked", now, paper_id="old_violin")])
    assert after["n4"] < neutral["n4"] - 0.05  # the violin paper, like the one voted down, drops
    assert after["n3"] == pytest.approx(neutral["n3"], abs=0.02)  # the bread paper barely moves
    # Voted up: a paper like the liked one rises above where the question alone put it.
    def position(history: list[Signal]) -> int:
        return [p.paper.id for p in rank(NEW, history, "", papers, _bow, _sims(papers), s, now)].index("n3")

    plain = [Signal("question", now, text="violins bows tone, and something on sourdough")]
    assert position(plain) > 0
    assert position(plain + [Signal("liked", now, paper_id="old_bread")]) == 0


def test_older_history_counts_less():
    papers = {p.id: p for p in NEW}
    now = time.time()
    # The old question matches n3 closely, the recent one matches n4 only loosely.
    history = [Signal("question", now - 300 * 86_400, text="Cold sourdough starters keep yeast alive for weeks"),
               Signal("question", now, text="violin bows")]  # fmt: skip
    timeless = DigestSettings(lexical_weight=0.0, half_life_days=1e9)
    assert rank(NEW, history, "", papers, _bow, _sims(papers), timeless, now)[0].paper.id == "n3"
    decaying = DigestSettings(lexical_weight=0.0, half_life_days=30)
    assert rank(NEW, history, "", papers, _bow, _sims(papers), decaying, now)[0].paper.id == "n4"
    forgotten = [Signal("question", now - 9 * 30 * 86_400, text="sourdough starters yeast")]  # past 8 half-lives
    assert rank(NEW, forgotten, "", papers, _bow, _sims(papers), decaying, now) == []


# -- history, as the bot writes it -------------------------------------------------------------
def test_history_reads_questions_cited_papers_and_votes_from_the_data_dir(fake_settings):
    data = fake_settings.index.data_dir
    log = RequestLog(data / REQUESTS_FILE)
    traces = TraceStore(fake_settings.traces_path)
    cited = Paper("p9", "Cited", "An abstract.")
    for i, (text, run_id, vote) in enumerate([("How do gardeners route tomatoes?", "run1", 1),
                                              ("What about bread?", "run2", -1),
                                              ("add 2401.01234", None, 0)]):  # fmt: skip
        r = Request(f"E{i}", "event", "C1", "1.0", "1.0", "U1", text, created=1000.0 + i)
        log.claim(r)
        if run_id:
            log.set_run(r.event_id, run_id)
            a = Answer(text, "It says [1].", (Citation(1, cited, "An abstract."),), (), False, run_id=run_id)
            traces.record(a, fake_settings, "v1")
            traces.add_feedback(run_id, "U2", vote)
        log.set_state(r.event_id, "done")
    log.claim(Request("E9", "event", "C1", "1.0", "1.0", "U1", "still being answered"))
    log.claim(Request("E8", "event", "C2", "1.0", "1.0", "U1", "another channel"))
    log.set_state("E8", "done")
    store = DigestStore(fake_settings.digest_path)
    store.react("C1", "p7", "U3", "vote", -1)
    store.react("C1", "p8", "U3", "ask", 1)
    got = [(s.kind, s.text or s.paper_id) for s in channel_history(fake_settings, "C1", store)]
    assert ("question", "How do gardeners route tomatoes?") in got and ("question", "What about bread?") in got
    assert ("liked", "p9") in got  # cited by an answer voted up
    assert got.count(("liked", "p9")) == 1  # the answer voted down adds none of its papers
    assert ("disliked", "p7") in got and ("liked", "p8") in got
    assert not any(t in ("add 2401.01234", "still being answered", "another channel") for _, t in got)


def test_history_of_a_data_dir_the_bot_never_wrote_is_empty(fake_settings):
    assert channel_history(fake_settings, "C1", DigestStore(fake_settings.digest_path)) == []


# -- the dry run, through a real index ---------------------------------------------------------
def _ask(settings, channel: str, text: str) -> None:
    log = RequestLog(settings.index.data_dir / REQUESTS_FILE)
    r = Request(f"E-{channel}-{text}", "event", channel, "1.0", "1.0", "U1", text)
    log.claim(r)
    log.set_state(r.event_id, "done")


def test_dry_run_prints_new_papers_best_first_as_json_and_posts_nothing(fake_settings, fake_env, capsys):
    from bot.cli import main
    from index.ingest import ingest

    ingest(fake_settings, [DATA / "papers.jsonl", DATA / "papers.csv"])
    assert main(["digest", "--channel", "C1", "--json"]) == 0  # first sight of the index's papers
    capsys.readouterr()
    time.sleep(1.1)  # generations are stamped to the second
    _ask(fake_settings, "C1", "How do gardeners route tomatoes to experts?")
    ingest_papers(fake_settings, NEW)
    assert main(["digest", "--channel", "C1", "--since", "2000-01-01", "--limit", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out)[:3] == ["channel", "since", "papers"] and out["channel"] == "C1"
    assert out["since"] == "2000-01-01T00:00:00Z"
    # Every paper added since 2000 is a candidate: the bundled test papers' gardeners too.
    assert out["papers"][0]["paper_id"] in ("u1", "n1", "n2") and len(out["papers"]) == 2
    assert all(set(p) >= {"paper_id", "title", "score", "reason"} for p in out["papers"])
    scores = [p["score"] for p in out["papers"]]
    assert scores == sorted(scores, reverse=True)
    assert "gardeners route tomatoes" in out["papers"][0]["reason"]
    # Nothing was posted or marked sent: a second dry run gives the same digest.
    assert main(["digest", "--channel", "C1", "--since", "2000-01-01", "--limit", "2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["papers"] == out["papers"]
    db = sqlite3.connect(str(fake_settings.digest_path))
    assert db.execute("SELECT COUNT(*) FROM sent").fetchone()[0] == 0
    # The readable form names each paper and why.
    assert main(["digest", "--channel", "C1", "--since", "2000-01-01"]) == 0
    text = capsys.readouterr().out
    assert "Digest for C1" in text and "Gardeners" in text and "asked here" in text


def test_dry_run_without_since_covers_papers_added_in_the_last_week(fake_settings, fake_env, capsys):
    from bot.cli import main

    ingest_papers(fake_settings, NEW)
    _ask(fake_settings, "C1", "sourdough starters and yeast")
    assert main(["digest", "--channel", "C1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["papers"][0]["paper_id"] == "n3"


def test_dry_run_bad_since_says_how_to_write_it(fake_settings, fake_env, capsys):
    from bot.cli import main

    ingest_papers(fake_settings, NEW)
    assert main(["digest", "--channel", "C1", "--since", "last week"]) != 0
    assert "YYYY-MM-DD" in capsys.readouterr().err


@pytest.mark.slow
def test_dry_run_with_the_bundled_model_picks_papers_on_the_channels_topic(real_index_dir, tmp_path, monkeypatch, capsys):
    """The bundled model and corpus: a channel that asked about quantizing LLMs gets quantization
    papers (every paper of the bundled index is new to it)."""
    import shutil

    from bot.cli import main
    from index.settings import Settings

    data = tmp_path / "data"
    shutil.copytree(real_index_dir, data)
    monkeypatch.setenv("PAPERBOT_INDEX__DATA_DIR", str(data))
    settings = Settings(index={"data_dir": data})
    _ask(settings, "CQ", "Which methods quantize LLM weights to 4 bits without losing accuracy?")
    _ask(settings, "CQ", "How does post-training quantization handle activation outliers?")
    assert main(["digest", "--channel", "CQ", "--since", "2000-01-01", "--limit", "5", "--json"]) == 0
    papers = json.loads(capsys.readouterr().out)["papers"]
    assert len(papers) == 5
    assert sum("quant" in (p["title"] + p["reason"]).lower() for p in papers) >= 4, papers
