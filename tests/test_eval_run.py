"""`paperbot eval run` end to end with the fake embedder: question sets and BEIR folders,
baselines always present, configuration files, reports (Markdown, JSON, PNG), feedback cases."""

import json
from pathlib import Path

import pytest

from evals.cli import main
from evals.floors import FLOORS, Floors, load_floors, violations
from evals.questions import feedback_cases

DATA = Path(__file__).parent / "data"
QUESTIONS = [
    {"id": "q1", "question": "how do gardeners route tomatoes to experts?", "type": "factual",
     "gold_ids": ["u1"], "facts": ["two gardeners"]},
    {"id": "q2", "question": "does entangled yeast make bread rise faster in ovens?", "type": "conceptual",
     "gold_titles": ["Quantum Bread Baking"], "facts": ["3x"]},
    {"id": "q3", "question": "what is the boiling point of tungsten in kelvin?", "type": "unanswerable",
     "gold_ids": [], "gold_titles": []},
]  # fmt: skip


def _beir(tmp_path: Path) -> Path:
    folder = tmp_path / "mini-beir"
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text((DATA / "corpus.jsonl").read_text())
    (folder / "queries.jsonl").write_text(
        '{"_id": "1", "text": "optimizers on the moon learning rate"}\n'
        '{"_id": "2", "text": "penguins sorting socks with reinforcement learning"}\n'
        '{"_id": "3", "text": "not judged, so not asked"}\n'
    )
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n1\td1\t1\n2\td2\t1\n")
    return folder


@pytest.fixture
def question_file(fake_env: Path, tmp_path: Path) -> Path:
    assert main(["ingest", str(DATA / "papers.jsonl"), str(DATA / "papers.csv"), "--no-progress"]) == 0
    path = tmp_path / "qs.jsonl"
    path.write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS))
    return path


