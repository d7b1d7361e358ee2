import json
from pathlib import Path

from evals.questions import feedback_cases, load_questions, run_questions
from index.build import ingest
from index.loaded import open_index

DATA = Path(__file__).parent / "data"


def test_feedback_cases_run_like_any_question(fake_settings, tmp_path):
    ingest(fake_settings, [DATA / "papers.jsonl", DATA / "papers.csv"])
    index = open_index(fake_settings)
    qfile = tmp_path / "q.jsonl"
    labelled = {"id": "q1", "question": "gardeners routing tomatoes", "type": "factual", "gold_ids": ["u1"]}
    down = [{"run_id": "abc", "question": "bread yeast?", "answer": {"answer": "x [1]", "citations": [{"paper_id": "u1"}]}}]
    qfile.write_text("\n".join(json.dumps(r) for r in [labelled, *feedback_cases(down)]) + "\n")
    qs = load_questions(qfile)
    assert [q.gold_known for q in qs] == [True, False]
    report = run_questions(qs, index, fake_settings)
    assert len(report.rows) == 2
    s = report.summary()
    assert s["hit@1"] == 1.0 and s["refusal_accuracy"] == 0.0  # the unlabelled case counts nowhere
