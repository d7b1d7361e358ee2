"""paperbot's own question format (JSONL) and its retrieval/refusal metrics.

A line: {"id", "question", "type", "gold_ids": [...], "gold_titles": [...], "facts": [...]};
empty gold means the corpus cannot answer and the right answer is a refusal."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bot.answer import Answerer
from bot.errors import BadInput
from bot.settings import Settings
from evals.metrics import hit_at, mean
from index.loaded import LoadedIndex
from index.text import normalize

BUNDLED_TEST = Path(__file__).resolve().parent / "questions" / "bundled_test.jsonl"


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    type: str
    gold_ids: tuple[str, ...] = ()
    gold_titles: tuple[str, ...] = ()
    facts: tuple[str, ...] = ()
    gold_known: bool = True  # False for exported feedback cases nobody has labelled yet

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
                    gold_known=d.get("gold_ids", ()) is not None,
                    gold_titles=tuple(d.get("gold_titles", ())),
                    facts=tuple(d.get("facts", ())),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise BadInput(f"{path}:{lineno}: not a question record ({e}); see evals/questions.py.") from e
    return out


def resolve_gold(q: Question, index: LoadedIndex) -> set[str]:
    """Gold paper ids: given ids, plus papers whose title matches a gold title."""
    gold = {g for g in q.gold_ids if g in index.papers}
    titles = {normalize(t) for t in q.gold_titles if t}
    if titles:
        gold |= {p.id for p in index.papers.values() if normalize(p.title) in titles}
    return gold


@dataclass
class QuestionReport:
    rows: list[dict] = field(default_factory=list)

    def summary(self) -> dict[str, float]:
        labelled = [r for r in self.rows if r["gold_known"]]
        answerable = [r for r in labelled if r["answerable"]]
        unanswerable = [r for r in labelled if not r["answerable"]]
        by_type: dict[str, list[dict]] = defaultdict(list)
        for r in answerable:
            by_type[r["type"]].append(r)
        return {
            "questions": len(self.rows),
            "hit@1": mean([r["hit@1"] for r in answerable]),
            "hit@5": mean([r["hit@5"] for r in answerable]),
            "refusal_accuracy": mean([1.0 if r["refused"] else 0.0 for r in unanswerable]),
            "false_refusal_rate": mean([1.0 if r["refused"] else 0.0 for r in answerable]),
            "fact_coverage": mean([r["facts_found"] / r["facts"] for r in answerable if r["facts"]]),
            "citation_precision": mean(
                [r["cited_gold"] / r["cited"] for r in answerable if r["cited"]]
            ),
            **{f"hit@5[{t}]": mean([r["hit@5"] for r in rs]) for t, rs in sorted(by_type.items())},
        }


def _has_fact(text: str, fact: str) -> bool:
    # Abstracts keep LaTeX escapes ("2.46\\%"); facts are written plainly.
    return fact.lower() in text.replace("\\", "").lower()


def run_questions(questions: list[Question], index: LoadedIndex, settings: Settings) -> QuestionReport:
    report = QuestionReport()
    answerer = Answerer(settings, index)
    for q in questions:
        a = answerer(q.question)
        ranked = [h.paper.id for h in a.hits]
        gold = resolve_gold(q, index)
        rel = {g: 1 for g in gold}
        cited = [c.paper.id for c in a.citations]
        report.rows.append(
            {
                "id": q.id,
                "type": q.type,
                "answerable": q.answerable,
                "gold_known": q.gold_known,
                "refused": a.refused,
                "hit@1": hit_at(ranked, rel, 1),
                "hit@5": hit_at(ranked, rel, 5),
                "cited": len(cited),
                "cited_gold": sum(1 for c in cited if c in gold),
                "facts": len(q.facts),
                "facts_found": sum(1 for f in q.facts if _has_fact(a.text, f)),
                "top_similarity": max((h.dense for h in a.hits), default=0.0),
            }
        )
    return report


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
