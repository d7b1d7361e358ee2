"""95% intervals beside every rate and mean: Wilson's score interval for yes/no outcomes, the
bootstrap for graded scores, carried by the harness's summaries into report.md and report.json."""

import json
import math
from pathlib import Path

import pytest

from evals.configs import EvalConfig
from evals.datasets import Dataset
from evals.floors import Floors, violations
from evals.harness import ANSWERING, RANKING, ConfigRun, DatasetRun, summarize
from evals.metrics import bootstrap_ci, interval, wilson_interval
from evals.report import write_report
from index.settings import Settings


def test_wilson_interval_known_values():
    lo, hi = wilson_interval(15, 17)  # the floors file's refusal accuracy
    assert lo == pytest.approx(0.6566, abs=1e-4) and hi == pytest.approx(0.9671, abs=1e-4)
    assert wilson_interval(7, 71) == (pytest.approx(0.0486, abs=1e-4), pytest.approx(0.1898, abs=1e-4))
    # Exact at the ends, yet never zero-width: 0 of 10 does not prove a rate of 0.
    lo, hi = wilson_interval(0, 10)
    assert lo == 0.0 and hi == pytest.approx(0.2775, abs=1e-4)
    lo, hi = wilson_interval(10, 10)
    assert hi == 1.0 and lo == pytest.approx(0.7225, abs=1e-4)
    assert wilson_interval(5, 10, confidence=0.99)[0] < wilson_interval(5, 10)[0]  # wider when surer
    assert all(math.isnan(v) for v in wilson_interval(0, 0))


def test_the_interval_is_chosen_by_the_values():
    rate = interval([1.0] * 15 + [0.0] * 2)
    assert rate is not None and (rate["k"], rate["n"], rate["method"]) == (15, 17, "wilson")
    assert (rate["lo"], rate["hi"]) == wilson_interval(15, 17)
    graded = [0.0, 0.5, 1.0, 0.25] * 5
    mean_ = interval(graded)
    assert mean_ is not None and (mean_["k"], mean_["n"], mean_["method"]) == (None, 20, "bootstrap")
    assert (mean_["lo"], mean_["hi"]) == bootstrap_ci(graded)  # seeded: the same on every run
    # Weighted: a pooled share (sentences kept over answers), resampled by answer.
    pooled = interval([1.0, 0.0], weights=[9, 1])
    assert pooled is not None and pooled["method"] == "bootstrap" and pooled["lo"] <= 0.9 <= pooled["hi"]
    assert interval([]) is None
    assert json.loads(json.dumps(rate)) == rate  # report.json carries them as they are


def _row(i: int, type_: str, answerable: bool, confidence: str | None, hit: float | None) -> dict:
    m = dict.fromkeys((*RANKING, *ANSWERING))
    row = {"id": f"q{i}", "type": type_, "question": f"question {i}?", "answerable": answerable,
           "gold_known": True, "gold": ["p1"] if answerable else [], "top": ["p1"], "search_ms": 5.0}  # fmt: skip
    if answerable:
        m.update({f"hit@{k}": hit for k in (1, 3, 5, 10)}, **{f"Recall@{k}": hit for k in (1, 2, 3, 5, 10, 20, 50, 100)})
        m["nDCG@10"] = m["MRR@10"] = 0.5 * hit if i % 2 else hit  # graded: bootstrapped
    if confidence is not None:  # answered (ranking-only runs have no confidence)
        refused = confidence == "refused"
        if answerable:
            m["false_refusal_rate"] = float(refused)
            m["tentative_rate"] = float(confidence == "tentative")
            m["confident_gold_rate"] = float(confidence == "answer" and hit == 1.0)
            m["answered_gold_rate"] = float(not refused and hit == 1.0)
            m["citation_precision"] = None if refused else 1.0
        else:
            m["refusal_accuracy"] = float(refused)
            m["tentative_unanswerable_rate"] = float(confidence == "tentative")
            m["confident_unanswerable_rate"] = float(confidence == "answer")
        row.update(answer="…", refused=refused, confidence=confidence, cited=[], backend="extractive",
                   notice="", answer_ms=20.0, served_same=True, kept=0, removed=0)  # fmt: skip
    row["metrics"] = m
    return row


