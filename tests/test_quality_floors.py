"""CI's quality guard: the repo's dev questions, through `paperbot eval run`'s harness with
the default configuration and the real model, must stay above the floors in evals/floors.toml,
and hybrid retrieval must keep its recorded lead over BM25 alone and dense alone."""

from pathlib import Path

import pytest

from index.settings import Settings
from evals.configs import BASELINES
from evals.datasets import load_dataset
from evals.floors import load_floors, violations
from evals.harness import run_dataset

pytestmark = pytest.mark.integration


def test_own_questions_stay_above_recorded_floors(real_index_dir: Path):
    floors = load_floors()
    (config,) = [c for c in BASELINES if c.name == floors.config]
    assert {"citation_precision", "fact_coverage", "confident_gold_rate"} <= set(floors.floors)
    assert {"false_refusal_rate", "confident_unanswerable_rate"} <= set(floors.ceilings)
    assert {"bm25", "dense"} <= set(floors.margins)  # losing the fusion fails, not only a low score
    dataset = load_dataset(floors.dataset)
    assert len(dataset.questions) >= 300 and floors.dataset == "bundled-dev"  # floors from dev, never the test set
    settings = Settings(index={"data_dir": real_index_dir})
    result = run_dataset(dataset, [config], settings, answers=True)
    assert not result.warnings, result.warnings  # every gold paper is in the bundled index
    summary = result.runs[0].summary()
    # The single retrievers only rank (no answers needed for a ranking margin).
    others = [c for c in BASELINES if c.name in floors.margins]
    baselines = {r.config.name: r.summary() for r in run_dataset(dataset, others, settings, answers=False).runs}
    problems = violations(summary, floors, baselines)
    assert not problems, f"{problems}; full summary: {summary}"
