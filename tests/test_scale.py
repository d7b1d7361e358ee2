"""`python -m evals.bench.scale`: the cost curve's rows, JSON keys and report, on tiny corpora."""

from __future__ import annotations

import json

import pytest

from evals.bench import scale

KEYS = {"papers", "ingest_papers_per_s", "incremental_s", "fresh_s", "search_p50_ms", "search_p95_ms",
        "recall_at_10", "serve_rss_mb"}  # fmt: skip


def _rows(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


def test_fake_embedder_curve_and_report(tmp_path, capsys):
    scale.main(["--sizes", "120,300", "--embedder", "fake", "--json"])
    rows = _rows(capsys)
    assert [r["papers"] for r in rows] == [120, 300]
    for r in rows:
        assert KEYS <= r.keys()
        assert r["chunks"] > r["papers"]  # about 1.8 chunks a paper, like real abstracts
        assert 0 < r["search_p50_ms"] <= r["search_p95_ms"] and 0 <= r["recall_at_10"] <= 1
        assert r["incremental_s"] > 0 and r["fresh_s"] > 0 and r["serve_rss_mb"] > 50
    (report,) = (tmp_path / "evals" / "reports").glob("*-scale")
    assert {"report.md", "scale.json", "throughput.png", "latency.png", "memory.png", "adding.png"} <= {
        p.name for p in report.iterdir()
    }
    assert "| 300 |" in (report / "report.md").read_text()


@pytest.fixture
def encoded(monkeypatch) -> list[int]:
    """How many chunks each ingest of the run encodes (base, incremental, fresh)."""
    seen: list[int] = []
    run = scale.ingest

    def counting_ingest(*a, **k):
        report = run(*a, **k)
        seen.append(report.embedded)
        return report

    monkeypatch.setattr(scale, "ingest", counting_ingest)
    return seen


def test_both_sides_of_the_add_encode_the_same_papers(capsys, encoded):
    """Without --seed-base the base is encoded too, and the fresh side does not get the vectors
    the incremental add just made: both encode the added papers."""
    scale.main(["--sizes", "100", "--embedder", "fake", "--json", "--no-report"])
    base, incremental, fresh = encoded
    assert base > 0 and incremental == fresh > 0


@pytest.mark.integration
def test_seeded_base_encodes_only_what_is_added(tmp_path, capsys, monkeypatch, encoded):
    """--seed-base: the base corpus comes from the cache (stand-in vectors with the model's
    geometry), so HNSW recall is the model's kind; the added papers go through the model."""
    monkeypatch.setattr(scale, "SENTENCE_CACHE", tmp_path / "sentences.sqlite")
    scale.main(["--sizes", "100", "--seed-base", "--json", "--no-report"])
    (row,) = _rows(capsys)
    base, incremental, fresh = encoded
    assert base == 0 and incremental == fresh > 0
    assert row["recall_at_10"] >= 0.99
