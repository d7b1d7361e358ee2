"""Adding papers from Slack ("@paperbot add 2401.01234", "/paper add <link>", a DM): through the
real Bolt app over signed HTTP on loopback, the Slack Web API stand-in (evals/bench/slack_standin.py)
and the arXiv stand-in (evals/bench/arxiv_standin.py) for the export API."""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("slack_bolt")

from bot.slack.adding import add_refs, adding  # noqa: E402
from bot.slack.app import REQUESTS_FILE  # noqa: E402
from bot.slack.requests_log import Request, RequestLog  # noqa: E402
from evals.bench.arxiv_standin import ArxivStandin, Fault, StandinRecord  # noqa: E402
from evals.bench.slack_load import (  # noqa: E402
    FORM, RETRY, SECRET, WebAPIStandIn, command_body, dm_body, mention_body, send_signed, serving, wait_for,
)
from tests.conftest import stop  # noqa: E402
from tests.test_slack_service import dead_owner  # noqa: E402

ID = "2501.04242"
TITLE = "Hivewhisper: Forecasting Honeybee Swarming from the Acoustic Hum of the Hive"
ABSTRACT = (
    "Beekeepers lose colonies when a hive swarms unnoticed. We present Hivewhisper, a small convolutional model "
    "that listens to the hum of a beehive through a contact microphone and forecasts swarming up to three days "
    "ahead. Trained on 2,400 hours of recordings from 61 hives, Hivewhisper recognises the piping of young queens "
    "that precedes a swarm and predicts swarming with 88% precision, warning the beekeeper before the colony leaves."
)
QUESTION = "Can the sound of a beehive predict when the bees will swarm?"


def hivewhisper(**changes) -> StandinRecord:
    fields = dict(id=ID, title=TITLE, abstract=ABSTRACT, authors=["Ana Rossi", "Wei Zhang"],
                  categories=["cs.SD", "cs.LG"], versions=["2025-01-08"], datestamp="2025-01-08")  # fmt: skip
    return StandinRecord(**{**fields, **changes})


@pytest.fixture
def arxiv():
    with ArxivStandin() as stand_in:
        stand_in.put(hivewhisper())
        yield stand_in


@pytest.fixture
def add_bot(fake_settings, make_bot, arxiv):
    """make_bot's bots, asking the arXiv stand-in without pausing between requests."""
    fake_settings.feed = fake_settings.feed.model_copy(update={"api_url": arxiv.api_url, "min_interval_s": 0})
    return make_bot


def api_calls(arxiv: ArxivStandin) -> list:
    return [r for r in arxiv.requests if r.path == "/api/query"]


def log_rows(answerer) -> dict[str, str]:
    db = sqlite3.connect(str(answerer.settings.index.data_dir / REQUESTS_FILE))
    return dict(db.execute("SELECT event_id, state FROM requests"))


def replies(api: WebAPIStandIn, thread_ts: str) -> list[str]:
    return [p["text"] for p in api.posts() if p.get("thread_ts") == thread_ts]


# -- what counts as an add request --------------------------------------------------------------
@pytest.mark.parametrize("text, refs", [
    (f"add {ID}", [ID]),
    (f"ADD https://arxiv.org/abs/{ID}v2", [f"https://arxiv.org/abs/{ID}v2"]),
    (f"add <https://arxiv.org/abs/{ID}|arxiv.org/abs/{ID}>", [f"<https://arxiv.org/abs/{ID}|arxiv.org/abs/{ID}>"]),
    (f"add {ID}, hep-th/9901001", [f"{ID},", "hep-th/9901001"]),
    ("add", []),  # an add request: the reply says how to name papers
    ("add two numbers?", None),
    (f"add {ID} and explain it", None),
    (f"what does {ID} add?", None),
    ("adding 2501.04242", None),
])  # fmt: skip
def test_add_requests_are_add_and_only_ids_or_links(text, refs):
    assert add_refs(text) == refs


def test_the_ack_names_what_is_being_added():
    assert adding([f"https://arxiv.org/abs/{ID}v2", "hep-th/9901001"]) == f"Adding {ID}v2, hep-th/9901001 from arXiv…"


