"""Streaming an LLM answer into Slack a grounded sentence at a time: the sentence sink on its
own (with the fake embedder), and through the real Bolt app over signed HTTP with the fake
streaming backend and the Web API stand-in recording chat.startStream/appendStream/stopStream."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.answer.grounding import assemble, check_sentences
from bot.slack.stream import GroundedStream
from index.embedding.embedders import FakeEmbedder
from index.types import Paper

DATA = Path(__file__).parent / "data"
CONTEXT = [
    Paper(id="u1", title="Sparse Mixture of Gardeners", abstract="We study how gardeners route tomatoes to experts. "
          "Our sparse router sends each tomato to two gardeners and improves yield by 12% on the orchard benchmark."),
    Paper(id="b1", title="Quantum Bread Baking", abstract="Bread rises faster when yeast is entangled. We measure "
          "dough volume across 40 ovens and report a 3x speed-up in proofing time."),
]  # fmt: skip
GOOD = "Our sparse router sends each tomato to two gardeners [1]."
UNCITED = "Transformers were invented in 2017."
UNSUPPORTED = "Quantum computers will replace GPUs next year [2]."
SCRIPTS = [
    f"{GOOD} {UNCITED} Bread rises faster when yeast is entangled [2].",
    f"Dough volume was measured across 40 ovens. [2] {UNSUPPORTED} {GOOD}",  # markers after the stop
    f"Gardeners route tomatoes, e.g. to experts [1]. {UNCITED} Yeast entangled bread rises faster [2, 1]. [9] no.",
    "NO_EVIDENCE",
]


def embed(texts: list[str]):
    return FakeEmbedder().embed(texts)


def stream_through(script: str, step: int) -> tuple[GroundedStream, list[str]]:
    sent: list[str] = []
    sink = GroundedStream(embed, 0.1, emit=sent.append)
    sink.context = CONTEXT
    for i in range(0, len(script), step):
        sink(script[i : i + step])
    return sink, sent


@pytest.mark.parametrize("script", SCRIPTS)
@pytest.mark.parametrize("step", [1, 5, 1000])
def test_streamed_sentences_are_exactly_what_the_whole_answer_check_keeps(script, step):
    sink, sent = stream_through(script, step)
    text, citations = sink.finish()
    whole_text, whole_citations = assemble(check_sentences(script, CONTEXT, embed, 0.1), CONTEXT)
    assert (text, citations) == (whole_text, whole_citations)
    # All but the last kept sentence went out before the model finished; nothing unchecked did.
    assert "".join(sent) == text[: len("".join(sent))]
    assert UNCITED not in "".join(sent) and "GPUs" not in "".join(sent) and "[9]" not in "".join(sent)


def test_sentences_go_out_while_the_model_is_still_writing():
    sent: list[str] = []
    sink = GroundedStream(embed, 0.1, emit=sent.append)
    sink.context = CONTEXT
    sink(f"{GOOD} Bread rises")
    assert sent == [GOOD]  # complete and grounded: out at once
    sink(" faster when yeast is entangled [2]")
    assert sent == [GOOD]  # not complete until the stop and the next sentence (or the end)
    sink.finish()
    assert sent == [GOOD, " Bread rises faster when yeast is entangled [2]"]


def test_past_the_limit_sentences_are_held_for_a_later_message():
    sent: list[str] = []
    sink = GroundedStream(embed, 0.1, emit=sent.append, limit=len(GOOD) + 5)
    sink.context = CONTEXT
    sink(f"{GOOD} {GOOD} {GOOD}")
    sink.finish()
    assert sent == [GOOD] and sink.held == [GOOD, GOOD]


# -- through Bolt ------------------------------------------------------------------------------

pytest.importorskip("slack_bolt")


@pytest.fixture
def streaming_bot(fake_settings):
    from bot.answer.answerer import Answerer
    from bot.llm.fake import FakeGenerator
    from bot.slack.app import create_app
    from bot.traces import TraceStore
    from evals.bench.slack_load import SECRET, WebAPIStandIn, serve_in_thread
    from index.ingest import ingest
    from index.reader import open_index

    ingest(fake_settings, [DATA / "papers.jsonl", DATA / "papers.csv"])
    api = WebAPIStandIn()
    s = fake_settings
    s.llm = s.llm.model_copy(update={"support_threshold": 0.1, "retries": 0})
    s.slack = type(s.slack).model_validate({"bot_token": "xoxb-test", "signing_secret": SECRET, "api_url": api.url})
    generator = FakeGenerator(SCRIPTS[0])
    answerer = Answerer(s, open_index(s), generator=generator, traces=TraceStore(s.traces_path))
    url, server = serve_in_thread(create_app(s, answerer))
    yield url, api, generator, answerer
    server.shutdown()
    api.shutdown()


def test_a_channel_question_streams_grounded_sentences_then_the_sources(streaming_bot):
    from evals.bench.slack_load import mention_body, send_signed, wait_for

    url, api, _, answerer = streaming_bot
    body = mention_body("EvS1", "<@UBOT> how do gardeners route tomatoes?", "700.1", user="U7")
    assert send_signed(url, body)[0] == 200
    assert wait_for(lambda: any(s["blocks"] is not None for s in api.streams()))
    (stream,) = api.streams()
    assert stream["thread_ts"] == "700.1" and stream["channel"] == "C1" and stream["recipient_user_id"] == "U7"
    (start,) = [p for m, p, _ in api.calls if m == "chat.startStream"]
    assert start["recipient_team_id"] == "T1"  # Slack needs the recipient outside a DM
    assert stream["text"] == f"{GOOD} Bread rises faster when yeast is entangled [2]."
    everything = json.dumps([p for _, p, _ in api.calls])
    assert "Transformers" not in everything  # the uncited sentence never reached Slack
    ending = json.dumps(stream["blocks"])
    assert "*[1]*" in ending and "Sparse Mixture of Gardeners" in ending and "*[2]*" in ending
    assert "Quantum Bread Baking" in ending and "feedback_buttons" in ending
    methods = api.methods()
    assert methods.index("assistant.threads.setStatus") < methods.index("chat.startStream")
    assert methods.index("chat.stopStream") == max(i for i, m in enumerate(methods) if "Stream" in m)
    assert not api.answers()  # streamed, not posted again
    # The run is traced, and its run id is what the feedback buttons carry.
    run_id = ending.split('"up:', 1)[1].split('"', 1)[0]
    assert answerer.traces.get(run_id)["question"] == "how do gardeners route tomatoes?"


def test_a_dm_streams_without_recipients(streaming_bot):
    from evals.bench.slack_load import dm_body, send_signed, wait_for

    url, api, _, _ = streaming_bot
    assert send_signed(url, dm_body("EvS2", "how do gardeners route tomatoes?", "701.1"))[0] == 200
    assert wait_for(lambda: any(s["blocks"] is not None for s in api.streams()))
    (start,) = [p for m, p, _ in api.calls if m == "chat.startStream"]
    assert start["channel"] == "D1" and "recipient_user_id" not in start


def test_a_failing_backend_posts_the_extractive_answer_instead_of_streaming(streaming_bot):
    from evals.bench.slack_load import mention_body, send_signed, wait_for

    url, api, generator, _ = streaming_bot
    generator.script = "!down"
    assert send_signed(url, mention_body("EvS3", "<@UBOT> how do gardeners route tomatoes?", "702.1"))[0] == 200
    assert wait_for(lambda: len(api.answers()) == 1)
    assert "extractive answer" in json.dumps(api.answers()[0]["blocks"])
    assert not [m for m in api.methods() if "Stream" in m]


def test_a_backend_retried_mid_stream_ends_the_stream_and_posts_the_checked_answer(streaming_bot):
    """The first attempt streams a sentence, then the backend fails; the retry's answer may
    differ, so the stream says so and the checked answer follows whole."""
    from bot.llm.base import BackendUnavailable
    from evals.bench.slack_load import mention_body, send_signed, wait_for

    url, api, generator, answerer = streaming_bot
    answerer.settings.llm.retries = 1
    tries = []

    def flaky(prompt):
        tries.append(prompt)
        yield f"{GOOD} "
        if len(tries) == 1:
            raise BackendUnavailable("connection reset")
        yield "Bread rises faster when yeast is entangled [2]."

    generator.stream = flaky
    assert send_signed(url, mention_body("EvS4", "<@UBOT> how do gardeners route tomatoes?", "703.1"))[0] == 200
    assert wait_for(lambda: len(api.answers()) == 1)
    (stream,) = api.streams()
    assert stream["text"].startswith(GOOD) and "interrupted" in stream["text"] and stream["blocks"] == []
    answer = json.dumps(api.answers()[0]["blocks"])
    assert "Bread rises faster" in answer and "feedback_buttons" in answer and len(tries) == 2