# 17 answerable questions (15 found; 12 answered, 3 tentative, 2 refused) and 5 unanswerable ones
ROWS = [
    *(_row(i, "factual", True, "answer" if i < 12 else "tentative" if i < 15 else "refused", 1.0 if i < 15 else 0.0)
      for i in range(17)),
    *(_row(17 + i, "unanswerable", False, "refused" if i < 3 else "tentative" if i < 4 else "answer", None)
      for i in range(5)),
]  # fmt: skip


def test_summaries_carry_intervals_and_floors_still_read_them():
    s = summarize(ROWS)
    iv = s["intervals"]
    assert s["hit@5"] == pytest.approx(15 / 17) and (iv["hit@5"]["k"], iv["hit@5"]["n"]) == (15, 17)
    assert iv["nDCG@10"]["method"] == "bootstrap" and iv["nDCG@10"]["n"] == 17
    assert (iv["refusal_accuracy"]["k"], iv["refusal_accuracy"]["n"]) == (3, 5)
    assert (iv["confident_unanswerable_rate"]["k"], iv["tentative_rate"]["k"]) == (1, 3)
    assert iv["fact_coverage"] is None and iv["grounding_kept"] is None  # applies to no question
    assert iv["served_ranking_scored"]["k"] == 22
    json.dumps(s, allow_nan=False)
    floors = Floors("qs", "hybrid", {"hit@5": 0.8}, {"confident_unanswerable_rate": 0.1})
    assert violations(s, floors) == ["confident_unanswerable_rate = 0.2 is above its ceiling 0.1"]


def test_report_shows_intervals_and_outcomes(tmp_path: Path, fake_env: Path):
    unrated = [{k: v for k, v in r.items() if k != "confidence"} for r in ROWS]  # as BEIR ranking-only rows
    d = DatasetRun(
        Dataset("tiny", "questions", tmp_path / "tiny.jsonl", ()),
        answers=True,
        runs=[
            ConfigRun(EvalConfig("hybrid"), Settings(), ROWS, 1.0),
            ConfigRun(EvalConfig("bm25"), Settings(), unrated, 1.0),
        ],
    )
    md = write_report([d], tmp_path).read_text()
    assert "0.882 [0.66, 0.97] (15/17)" in md  # hit@5: a rate, with k/n
    assert "(n=17)" in md  # nDCG@10: graded, bootstrapped
    for label in ("flat refusals", "confident (unanswerable)", "tentative (answerable)",
                  "tentative (unanswerable)", "confident + gold cited", "answered or tentative + gold cited"):  # fmt: skip
        assert label in md, label
    assert "| configuration | questions | answer | tentative | refused |" in md
    # 12 of 17 answerable answered with confidence, 1 of 5 unanswerable: one outcomes row each,
    # none for the run whose rows have no confidence.
    assert "| hybrid | answerable | 0.706 [0.47, 0.87] (12/17) | 0.176 " in md
    assert "| hybrid | unanswerable | 0.200 [0.04, 0.62] (1/5) | 0.200 [0.04, 0.62] (1/5) | 0.600 " in md
    assert "| bm25 | answerable |" not in md
    by_type = md[md.index("### By question type"):]
    assert "| unanswerable | hybrid | 5 |" in by_type and "0.600 [0.23, 0.88] (3/5)" in by_type
    report = json.loads((tmp_path / "report.json").read_text())
    hybrid = report["datasets"][0]["configs"][0]
    assert hybrid["summary"]["intervals"]["hit@5"]["k"] == 15
    assert hybrid["by_type"]["unanswerable"]["intervals"]["refusal_accuracy"]["n"] == 5