# -- through the bot ----------------------------------------------------------------------------
@pytest.mark.parametrize("how", ["mention", "dm"])
def test_add_by_link_adds_the_paper_and_replies_in_the_thread(add_bot, api, arxiv, how):
    url, answerer, _ = add_bot()
    text = f"add <https://arxiv.org/abs/{ID}>"
    body = mention_body("EvAdd", f"<@UBOT> {text}", "700.1") if how == "mention" else \
        dm_body("EvAdd", text, "700.2", thread_ts="700.1")  # the assistant view's thread  # fmt: skip
    assert send_signed(url, body)[0] == 200
    assert wait_for(lambda: replies(api, "700.1"))
    (reply,) = replies(api, "700.1")
    assert reply == f":white_check_mark: Added <https://arxiv.org/abs/{ID}|{TITLE}> (new; now searchable)"
    assert answerer.index.papers[ID].title == TITLE and len(api_calls(arxiv)) == 1
    assert wait_for(lambda: log_rows(answerer) == {"EvAdd": "done"})
    (status,) = [c for m, c, _ in api.calls if m == "assistant.threads.setStatus"]
    assert status["status"] == f"Adding {ID} from arXiv…"


def test_paper_add_acks_at_once_and_answers_through_response_url(add_bot, api):
    url, answerer, _ = add_bot()
    body = command_body(f"add {ID}", trigger_id="tadd", response_url=api.response_url)
    status, ack = send_signed(url, body, content_type=FORM)
    assert status == 200 and json.loads(ack) == {"response_type": "ephemeral",
                                                 "text": f":inbox_tray: Adding {ID} from arXiv…"}  # fmt: skip
    assert wait_for(lambda: "response" in api.methods())
    (reply,) = [p for m, p, _ in api.calls if m == "response"]
    assert reply["response_type"] == "ephemeral" and f"Added <https://arxiv.org/abs/{ID}|{TITLE}>" in reply["text"]
    assert api.posts() == []  # no thread: the result goes to the asker, like the ack
    assert wait_for(lambda: log_rows(answerer) == {"command-tadd": "done"})


def test_adding_again_says_so_and_a_new_version_updates(add_bot, api, arxiv):
    url, answerer, _ = add_bot()
    for i in range(2):
        send_signed(url, mention_body(f"EvA{i}", f"<@UBOT> add {ID}", f"71{i}.1"))
        assert wait_for(lambda: replies(api, f"71{i}.1"))
    already = f":ballot_box_with_check: <https://arxiv.org/abs/{ID}|{TITLE}> is already in the index"
    assert replies(api, "711.1") == [already]
    arxiv.put(hivewhisper(abstract=ABSTRACT + " Version 2 adds 30 more hives.", versions=["2025-01-08", "2025-02-01"]))
    send_signed(url, mention_body("EvA2", f"<@UBOT> add {ID}", "712.1"))
    assert wait_for(lambda: replies(api, "712.1"))
    assert "Updated" in replies(api, "712.1")[0] and "to the latest version" in replies(api, "712.1")[0]
    assert answerer.index.papers[ID].abstract.endswith("30 more hives.")


def test_add_two_numbers_is_an_ordinary_question(add_bot, api, arxiv):
    url, _, _ = add_bot()
    send_signed(url, mention_body("EvQ", "<@UBOT> add two numbers?", "720.1"))
    assert wait_for(lambda: api.answers("720.1"))  # an answer (blocks, feedback buttons), not an add
    assert api_calls(arxiv) == []


def test_an_unknown_id_gets_arxivs_answer_and_nothing_is_added(add_bot, api):
    url, answerer, _ = add_bot()
    papers = len(answerer.index.papers)
    send_signed(url, mention_body("EvU", "<@UBOT> add 2501.09999", "730.1"))
    assert wait_for(lambda: replies(api, "730.1"))
    (reply,) = replies(api, "730.1")
    assert reply.startswith(":warning: arXiv has no paper 2501.09999") and "Sorry" not in reply
    assert len(answerer.index.papers) == papers
    assert wait_for(lambda: log_rows(answerer) == {"EvU": "done"})


def test_add_alone_says_how_to_name_papers(add_bot, api, arxiv):
    url, _, _ = add_bot()
    send_signed(url, mention_body("EvE", "<@UBOT> add", "735.1"))
    assert wait_for(lambda: replies(api, "735.1"))
    assert replies(api, "735.1")[0].startswith(":warning: no arXiv id given; name papers like 2401.01234")
    assert api_calls(arxiv) == []


