import json

from bot.slack.blocks import MAX_BLOCKS, answer_blocks
from index.types import Paper
from bot.types import Answer, Citation, Hit


def paper(i: int, url: str = "") -> Paper:
    return Paper(id=f"p{i}", title=f"Paper <{i}> & co", abstract="An abstract. " * 50, url=url)


def test_long_answers_and_many_sources_stay_within_limits():
    cites = tuple(Citation(n=i, paper=paper(i, "https://x.org/%d" % i), evidence="Evidence sentence. " * 40) for i in range(1, 80))
    a = Answer(question="q", text="A sentence of the answer. " * 400, citations=cites,
               hits=tuple(Hit(paper=c.paper, score=1.0) for c in cites), refused=False, run_id="r1")  # fmt: skip
    blocks = answer_blocks(a)
    assert len(blocks) <= MAX_BLOCKS
    texts = [b["text"] if b["type"] == "markdown" else b["text"]["text"] for b in blocks if "text" in b]
    assert all(len(t) <= 3000 for t in texts) and len(texts) > 3
    assert blocks[0]["type"] == "markdown" and blocks[0]["text"].startswith("A sentence of the answer.")
    assert "<https://x.org/1|Paper &lt;1&gt; &amp; co>" in json.dumps(blocks)
    assert blocks[-1]["type"] == "context" and "r1" in blocks[-1]["elements"][0]["text"]
    (buttons,) = blocks[-2]["elements"]
    assert blocks[-2]["type"] == "context_actions" and buttons["type"] == "feedback_buttons"
    assert (buttons["positive_button"]["value"], buttons["negative_button"]["value"]) == ("up:r1", "down:r1")


def test_refusal_says_so_and_lists_nearest():
    a = Answer(question="q", text="No evidence in the corpus: nothing close.", citations=(),
               hits=(Hit(paper=paper(1), score=0.1),), refused=True, run_id="r2", notice="backend down")  # fmt: skip
    dumped = json.dumps(answer_blocks(a))
    assert "No evidence in the corpus" in dumped and "Nearest papers" in dumped and "Paper &lt;1&gt;" in dumped
    assert ":warning: backend down" in dumped


def test_feedback_values_carry_the_run_id():
    from bot.slack.blocks import feedback_vote

    assert feedback_vote("up:abc123") == ("abc123", 1) and feedback_vote("down:abc123") == ("abc123", -1)
    assert feedback_vote("good-feedback") is None and feedback_vote("up:") is None


def test_every_message_of_a_huge_answer_fits_slack():
    from bot.slack.blocks import TEXT_LIMIT, answer_messages, fallback_text
    from evals.bench.slack_standin import message_text_size

    cites = tuple(Citation(n=i, paper=paper(i), evidence="Evidence sentence. " * 100) for i in range(1, 60))
    a = Answer(question="q", text="A sentence of the answer. " * 2000, citations=cites, hits=(), refused=False,
               run_id="r3")  # fmt: skip
    messages = answer_messages(a)
    assert len(messages) > 4
    for blocks in messages:
        assert len(blocks) <= MAX_BLOCKS and message_text_size({"blocks": blocks}) <= TEXT_LIMIT
        assert message_text_size({"blocks": blocks, "text": fallback_text(a)}) < 12_000
    dumped = [json.dumps(m) for m in messages]
    assert all("feedback_buttons" not in d for d in dumped[:-1]) and "feedback_buttons" in dumped[-1]
    assert all(f"*[{i}]*" in "".join(dumped) for i in range(1, 60))  # no source lost in the split
