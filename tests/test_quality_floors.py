"""CI's quality guard: the repo's own question set, through `paperbot eval run`'s harness with
the default configuration and the real model, must stay above the floors in evals/floors.toml."""

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
    dataset = load_dataset(floors.dataset)
    assert len(dataset.questions) >= 80
    result = run_dataset(dataset, [config], Settings(index={"data_dir": real_index_dir}), answers=True)
    assert not result.warnings, result.warnings  # every gold paper is in the bundled index
    summary = result.runs[0].summary()
    problems = violations(summary, floors)
    assert not problems, f"{problems}; full summary: {summary}"
