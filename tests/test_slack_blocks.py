import json

from bot.slack_blocks import MAX_BLOCKS, answer_blocks
from index.types import Answer, Citation, Hit, Paper


def paper(i: int, url: str = "") -> Paper:
    return Paper(id=f"p{i}", title=f"Paper <{i}> & co", abstract="An abstract. " * 50, url=url)


def test_long_answers_and_many_sources_stay_within_limits():
    cites = tuple(Citation(n=i, paper=paper(i, "https://x.org/%d" % i), evidence="Evidence sentence. " * 40) for i in range(1, 80))
    a = Answer(question="q", text="A sentence of the answer. " * 400, citations=cites,
               hits=tuple(Hit(paper=c.paper, score=1.0) for c in cites), refused=False, run_id="r1")  # fmt: skip
    blocks = answer_blocks(a)
    assert len(blocks) <= MAX_BLOCKS
    texts = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert all(len(t) <= 3000 for t in texts) and len(texts) > 3
    assert "<https://x.org/1|Paper &lt;1&gt; &amp; co>" in json.dumps(blocks)
    assert blocks[-1]["type"] == "context" and "r1" in blocks[-1]["elements"][0]["text"]
    assert blocks[-2]["type"] == "actions"


def test_refusal_says_so_and_lists_nearest():
    a = Answer(question="q", text="No evidence in the corpus: nothing close.", citations=(),
               hits=(Hit(paper=paper(1), score=0.1),), refused=True, run_id="r2", notice="backend down")  # fmt: skip
    dumped = json.dumps(answer_blocks(a))
    assert "No evidence in the corpus" in dumped and "Nearest papers" in dumped and "Paper &lt;1&gt;" in dumped
    assert ":warning: backend down" in dumped