def test_eval_run_writes_a_full_report(question_file: Path, tmp_path: Path, capsys):
    cfg = tmp_path / "mine.toml"
    cfg.write_text('[[configs]]\nname = "rrf"\ndescription = "RRF"\nretrieval = { fusion = "rrf" }\n')
    out = tmp_path / "report"
    rc = main(
        ["eval", "run", "--config", str(cfg), "--dataset", str(question_file),
         "--dataset", str(_beir(tmp_path)), "--out", str(out)]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert "[1/4] qs · bm25: 3 questions" in captured.err  # progress, also when not on a terminal
    assert "[4/4] mini-beir-test · rrf: 2 questions" in captured.err
    assert f"Report: {out / 'report.md'}" in captured.out

    report = json.loads((out / "report.json").read_text())
    qs, beir = report["datasets"]
    assert [c["name"] for c in qs["configs"]] == ["bm25", "dense", "hybrid", "rrf"]
    assert qs["kind"] == "questions" and qs["answers"] is True
    assert beir["kind"] == "beir" and beir["answers"] is False
    hybrid = qs["configs"][2]
    s = hybrid["summary"]
    assert (s["questions"], s["answerable"], s["unanswerable"]) == (3, 2, 1)
    assert s["hit@5"] == 1.0 and s["Recall@100"] == 1.0
    for key in ("nDCG@10", "MRR@10", "refusal_accuracy", "false_refusal_rate", "citation_precision",
                "citation_recall", "fact_coverage", "answer_p50_ms", "answer_p95_ms", "search_p95_ms"):  # fmt: skip
        assert s[key] is not None, key
    assert s["grounding_kept"] is None and s["fallback_rate"] is None  # extractive: nothing checked
    assert set(hybrid["by_type"]) == {"factual", "conceptual", "unanswerable"}
    assert hybrid["settings"]["retrieval"]["mode"] == "hybrid" and "api_key" not in hybrid["settings"]["llm"]
    assert qs["configs"][3]["settings"]["retrieval"]["fusion"] == "rrf"
    row = hybrid["rows"][0]
    assert row["id"] == "q1" and row["gold"] == ["u1"] and row["top"][0] == "u1" and row["cited"][0] == "u1"
    assert set(qs["comparisons"]) == {"bm25", "dense", "rrf"}
    assert {"delta", "lo", "hi", "n"} <= set(qs["comparisons"]["bm25"]["nDCG@10"])
    b = beir["configs"][2]["summary"]
    assert b["questions"] == 2 and b["nDCG@10"] == 1.0 and b["refusal_accuracy"] is None
    assert "answer" not in beir["configs"][2]["rows"][0]

    md = (out / "report.md").read_text()
    for heading in ("## qs", "## mini-beir-test", "### Retrieval", "### Answers", "### Against `hybrid`", "### By question type"):
        assert heading in md
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert "qs-retrieval.png" in pngs and "qs-recall-at-k.png" in pngs and "qs-latency.png" in pngs
    assert "qs-answers.png" in pngs and "qs-hit5-by-type.png" in pngs and "mini-beir-test-retrieval.png" in pngs
    for name in pngs:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and f"]({name})" in md


def test_default_report_folder_is_timestamped(question_file: Path, monkeypatch, tmp_path: Path, capsys):
    import evals.report

    monkeypatch.setattr(evals.report, "REPORTS", tmp_path / "reports")
    args = ["eval", "run", "--dataset", str(question_file), "--only", "bm25", "--json"]
    assert main(args) == 0 and main(args) == 0
    first, second = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert Path(first["report"]).parent != Path(second["report"]).parent  # never overwritten
    assert Path(first["report"]).parent.parent == tmp_path / "reports"
    assert set(first["datasets"]["qs"]) == {"bm25", "dense", "hybrid"}  # the baselines always run


def test_feedback_export_appends_once_and_the_cases_run(question_file: Path, tmp_path: Path, capsys):
    """Slack 👎 -> `paperbot feedback export --out` -> the question file -> `eval run`."""
    from bot.answer.answerer import Answerer
    from index.settings import Settings
    from bot.traces import TraceStore
    from index.reader import open_index

    settings = Settings()  # the fake environment of question_file
    store = TraceStore(settings.traces_path)
    answerer = Answerer(settings, open_index(settings), traces=store)
    run_id = answerer("bread yeast ovens?").run_id
    store.add_feedback(run_id, "U1", -1)
    store.close()
    for _ in range(2):  # exporting again adds nothing twice
        assert main(["feedback", "export", "--out", str(question_file)]) == 0
    lines = question_file.read_text().splitlines()
    assert len(lines) == 4 and json.loads(lines[-1])["id"] == f"fb-{run_id}"

    out = tmp_path / "fb"
    assert main(["eval", "run", "--dataset", str(question_file), "--out", str(out)]) == 0
    hybrid = json.loads((out / "report.json").read_text())["datasets"][0]["configs"][2]
    assert hybrid["summary"]["unlabelled"] == 1 and hybrid["summary"]["answerable"] == 2
    fb = hybrid["rows"][-1]
    assert fb["id"] == f"fb-{run_id}" and "answer" in fb and all(v is None for v in fb["metrics"].values())
    assert "1 unlabelled feedback cases" in (out / "report.md").read_text()

    # Labelled by title, the case counts like any other question.
    case = json.loads(lines[-1]) | {"gold_titles": ["Quantum Bread Baking"]}
    question_file.write_text("\n".join([*lines[:-1], json.dumps(case)]) + "\n")
    assert main(["eval", "run", "--dataset", str(question_file), "--out", str(tmp_path / "fb2")]) == 0
    hybrid = json.loads((tmp_path / "fb2" / "report.json").read_text())["datasets"][0]["configs"][2]
    assert hybrid["summary"]["unlabelled"] == 0 and hybrid["summary"]["answerable"] == 3


@pytest.mark.parametrize(
    "args, message",
    [
        (["--dataset", "nowhere.jsonl"], "no such dataset"),
        (["--config", "nowhere.toml"], "no such configuration file"),
        (["--only", "nosuch"], "no such configuration"),
        (["--reference", "nosuch"], "no such configuration"),
        (["--limit", "0"], "--limit must be at least 1"),
    ],
)
def test_bad_arguments_are_one_line_errors(fake_env: Path, capsys, args: list[str], message: str):
    assert main(["eval", "run", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_eval_questions_still_reports_the_classic_keys(question_file: Path, capsys):
    assert main(["eval", "questions", str(question_file), "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["hit@1"] == 1.0 and s["hit@5[factual]"] == 1.0 and s["refusal_accuracy"] in (0.0, 1.0)


def test_floor_check_flags_regressions():
    floors = Floors("bundled", "hybrid", {"hit@5": 0.9, "refusal_accuracy": 0.7}, {"false_refusal_rate": 0.2})
    assert violations({"hit@5": 0.95, "refusal_accuracy": 0.7, "false_refusal_rate": 0.1}, floors) == []
    bad = violations({"hit@5": 0.85, "refusal_accuracy": None, "false_refusal_rate": 0.3}, floors)
    assert len(bad) == 3 and "hit@5 = 0.85 is below its floor 0.9" in bad[0]
    recorded = load_floors(FLOORS)
    assert recorded.dataset == "bundled-dev" and {"hit@5", "confident_gold_rate"} <= set(recorded.floors) and "confident_unanswerable_rate" in recorded.ceilings  # floors come from dev: the test set is run once, to report
    assert all(0.3 <= v <= 1.0 for v in recorded.floors.values())  # real floors, not placeholders


def test_llm_configurations_report_grounding_and_fallbacks(question_file: Path, tmp_path: Path):
    """A configuration can switch the answer backend; the report then shows how much of the
    model's text the grounding check kept and how often it fell back to extractive."""
    cfg = tmp_path / "llm.yaml"
    cfg.write_text(
        "configs:\n"
        "  - name: half-grounded\n"
        "    llm: {backend: fake, support_threshold: 0.3,\n"
        "          model: 'Our sparse router sends each tomato to two gardeners [1]. Penguins sort socks on the moon [1].'}\n"
        "  - name: down\n"
        "    llm: {backend: fake, model: '!down', retries: 0}\n"
    )
    out = tmp_path / "llm-report"
    args = ["eval", "run", "--dataset", str(question_file), "--config", str(cfg), "--only", "half-grounded", "down"]
    assert main([*args, "--out", str(out)]) == 0
    runs = {c["name"]: c for c in json.loads((out / "report.json").read_text())["datasets"][0]["configs"]}
    assert set(runs) == {"half-grounded", "down", "bm25", "dense", "hybrid"}
    half = runs["half-grounded"]
    answered = [r for r in half["rows"] if not r["refused"]]
    assert answered and all(r["backend"] == "fake" and r["metrics"]["grounding_kept"] == 0.5 for r in answered)
    # Where neither sentence is supported by abstract [1], nothing is kept and the answer is a refusal.
    checked = [r["metrics"]["grounding_kept"] for r in half["rows"] if r["metrics"]["grounding_kept"] is not None]
    assert set(checked) <= {0.5, 0.0} and half["summary"]["grounding_kept"] == sum(checked) / len(checked)
    assert half["summary"]["fallback_rate"] == 0.0
    assert runs["down"]["summary"]["fallback_rate"] == 1.0  # every answer is the extractive fallback
    assert runs["down"]["summary"]["grounding_kept"] is None
    assert "LLM fallbacks" in (out / "report.md").read_text()


def test_floors_gate_the_exit_code(question_file: Path, tmp_path: Path, capsys):
    floors = tmp_path / "floors.toml"
    base = ["eval", "run", "--dataset", str(question_file), "--only", "hybrid", "--out", str(tmp_path / "r")]
    floors.write_text('dataset = "qs"\nconfig = "hybrid"\n[floors]\n"hit@5" = 0.5\n')
    assert main([*base, "--floors", str(floors)]) == 0
    floors.write_text('dataset = "qs"\nconfig = "hybrid"\n[floors]\n"hit@5" = 0.5\n[ceilings]\nfalse_refusal_rate = -0.1\n')
    assert main([*base, "--floors", str(floors)]) == 1
    assert "below the floor: false_refusal_rate = 0.0 is above its ceiling -0.1" in capsys.readouterr().err
    assert main([*base, "--json", "--floors", str(floors)]) == 1  # JSON output gates too
    floors.write_text('dataset = "other"\nconfig = "hybrid"\n[floors]\n"hit@5" = 0.5\n')
    assert main([*base, "--floors", str(floors)]) == 2


def test_a_broken_llm_configuration_fails_before_anything_runs(question_file: Path, tmp_path: Path, capsys):
    cfg = tmp_path / "broken.toml"
    cfg.write_text('name = "no-url"\nllm = { backend = "openai-compatible" }\n')
    assert main(["eval", "run", "--dataset", str(question_file), "--config", str(cfg), "--out", str(tmp_path / "x")]) == 3
    err = capsys.readouterr().err
    assert "PAPERBOT_LLM__BASE_URL" in err and "[1/" not in err  # no configuration ran first
    assert not (tmp_path / "x").exists()


def test_eval_run_answers_from_a_generation_published_mid_run(question_file: Path, tmp_path: Path, monkeypatch):
    """A long `eval run` sees an ingest that finishes between two questions."""
    import evals.harness as harness
    from evals.datasets import load_dataset
    from evals.configs import EvalConfig
    from index.ingest import ingest
    from index.settings import Settings

    owls = tmp_path / "owls.jsonl"
    owls.write_text(json.dumps({"id": "owl", "title": "Owls Sorting Mail", "abstract": "Owls sort the mail of "
                                "wizards by postcode with a learned router."}) + "\n")  # fmt: skip
    questions = tmp_path / "mid.jsonl"
    questions.write_text("".join(json.dumps(q) + "\n" for q in [
        QUESTIONS[0],
        {"id": "owl", "question": "do owls sort wizards' mail by postcode?", "type": "factual", "gold_ids": ["owl"]},
    ]))  # fmt: skip
    settings = Settings()
    real_search, asked = harness.search, []

    def search_then_ingest(index, query, s, k=None):
        asked.append(query)
        # The harness searches twice a question (the served ranking, then a deeper one): the
        # third search is the first scored question's, inside its pinned generation.
        if len(asked) == 3:
            ingest(settings, [owls])
        return real_search(index, query, s, k)

    monkeypatch.setattr(harness, "search", search_then_ingest)
    run = harness.run_dataset(load_dataset(str(questions)), [EvalConfig("hybrid")], settings, answers=True,
                              log=lambda _: None)  # fmt: skip
    rows = run.runs[0].rows
    assert "owl" not in rows[0]["top"]
    assert rows[1]["top"][0] == "owl" and rows[1]["cited"] == ["owl"]


def test_floor_margins_fail_when_hybrid_fusion_is_lost():
    """Hybrid must stay ahead of each single retriever by its recorded margin: a hybrid that
    ranks like BM25 alone fails even when every absolute floor holds."""
    floors = Floors("bundled", "hybrid", {"nDCG@10": 0.5}, {}, {"bm25": {"nDCG@10": 0.01}, "dense": {"nDCG@10": 0.05}})
    ahead = {"bm25": {"nDCG@10": 0.89}, "dense": {"nDCG@10": 0.80}}
    assert violations({"nDCG@10": 0.92}, floors, ahead) == []
    lost = violations({"nDCG@10": 0.89}, floors, ahead)  # hybrid now ranks exactly like BM25
    assert len(lost) == 1 and "leads bm25 by +0.000" in lost[0]
    assert len(violations({"nDCG@10": 0.92}, floors, {"bm25": ahead["bm25"]})) == 1  # dense did not run
    recorded = load_floors(FLOORS)
    assert {"bm25", "dense"} <= set(recorded.margins)
    assert {"citation_precision", "fact_coverage"} <= set(recorded.floors)
    assert all(v > 0 for m in recorded.margins.values() for v in m.values())


def test_eval_run_defaults_to_the_dev_questions(capsys):
    from evals.datasets import load_dataset, same_dataset
    from evals.questions import BUNDLED_DEV, BUNDLED_TEST

    assert load_dataset("bundled-dev").source == BUNDLED_DEV
    assert load_dataset("bundled").source == load_dataset("bundled-test").source == BUNDLED_TEST
    assert same_dataset("bundled", "bundled-test") and not same_dataset("bundled", "bundled-dev")
    with pytest.raises(SystemExit):
        main(["eval", "run", "--help"])
    assert "'bundled-dev' (the default" in " ".join(capsys.readouterr().out.split())


def test_the_typo_set_is_derived_deterministically_from_the_dev_questions():
    from evals.questions import BUNDLED_DEV, BUNDLED_DEV_TYPOS, load_questions
    from evals.typo_set import with_typos

    q = "How many made-up writer profiles are in that unlearning benchmark?"
    assert with_typos(q, "typo:x") == with_typos(q, "typo:x") != q
    clean = {x.id: x for x in load_questions(BUNDLED_DEV)}
    typos = load_questions(BUNDLED_DEV_TYPOS)
    assert len(typos) >= 80
    for t in typos:
        c = clean[t.id.removesuffix("-typo")]
        assert (t.gold_ids, t.facts) == (c.gold_ids, c.facts)
        assert t.question == with_typos(c.question, f"typo:{c.id}")  # the file is what the script writes


def test_questions_with_papers_of_their_own_are_asked_over_the_corpus_and_those(fake_settings, tmp_path, monkeypatch):
    """The test set is written on papers added for it: its index is the configured corpus plus
    those papers, an index of its own (the user's is never touched), kept up to date."""
    from evals import datasets
    from evals.configs import EvalConfig
    from evals.datasets import load_dataset
    from evals.harness import run_dataset
    from index import layout
    from index.reader import open_index

    papers = tmp_path / "added.jsonl"
    papers.write_text(json.dumps({"id": "2501.00001", "title": "Lactobacillus Routing in Sourdough",
        "abstract": "Sourdough starters ferment faster when lactobacillus colonies are routed by pH. We report 9 hours saved."}) + "\n")  # fmt: skip
    qs = tmp_path / "test.jsonl"
    qs.write_text(json.dumps({"id": "v1", "question": "how do sourdough starters route lactobacillus by pH?",
        "type": "factual", "gold_ids": ["2501.00001"], "facts": ["9 hours"]}) + "\n"
        + json.dumps(QUESTIONS[0]) + "\n")  # fmt: skip
    monkeypatch.setitem(datasets.PAPERS, qs.resolve(), papers)
    settings = fake_settings.model_copy(update={"index": fake_settings.index.model_copy(update={"corpus": [DATA / "papers.jsonl"]})})
    dataset = load_dataset(str(qs))
    assert dataset.papers == papers
    base = dataset.base_settings(settings)
    assert base.index_dir != settings.index_dir and base.index.corpus == [DATA / "papers.jsonl", papers]

    result = run_dataset(dataset, [EvalConfig("hybrid")], settings, answers=True, log=lambda _: None)
    assert not result.warnings  # both gold papers are in its index: the corpus's and the added one
    assert [r["metrics"]["hit@5"] for r in result.runs[0].rows] == [1.0, 1.0]
    assert layout.current_generation(settings.index_dir) is None  # the user's index: never built
    papers.write_text(papers.read_text().replace("9 hours", "10 hours"))  # the papers change: a new index
    assert load_dataset(str(qs)).base_settings(settings).index_dir != base.index_dir
    assert "2501.00001" in open_index(base).papers
