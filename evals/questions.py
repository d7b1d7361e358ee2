"""paperbot's own question format (JSONL).

A line: {"id", "question", "type", "gold_ids": [...], "gold_titles": [...], "facts": [...]};
empty gold means the corpus cannot answer and the right answer is a refusal."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from index.errors import BadInput
from index.reader import LoadedIndex
from index.text import normalize

BUNDLED_TEST = Path(__file__).resolve().parent / "questions" / "bundled_test.jsonl"
BUNDLED_DEV = Path(__file__).resolve().parent / "questions" / "bundled_dev.jsonl"
# The dev questions with typing errors, written by `python -m evals.typo_set`.
BUNDLED_DEV_TYPOS = Path(__file__).resolve().parent / "questions" / "bundled_dev_typos.jsonl"
# The test questions with typing errors (the same rule as the dev ones), held out like them.
BUNDLED_TEST_TYPOS = Path(__file__).resolve().parent / "questions" / "bundled_test_typos.jsonl"
# The papers the test questions were written on, added for them to the bundled corpus (arXiv
# abstracts of 2025-26, CC0; where they come from: questions/sources/test_papers.md).
TEST_PAPERS = Path(__file__).resolve().parent / "questions" / "test_papers.jsonl"
# Dev questions on papers of their own (the third round's test set, v001-v100, run once and
# spent; now dev), asked over the bundled corpus plus those papers (questions/sources/dev_arxiv_papers.md).
DEV_ARXIV = Path(__file__).resolve().parent / "questions" / "dev_arxiv.jsonl"
DEV_ARXIV_TYPOS = Path(__file__).resolve().parent / "questions" / "dev_arxiv_typos.jsonl"
DEV_ARXIV_PAPERS = Path(__file__).resolve().parent / "questions" / "dev_arxiv_papers.jsonl"
# The same for the fourth round's test set (w001-w100), run once and spent; now dev
# (questions/sources/dev_arxiv2_papers.md).
DEV_ARXIV2 = Path(__file__).resolve().parent / "questions" / "dev_arxiv2.jsonl"
DEV_ARXIV2_TYPOS = Path(__file__).resolve().parent / "questions" / "dev_arxiv2_typos.jsonl"
DEV_ARXIV2_PAPERS = Path(__file__).resolve().parent / "questions" / "dev_arxiv2_papers.jsonl"
# And for the fifth round's (x001-x100), run once and spent; now dev (questions/sources/dev_arxiv3_papers.md).
DEV_ARXIV3 = Path(__file__).resolve().parent / "questions" / "dev_arxiv3.jsonl"
DEV_ARXIV3_TYPOS = Path(__file__).resolve().parent / "questions" / "dev_arxiv3_typos.jsonl"
DEV_ARXIV3_PAPERS = Path(__file__).resolve().parent / "questions" / "dev_arxiv3_papers.jsonl"
# And for the sixth round's (y001-y100), run once and spent; now dev (questions/sources/dev_arxiv4_papers.md).
DEV_ARXIV4 = Path(__file__).resolve().parent / "questions" / "dev_arxiv4.jsonl"
DEV_ARXIV4_TYPOS = Path(__file__).resolve().parent / "questions" / "dev_arxiv4_typos.jsonl"
DEV_ARXIV4_PAPERS = Path(__file__).resolve().parent / "questions" / "dev_arxiv4_papers.jsonl"
# And for the seventh round's (z001-z100), run once and spent; now dev (questions/sources/dev_arxiv5_papers.md).
DEV_ARXIV5 = Path(__file__).resolve().parent / "questions" / "dev_arxiv5.jsonl"
DEV_ARXIV5_TYPOS = Path(__file__).resolve().parent / "questions" / "dev_arxiv5_typos.jsonl"
DEV_ARXIV5_PAPERS = Path(__file__).resolve().parent / "questions" / "dev_arxiv5_papers.jsonl"
# And for the eighth round's (q001-q100), run once and spent; now dev (questions/sources/dev_arxiv6_papers.md).
DEV_ARXIV6 = Path(__file__).resolve().parent / "questions" / "dev_arxiv6.jsonl"
DEV_ARXIV6_TYPOS = Path(__file__).resolve().parent / "questions" / "dev_arxiv6_typos.jsonl"
DEV_ARXIV6_PAPERS = Path(__file__).resolve().parent / "questions" / "dev_arxiv6_papers.jsonl"
# The next round's test set, sealed: never run (evals/questions/sealed/SOURCE.md); held out like
# the test set (evals/splits.py).
SEALED_TEST = Path(__file__).resolve().parent / "questions" / "sealed" / "next_test.jsonl"


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    type: str
    gold_ids: tuple[str, ...] = ()
    gold_titles: tuple[str, ...] = ()
    facts: tuple[str, ...] = ()
    gold_known: bool = True  # False for exported feedback cases nobody has labelled yet
    grades: tuple[tuple[str, int], ...] = ()  # graded judgments (BEIR qrels); else gold counts 1

    @property
    def answerable(self) -> bool:
        return bool(self.gold_ids or any(self.gold_titles))


def load_questions(path: Path) -> list[Question]:
    out = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            out.append(
                Question(
                    id=str(d.get("id", f"{path.stem}:{lineno}")),
                    question=d["question"],
                    type=d.get("type", "unknown"),
                    gold_ids=tuple(d.get("gold_ids") or ()),
                    # Exported feedback has gold_ids null until labelled (by ids or titles).
                    gold_known=d.get("gold_ids", ()) is not None or any(d.get("gold_titles") or ()),
                    gold_titles=tuple(d.get("gold_titles", ())),
                    facts=tuple(d.get("facts", ())),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise BadInput(f"{path}:{lineno}: not a question record ({e}); see evals/questions.py.") from e
    return out


def resolve_gold(q: Question, index: LoadedIndex) -> dict[str, int]:
    """Gold paper ids with their relevance: given ids, plus papers whose title matches a gold
    title (gain 1), or the graded judgments where the dataset has them."""
    if q.grades:
        return {d: r for d, r in q.grades if r > 0}
    gold = {g for g in q.gold_ids if g in index.papers}
    titles = {normalize(t) for t in q.gold_titles if t}
    if titles:
        gold |= {p.id for p in index.papers.values() if normalize(p.title) in titles}
    return {g: 1 for g in sorted(gold)}


def feedback_cases(downvoted: list[dict]) -> list[dict]:
    """Thumbs-down runs as question records. The gold is unknown (null) until someone labels
    it; such cases are run and shown, and count in the metrics once labelled."""
    return [
        {
            "id": f"fb-{d['run_id']}",
            "question": d["question"],
            "type": "feedback",
            "gold_ids": None,
            "gold_titles": [],
            "facts": [],
            "rejected_answer": d["answer"]["answer"],
            "rejected_citations": [c["paper_id"] for c in d["answer"]["citations"]],
        }
        for d in downvoted
    ]
