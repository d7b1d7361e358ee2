"""`paperbot feed arxiv` and `paperbot add` against a loopback arXiv (evals/bench/arxiv_standin.py):
the commands as users run them (in process, and as processes where crashes and concurrency are
the point), the real ingest with the fake embedder. No test reaches the network."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from evals.bench.arxiv_standin import ArxivStandin, Fault, StandinRecord, empty_page, oai_error
from evals.cli import main
from tests.conftest import fake_process_env

ROOT = Path(__file__).resolve().parents[1]
DAY = "2026-12-01"


def record(n: int, categories=("cs.CL",), versions=("2026-11-30",), datestamp=DAY, **kw) -> StandinRecord:
    fields = dict(
        id=f"2611.{n:05d}",
        title=f"Paper {n}: Sparse Sock Sorting with $\\mathcal{{O}}(n)$ Memory",
        abstract=f"We present method number {n} for sorting socks by colour. It pairs {n} socks per second "
        "and beats the baseline on the laundry benchmark.",
        authors=["C. Bal\\'azs", "E. L. Berger", "P. M. Nadolsky"],
        categories=list(categories),
        versions=list(versions),
        datestamp=datestamp,
    )
    fields.update(kw)
    return StandinRecord(**fields)


@pytest.fixture
def arxiv():
    with ArxivStandin(page_size=2) as standin:
        yield standin


@pytest.fixture
def feed_env(fake_env, arxiv, monkeypatch):
    monkeypatch.setenv("PAPERBOT_FEED__OAI_URL", arxiv.oai_url)
    monkeypatch.setenv("PAPERBOT_FEED__API_URL", arxiv.api_url)
    monkeypatch.setenv("PAPERBOT_FEED__MIN_INTERVAL_S", "0")
    monkeypatch.setenv("PAPERBOT_FEED__CONTACT", "lab@example.org")
    return fake_env


def run(capsys, *argv: str) -> tuple[int, dict | None, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip().startswith("{") else None), err


def feed(capsys, *extra: str) -> tuple[int, dict | None, str]:
    return run(capsys, "feed", "arxiv", "--from", DAY, "--until", DAY, "--json", *extra)


def papers(capsys, query="sorting socks by colour") -> dict[str, dict]:
    code, _, _ = run(capsys, "stats")  # noqa: F841 - the index opens
    main(["search", query, "--json", "-k", "50"])
    out = capsys.readouterr().out
    return {h["paper_id"]: h for h in json.loads(out)["hits"]}


def cursors(data: Path) -> dict:
    path = data / "feed" / "default.cursors.json"
    return json.loads(path.read_text()) if path.exists() else {}


def test_three_page_chain_then_the_same_harvest_changes_nothing(feed_env, arxiv, capsys):
    arxiv.put(*[record(n) for n in range(1, 6)])
    code, report, _ = feed(capsys, "--set", "cs:cs:CL")
    assert code == 0
    assert list(report)[:8] == ["harvested", "new", "updated", "removed", "requests", "from", "until", "generation"]
    assert (report["harvested"], report["new"], report["updated"], report["removed"]) == (5, 5, 0, 0)
    assert report["requests"] == 3 and (report["from"], report["until"]) == (DAY, DAY)  # 2 + 2 + 1 records
    assert cursors(feed_env) == {"cs:cs:CL": DAY}
    assert run(capsys, "stats", "--json")[1]["feed"]["sets"] == {"cs:cs:CL": DAY}
    hits = papers(capsys)
    paper = hits["2611.00001"]
    assert paper["url"] == "https://arxiv.org/abs/2611.00001" and paper["categories"] == ["cs.CL"]
    assert paper["authors"] == "C. Balázs, E. L. Berger, P. M. Nadolsky" and paper["date"] == "2026-11-30"
    assert "$\\mathcal{O}(n)$" in paper["title"] and "\n" not in paper["abstract"]
    ua = {r.user_agent for r in arxiv.requests}
    assert len(ua) == 1 and "mailto:lab@example.org" in ua.pop()

    code, again, _ = feed(capsys, "--set", "cs:cs:CL")
    assert code == 0 and (again["new"], again["updated"], again["removed"]) == (0, 0, 0)
    assert again["generation"] == report["generation"]


def test_without_from_each_set_continues_from_its_cursor(feed_env, arxiv, capsys):
    arxiv.put(record(1, datestamp="2026-11-20"), record(2, datestamp="2026-12-02"))
    code, first, _ = run(capsys, "feed", "arxiv", "--set", "cs:cs:CL", "--from", "2026-11-01",
                         "--until", "2026-11-25", "--json")  # fmt: skip
    assert code == 0 and first["new"] == 1
    code, second, _ = run(capsys, "feed", "arxiv", "--set", "cs:cs:CL", "--until", "2026-12-03", "--json")
    # The last completed day is asked again (arXiv may add to a day after it was harvested).
    assert second["from"] == "2026-11-25" and second["new"] == 1
    assert arxiv.requests[-1].params["from"] == "2026-11-25"
    assert cursors(feed_env) == {"cs:cs:CL": "2026-12-03"}


def test_sets_default_to_the_setting_and_a_bad_set_is_refused(feed_env, arxiv, capsys, monkeypatch):
    arxiv.put(record(1))
    monkeypatch.setenv("PAPERBOT_FEED__SETS", '["cs:cs:CL"]')
    code, report, _ = feed(capsys)
    assert code == 0 and report["new"] == 1 and report["sets"] == ["cs:cs:CL"]
    code, _, err = feed(capsys, "--set", "cs.CL")
    assert code == 2 and "not an arXiv OAI-PMH set" in err and "cs:cs:CL" in err


def test_no_records_match_is_nothing_new(feed_env, arxiv, capsys):
    code, report, err = feed(capsys, "--set", "cs:cs:CL")
    assert code == 0 and report["harvested"] == 0 and report["generation"] is None and err == ""
    assert not (feed_env / "indexes").exists() or not any((feed_env / "indexes").rglob("CURRENT"))


def test_new_version_replaces_and_deleted_record_removes(feed_env, arxiv, capsys):
    arxiv.put(record(1), record(2), record(3))
    assert feed(capsys, "--set", "cs:cs:CL")[1]["new"] == 3
    arxiv.put(
        record(1, versions=("2026-11-30", "2026-12-01"), title="Paper 1, revised: Sock Sorting at Scale",
               abstract="Version two: we sort socks by colour and by pattern, pairing twice as many."),
        record(2, deleted=True),
    )  # fmt: skip
    code, report, _ = feed(capsys, "--set", "cs:cs:CL")
    assert code == 0 and (report["new"], report["updated"], report["removed"]) == (0, 1, 1)
    hits = papers(capsys)
    assert "2611.00002" not in hits and "2611.00003" in hits
    v2 = hits["2611.00001"]
    assert v2["title"] == "Paper 1, revised: Sock Sorting at Scale" and v2["abstract"].startswith("Version two")
    assert (v2["date"], v2["updated"]) == ("2026-11-30", "2026-12-01")
    assert sum(1 for pid in hits if pid.startswith("2611.00001")) == 1  # one paper, never a second


def test_cross_listed_paper_in_two_sets_is_one_paper(feed_env, arxiv, capsys):
    arxiv.put(record(1, categories=("cs.LG", "cs.CL")), record(2, categories=("cs.CL",)))
    code, report, _ = feed(capsys, "--set", "cs:cs:CL", "--set", "cs:cs:LG")
    assert code == 0 and report["harvested"] == 3 and report["new"] == 2
    assert papers(capsys)["2611.00001"]["categories"] == ["cs.LG", "cs.CL"]  # primary first


def test_an_empty_page_then_a_good_one(feed_env, arxiv, capsys):
    arxiv.put(record(1))
    arxiv.fail_next(empty_page())
    code, report, _ = feed(capsys, "--set", "cs:cs:CL")
    assert code == 0 and report["new"] == 1 and report["requests"] == 2


def test_503_and_429_are_retried_after_their_retry_after(feed_env, arxiv, capsys):
    arxiv.put(record(1))
    arxiv.fail_next(Fault(503, retry_after="1"), Fault(429, retry_after="1"))
    started = time.monotonic()
    code, report, _ = feed(capsys, "--set", "cs:cs:CL")
    assert code == 0 and report["new"] == 1 and report["requests"] == 3
    starts = [r.started for r in arxiv.requests]
    assert starts[1] - starts[0] >= 0.95 and starts[2] - starts[1] >= 0.95  # as asked
    assert report["waited_s"] >= 1.9 and time.monotonic() - started >= 1.9


def test_retries_are_bounded(feed_env, arxiv, capsys, monkeypatch):
    arxiv.put(record(1))
    monkeypatch.setenv("PAPERBOT_FEED__RETRIES", "2")
    arxiv.fail_next(*[Fault(503, retry_after="0")] * 3)
    code, report, err = feed(capsys, "--set", "cs:cs:CL")
    assert code == 5 and report is None and "answered 503 to 3 tries" in err and len(arxiv.requests) == 3
    assert cursors(feed_env) == {}
    arxiv.fail_next(Fault(503, retry_after="86400"))  # a Retry-After longer than we wait stops at once
    code, _, err = feed(capsys, "--set", "cs:cs:CL")
    assert code == 5 and "asked to wait 86400 s" in err and len(arxiv.requests) == 4


@pytest.mark.parametrize(
    "fault, words",
    [
        (Fault(403), "403 Forbidden"),
        (Fault(200, body="<OAI-PMH><ListRecords><record>"), "malformed page"),
        (oai_error("badArgument", "Illegal date"), "badArgument"),
    ],
)
def test_refusals_and_broken_pages_stop_with_one_line_and_change_nothing(feed_env, arxiv, capsys, fault, words):
    arxiv.put(*[record(n) for n in range(1, 4)])
    assert feed(capsys, "--set", "cs:cs:LG", "--from", "2026-11-01")[0] == 0  # nothing there: an index? no
    arxiv.fail_next(Fault(200), fault)  # the second page fails: the first page must not be ingested
    code, report, err = feed(capsys, "--set", "cs:cs:CL")
    assert code == 5 and report is None and words in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("paperbot: error:")
    assert "cs:cs:CL" not in cursors(feed_env) and not any((feed_env / "indexes").rglob("CURRENT"))


def test_an_expired_resumption_token_stops_and_the_rerun_harvests_the_same_days(feed_env, arxiv, capsys):
    arxiv.put(*[record(n) for n in range(1, 6)])
    arxiv.fail_next(Fault(200), oai_error("badResumptionToken", "expired"))
    code, _, err = feed(capsys, "--set", "cs:cs:CL")
    assert code == 5 and "resumption token" in err and "rerun" in err
    code, report, _ = run(capsys, "feed", "arxiv", "--set", "cs:cs:CL", "--until", DAY, "--json")
    # No cursor moved: the rerun starts from the first day again (first_days back from --until).
    assert code == 0 and report["new"] == 5 and report["from"] == "2026-11-30"


def test_requests_are_spaced_and_one_at_a_time(feed_env, arxiv, capsys, monkeypatch):
    monkeypatch.setenv("PAPERBOT_FEED__MIN_INTERVAL_S", "0.4")
    arxiv.put(*[record(n) for n in range(1, 6)])
    assert feed(capsys, "--set", "cs:cs:CL")[0] == 0
    seen = arxiv.requests
    assert len(seen) == 3 and arxiv.max_in_flight == 1
    assert all(b.started - a.ended >= 0.39 for a, b in zip(seen, seen[1:]))


def test_two_processes_share_one_pace(feed_env, arxiv, tmp_path):
    """Two `paperbot add` processes at once (a cron job and a Slack user, say): arXiv still sees one
    request at a time, spaced by the interval."""
    arxiv.put(*[record(n) for n in range(1, 5)])
    env = {**fake_process_env(feed_env), **{k: v for k, v in os.environ.items() if k.startswith("PAPERBOT_FEED__")},
           "PAPERBOT_FEED__MIN_INTERVAL_S": "0.5"}  # fmt: skip
    cmd = [sys.executable, "-m", "evals.cli", "add"]
    procs = [
        subprocess.Popen([*cmd, f"2611.0000{n}"], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for n in (1, 2, 3, 4)
    ]
    try:
        outs = [p.communicate(timeout=120) for p in procs]
    finally:
        for p in procs:
            p.kill()
    assert [p.returncode for p in procs] == [0, 0, 0, 0], outs
    seen = sorted(arxiv.requests, key=lambda r: r.started)
    assert len(seen) == 4 and arxiv.max_in_flight == 1
    assert all(b.started - a.ended >= 0.45 for a, b in zip(seen, seen[1:]))


def test_kill_9_mid_harvest_changes_nothing_and_the_rerun_completes(feed_env, arxiv, capsys):
    arxiv.put(record(9))
    assert feed(capsys, "--set", "cs:cs:LG", "--set", "cs:cs:CL")[1]["new"] == 1
    before = (feed_env / "indexes" / "default" / "CURRENT").read_text()
    asked = len(arxiv.requests) + 2  # the hanging page's request
    arxiv.put(*[record(n) for n in range(1, 6)])
    arxiv.fail_next(Fault(200), Fault(200, delay_s=30))  # the second page hangs: kill it there
    env = {**fake_process_env(feed_env), **{k: v for k, v in os.environ.items() if k.startswith("PAPERBOT_FEED__")}}
    proc = subprocess.Popen(
        [sys.executable, "-m", "evals.cli", "feed", "arxiv", "--set", "cs:cs:CL", "--from", DAY, "--until", DAY],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while len(arxiv.requests) < asked and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(arxiv.requests) == asked, "the harvest never reached its second page"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        proc.kill()
        proc.communicate(timeout=30)
    assert (feed_env / "indexes" / "default" / "CURRENT").read_text() == before
    assert cursors(feed_env) == {"cs:cs:LG": DAY, "cs:cs:CL": DAY}  # as the first run left them
    code, report, _ = feed(capsys, "--set", "cs:cs:CL")
    assert code == 0 and report["new"] == 5


def test_add_by_id_link_and_version(feed_env, arxiv, capsys):
    arxiv.put(record(1, versions=("2026-11-30", "2026-12-01"), title="Latest title"), record(2))
    code, report, _ = run(capsys, "add", "https://arxiv.org/abs/2611.00001", "2611.00002v1", "--json")
    assert code == 0 and (report["new"], report["requests"]) == (2, 1)
    asked = arxiv.requests[0].params
    assert asked["id_list"] == "2611.00001,2611.00002v1"
    hits = papers(capsys)
    assert hits["2611.00001"]["title"] == "Latest title" and hits["2611.00001"]["updated"] == "2026-12-01"
    code, again, _ = run(capsys, "add", "2611.00001", "--json")
    assert code == 0 and again["new"] == 0 and again["updated"] == 0 and again["generation"] == report["generation"]


def test_add_unknown_and_malformed_ids_add_nothing(feed_env, arxiv, capsys):
    arxiv.put(record(1))
    code, _, err = run(capsys, "add", "2611.00001", "2611.99999")
    assert code == 2 and "arXiv has no paper 2611.99999" in err and "Nothing was added" in err
    code, _, err = run(capsys, "add", "not-an-id")
    assert code == 2 and "not arXiv ids or links: not-an-id" in err
    assert len(arxiv.requests) == 1  # a malformed id never reaches arXiv
    assert not any((feed_env / "indexes").rglob("CURRENT"))


def test_an_atom_error_entry_is_a_clear_error(feed_env, arxiv, capsys):
    recorded = Path(__file__).parent / "data" / "arxiv" / "api_error_incorrect_id_2026.xml"
    arxiv.fail_next(Fault(400, body=recorded.read_text()))  # arXiv's own answer to id_list=abc
    code, _, err = run(capsys, "add", "2611.00001")
    assert code == 2 and "refused" in err and "incorrect id format" in err


def test_a_paper_from_a_file_with_the_same_arxiv_id_is_the_same_paper(feed_env, arxiv, capsys, tmp_path):
    snapshot = tmp_path / "arxiv.jsonl"
    snapshot.write_text(json.dumps({
        "id": "2611.00001", "title": "Old title", "abstract": record(1).abstract, "authors": "C. Balázs",
        "categories": "cs.CL", "update_date": "2026-11-30",
        "versions": [{"version": "v1", "created": "Mon, 30 Nov 2026 10:00:00 GMT"}],
    }) + "\n")  # fmt: skip
    assert run(capsys, "ingest", str(snapshot))[0] == 0
    arxiv.put(record(1))
    code, report, _ = feed(capsys, "--set", "cs:cs:CL")
    assert code == 0 and report["new"] == 0 and report["updated"] == 1
    hits = papers(capsys)
    assert len(hits) == 1 and hits["2611.00001"]["title"].startswith("Paper 1")


def test_every_keeps_running_through_failures(feed_env, arxiv, monkeypatch):
    from index.feed.schedule import run_on_schedule
    from index.settings import Settings

    from index.feed.run import today_utc

    monkeypatch.setenv("PAPERBOT_FEED__RETRIES", "0")
    arxiv.put(record(1, datestamp=today_utc().isoformat()))
    arxiv.fail_next(Fault(503, retry_after="0"))
    lines: list[str] = []
    outcomes = run_on_schedule(Settings(), "1s", ["cs:cs:CL"], log=lines.append, runs=3)
    assert isinstance(outcomes[0], Exception) and outcomes[1].new == 1 and outcomes[2].new == 0
    assert len(lines) == 3 and "run failed" in lines[0] and "next try" in lines[0]
    assert "1 new" in lines[1] and "Next run at" in lines[1]


def _feed_process(feed_env: Path, *argv: str, **popen) -> subprocess.Popen:
    env = {**fake_process_env(feed_env), **{k: v for k, v in os.environ.items() if k.startswith("PAPERBOT_FEED__")}}
    return subprocess.Popen(
        [sys.executable, "-m", "evals.cli", "feed", "arxiv", *argv], env=env, cwd=ROOT, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen,
    )  # fmt: skip


def test_two_harvests_never_run_at_once(feed_env, arxiv, capsys):
    arxiv.put(record(1))
    arxiv.fail_next(Fault(200, delay_s=4))  # the first process's only page is slow
    first = _feed_process(feed_env, "--set", "cs:cs:CL", "--from", DAY, "--until", DAY, "--json")
    try:
        deadline = time.monotonic() + 60
        while not arxiv.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        code, _, err = feed(capsys, "--set", "cs:cs:CL")
        assert code == 1 and "Another arXiv harvest for this index is running" in err
        out, errs = first.communicate(timeout=120)
    finally:
        first.kill()
        first.communicate(timeout=30)
    assert first.returncode == 0 and json.loads(out)["new"] == 1, errs
    assert len(arxiv.requests) == 1


def test_every_runs_as_a_process_with_one_line_per_run(feed_env, arxiv):
    from index.feed.run import today_utc

    arxiv.put(record(1, datestamp=today_utc().isoformat()))
    proc = _feed_process(feed_env, "--set", "cs:cs:CL", "--every", "1s")
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if len(lines) == 2:
                break
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    assert "1 new" in lines[0] and "0 new" in lines[1] and all("Next run at" in x for x in lines)


def test_the_old_oai_servers_shapes_are_read_too(fake_env, capsys, monkeypatch):
    """export.arxiv.org/oai2's pages (cursor/completeListSize tokens, archive-level sets,
    unpadded version dates), which arXiv's mirrors and old recordings still have."""
    with ArxivStandin(page_size=2, style="legacy") as old:
        monkeypatch.setenv("PAPERBOT_FEED__OAI_URL", old.oai_url)
        monkeypatch.setenv("PAPERBOT_FEED__MIN_INTERVAL_S", "0")
        old.put(*[record(n) for n in range(1, 6)], record(6, versions=("2026-11-02", "2026-12-01")))
        code, report, _ = feed(capsys, "--set", "cs")
    assert code == 0 and report["new"] == 6 and report["requests"] == 3
    assert papers(capsys)["2611.00006"]["date"] == "2026-11-02"


