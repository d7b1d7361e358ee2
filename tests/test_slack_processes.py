"""`paperbot slack --http` as real processes sharing one request log (fake embedder, Web API
stand-in on loopback): two bots answer each event once, a bot killed with -9 mid-answer has
its question answered by the next start, and SIGTERM drains before exiting."""

from __future__ import annotations

import json
import signal
import socket
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytest.importorskip("slack_bolt")

from bot.slack.app import REQUESTS_FILE  # noqa: E402
from evals.bench.slack_load import RETRY, SECRET, mention_body, send_signed, serving, wait_for  # noqa: E402
from index.ingest import ingest  # noqa: E402
from conftest import fake_process_env, stop  # noqa: E402 - tests/ is on the path, as pytest runs it

DATA = Path(__file__).parent / "data"



@pytest.fixture
def start(fake_settings, api, tmp_path):
    """Start `paperbot slack --http` processes on one data dir; returns (process, events URL)."""
    ingest(fake_settings, [DATA / "papers.jsonl", DATA / "papers.csv"])
    env = {**fake_process_env(fake_settings.index.data_dir), "SLACK_BOT_TOKEN": "xoxb-proc",
           "SLACK_SIGNING_SECRET": SECRET, "PAPERBOT_SLACK__API_URL": api.url}  # fmt: skip
    procs: list[subprocess.Popen] = []

    def one() -> tuple[subprocess.Popen, str]:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        exe = Path(sys.executable).with_name("paperbot")
        proc = subprocess.Popen([str(exe), "slack", "--http", "--host", "127.0.0.1", "--port", str(port)],
                                cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
        procs.append(proc)
        url = f"http://127.0.0.1:{port}/slack/events"
        assert wait_for(lambda: serving(url) or proc.poll() is not None, timeout=60) and proc.poll() is None, (
            stop(proc)[0][-2000:]  # ends it too, if it hangs without serving
        )
        return proc, url

    def many(n: int) -> list[tuple[subprocess.Popen, str]]:
        with ThreadPoolExecutor(n) as pool:
            return list(pool.map(lambda _: one(), range(n)))

    yield many
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)


def state(fake_settings, event_id: str) -> str | None:
    db = sqlite3.connect(str(fake_settings.index.data_dir / REQUESTS_FILE))
    row = db.execute("SELECT state FROM requests WHERE event_id = ?", (event_id,)).fetchone()
    db.close()
    return row[0] if row else None


def mention(i: int) -> str:
    return mention_body(f"Ev{i}", "<@UBOT> how do gardeners route tomatoes?", f"{100 + i}.1", user=f"U{i}")


def test_two_processes_on_one_log_answer_each_event_once(start, api):
    (_, url_a), (_, url_b) = start(2)
    sends = [(url, mention(i)) for i in range(8) for url in (url_a, url_b)]
    sends += [(url, mention(9)) for url in (url_a, url_b)]  # a retry of an event never seen
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda s: send_signed(s[0], s[1], headers=RETRY if "Ev9" in s[1] else None), sends))
    assert {s for s, _ in statuses} == {200}
    assert wait_for(lambda: len(api.answers()) >= 9, timeout=30)
    wait_for(lambda: False, timeout=0.5)  # a second answer would arrive now
    assert sorted(p["thread_ts"] for p in api.answers()) == sorted(f"{100 + i}.1" for i in [*range(8), 9])


def test_question_of_a_killed_bot_is_answered_by_the_next_start(start, api, fake_settings):
    ((first, url),) = start(1)
    api.delays["assistant.threads.setStatus"] = 30  # keeps the bot mid-answer
    assert send_signed(url, mention(1))[0] == 200
    assert wait_for(lambda: state(fake_settings, "Ev1") == "answering")
    first.kill()  # -9: no chance to clean up
    first.wait(10)
    api.delays.clear()
    assert api.answers() == []
    start(1)
    assert wait_for(lambda: len(api.answers("101.1")) == 1, timeout=30)
    assert "Sparse Mixture of Gardeners" in json.dumps(api.answers()[0]["blocks"])
    assert wait_for(lambda: state(fake_settings, "Ev1") == "done")


def test_sigterm_drains_the_answer_in_hand_and_turns_new_events_away(start, api, fake_settings):
    ((proc, url),) = start(1)
    api.delays["assistant.threads.setStatus"] = 2  # an answer takes 2 s
    assert send_signed(url, mention(1))[0] == 200
    assert wait_for(lambda: state(fake_settings, "Ev1") == "answering")
    proc.send_signal(signal.SIGTERM)
    # Not acked and not logged: Slack retries it, and the next bot answers the retry.
    assert wait_for(lambda: send_signed(url, mention(2))[0] == 503, timeout=2)
    assert proc.wait(20) == 0
    assert len(api.answers("101.1")) == 1 and state(fake_settings, "Ev1") == "done"
    assert state(fake_settings, "Ev2") is None