def test_arxiv_refusing_is_said_with_what_to_do(add_bot, api, arxiv):
    url, answerer, _ = add_bot()
    arxiv.fail_next(Fault(status=403))
    send_signed(url, mention_body("EvF", f"<@UBOT> add {ID}", "740.1"))
    assert wait_for(lambda: replies(api, "740.1"))
    (reply,) = replies(api, "740.1")
    assert reply.startswith(":warning:") and "403" in reply and "PAPERBOT_FEED__CONTACT" in reply
    assert ID not in answerer.index.papers
    assert wait_for(lambda: log_rows(answerer) == {"EvF": "done"})


def test_an_unexpected_error_is_the_usual_apology(add_bot, api, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("bot.slack.adding.add_arxiv", boom)
    url, answerer, _ = add_bot()
    send_signed(url, mention_body("EvX", f"<@UBOT> add {ID}", "750.1"))
    assert wait_for(lambda: replies(api, "750.1"))
    assert "Sorry, something went wrong" in replies(api, "750.1")[0]
    assert wait_for(lambda: log_rows(answerer) == {"EvX": "failed"})


def test_a_retried_add_event_adds_once(add_bot, api, arxiv):
    url, _, _ = add_bot()
    body = mention_body("EvR", f"<@UBOT> add {ID}", "760.1")
    assert send_signed(url, body)[0] == 200
    assert send_signed(url, body, headers=RETRY)[0] == 200
    assert send_signed(url, body)[0] == 200
    assert wait_for(lambda: replies(api, "760.1"))
    time.sleep(1.0)
    assert len(replies(api, "760.1")) == 1 and len(api_calls(arxiv)) == 1


def test_an_add_a_dead_bot_left_is_done_on_start(fake_settings, add_bot, api):
    left = RequestLog(fake_settings.index.data_dir / REQUESTS_FILE, owner=dead_owner())
    left.claim(Request("EvLeft", "event", "C1", "770.1", "770.1", "U1", f"add {ID}"))
    left.set_state("EvLeft", "answering")
    _, answerer, _ = add_bot()
    assert wait_for(lambda: replies(api, "770.1"))
    assert replies(api, "770.1")[0].startswith(":white_check_mark: Added")
    assert wait_for(lambda: log_rows(answerer) == {"EvLeft": "done"})


# -- the acceptance test ----------------------------------------------------------------
@pytest.mark.integration
def test_the_running_bot_answers_from_an_added_paper_without_a_restart(real_index_dir, tmp_path):
    """`paperbot slack --http` on a copy of the bundled corpus, real model: a question on a topic
    no bundled paper covers is refused; "@paperbot add <link>" fetches the paper from the arXiv
    stand-in; the same question, asked again of the same process, is answered citing it."""
    data = tmp_path / "data"
    shutil.copytree(real_index_dir, data)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    (tmp_path / ".env").write_text(f"SLACK_BOT_TOKEN=xoxb-add\nSLACK_SIGNING_SECRET={SECRET}\n")
    with ArxivStandin() as arxiv, WebAPIStandIn() as api:
        arxiv.put(hivewhisper())
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "PAPERBOT_INDEX__DATA_DIR": str(data),
               "PAPERBOT_SLACK__API_URL": api.url, "PAPERBOT_FEED__API_URL": arxiv.api_url,
               "PAPERBOT_FEED__MIN_INTERVAL_S": "0"}  # fmt: skip
        exe = Path(sys.executable).with_name("paperbot")
        bot = subprocess.Popen([str(exe), "slack", "--http", "--host", "127.0.0.1", "--port", str(port)], cwd=tmp_path,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
        url = f"http://127.0.0.1:{port}/slack/events"
        try:
            assert wait_for(lambda: serving(url), timeout=120), "paperbot slack did not start"

            def ask(event_id: str, text: str, ts: str) -> str:
                assert send_signed(url, mention_body(event_id, f"<@UBOT> {text}", ts))[0] == 200
                assert wait_for(lambda: [p for p in api.posts() if p.get("thread_ts") == ts], timeout=120)
                return json.dumps([p for p in api.posts() if p.get("thread_ts") == ts])

            before = ask("EvBefore", QUESTION, "800.1")
            assert "Nearest papers (not close enough to cite)" in before and TITLE not in before
            added = ask("EvAdd", f"add <https://arxiv.org/abs/{ID}>", "801.1")
            assert f"Added <https://arxiv.org/abs/{ID}|{TITLE}>" in added, added
            after = ask("EvAfter", QUESTION, "802.1")
            assert "*[1]*" in after and TITLE in after and "Nearest papers" not in after, after[:2000]
            assert bot.poll() is None  # the same process all along
        finally:
            out = stop(bot, 30)[0]
    assert "Traceback" not in out, out[-3000:]