def test_the_bots_schedule_harvests_in_the_background_and_makes_up_a_missed_run(feed_env, arxiv, monkeypatch):
    from index.feed.run import today_utc
    from index.feed.schedule import start_in_background
    from index.settings import Settings

    arxiv.put(record(1, datestamp=today_utc().isoformat()))
    monkeypatch.setenv("PAPERBOT_FEED__SETS", '["cs:cs:CL"]')
    monkeypatch.setenv("PAPERBOT_FEED__SCHEDULE", "03:30")
    lines: list[str] = []
    # Never harvested: the run is due at once (a schedule missed while the bot was down is made
    # up on start), then not before tomorrow's 03:30.
    stop = start_in_background(Settings(), lines.append)
    try:
        deadline = time.monotonic() + 60
        while not lines and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
    assert len(lines) == 1 and "1 new" in lines[0] and "03:30:00 UTC" in lines[0]
    assert cursors(feed_env) == {"cs:cs:CL": today_utc().isoformat()}
    monkeypatch.setenv("PAPERBOT_FEED__SETS", "[]")
    with pytest.raises(Exception, match="PAPERBOT_FEED__SETS is empty"):
        start_in_background(Settings(), lines.append)


def test_the_feed_bench_runs(tmp_path, capsys):
    """`python -m evals.bench.feed` end to end at toy size (the fake embedder, no pacing)."""
    from evals.bench.feed import main as bench

    bench(["--base", "60", "--records", "40", "--embedder", "fake", "--interval", "0", "--keep", str(tmp_path),
           "--sets", "cs:cs:CL", "cs:cs:LG", "--json"])  # fmt: skip
    [row] = json.loads(capsys.readouterr().out)
    assert row["base_papers"] == 60 and row["requests"] == 2 and 0 < row["new"] <= row["harvested"] <= 40
