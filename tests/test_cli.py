"""The `paperbot` command end to end, in-process, with the fake embedder."""

import io
import json
from pathlib import Path

import pytest

from evals.cli import main

DATA = Path(__file__).parent / "data"


def run(capsys, *argv, stdin: str | None = None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_ingest_ask_search_stats(fake_env, capsys):
    code, out, _ = run(capsys, "ingest", str(DATA / "papers.jsonl"), str(DATA / "corpus.jsonl"))
    assert code == 0 and "Indexed 4 papers" in out
    code, out, _ = run(capsys, "ingest", str(DATA / "papers.jsonl"))
    assert code == 0 and "Nothing new" in out

    code, out, _ = run(capsys, "ask", "gardeners routing tomatoes", "--json")
    d = json.loads(out)
    assert code == 0 and d["question"] == "gardeners routing tomatoes"
    assert d["citations"][0]["paper_id"] == "u1" and "[1]" in d["answer"]
    assert {c["paper_id"] for c in d["citations"]} <= {h["paper_id"] for h in d["hits"]}

    code, out, _ = run(capsys, "ask", "gardeners routing tomatoes")
    assert code == 0 and "Sources:" in out and "[1] Sparse Mixture of Gardeners" in out

    code, out, _ = run(capsys, "search", "lunar gradient descent", "-k", "2", "--json")
    d = json.loads(out)
    assert d["query"] == "lunar gradient descent" and len(d["hits"]) == 2
    assert d["hits"][0]["paper_id"] == "d1" and d["hits"][0]["rank"] == 1
    assert set(d["hits"][0]) >= {"rank", "paper_id", "title", "abstract", "score"}

    code, out, _ = run(capsys, "stats", "--json")
    assert json.loads(out)["papers"] == 4


def test_batch_from_stdin(fake_env, capsys, monkeypatch):
    run(capsys, "ingest", str(DATA / "papers.jsonl"))
    code, out, _ = run(capsys, "ask", "--json", stdin="tomato gardeners\n\nbread yeast\n   x\n", monkeypatch=monkeypatch)
    lines = [json.loads(l) for l in out.splitlines()]
    assert code == 0 and [l["question"] for l in lines] == ["tomato gardeners", "bread yeast", "x"]
    code, out, _ = run(capsys, "search", "--json", stdin="bread\n", monkeypatch=monkeypatch)
    assert json.loads(out)["hits"][0]["title"] == "Quantum Bread Baking"


def test_errors_are_one_line_with_exit_code(fake_env, capsys, tmp_path):
    code, _, err = run(capsys, "ask", "anything")
    assert code == 4 and "run `paperbot ingest` first" in err
    code, _, err = run(capsys, "ingest", str(tmp_path / "missing.csv"))
    assert code == 2 and "missing.csv" in err and len(err.strip().splitlines()) == 1
    run(capsys, "ingest", str(DATA / "papers.jsonl"))
    code, _, err = run(capsys, "ask", "   ")
    assert code == 2 and "question is empty" in err


def test_bad_setting_is_reported(fake_env, capsys, monkeypatch):
    monkeypatch.setenv("PAPERBOT_RETRIEVAL__TOP_K", "zero")
    code, _, err = run(capsys, "stats")
    assert code == 3 and "PAPERBOT_RETRIEVAL__TOP_K" in err
