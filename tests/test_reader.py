"""Indexes opened for queries (index/reader.py): what one generation builds on first use is
built once however many questions arrive at the same time, and a generation written by the
paperbot before the vector-store seam (with its embedded Chroma copy) is read and replaced."""

from __future__ import annotations

import json
import threading
import time

from index import layout
from index.ingest import ingest
from index.reader import open_index
from index.vocabulary import Vocabulary

from conftest import DATA


def test_concurrent_first_questions_build_a_generation_s_parts_once(fake_settings, monkeypatch):
    ingest(fake_settings, [DATA / "papers.jsonl"])
    live = open_index(fake_settings)
    idx = live.current()
    loads = []
    real = Vocabulary.load

    def slow_load(cls, folder):
        loads.append(folder)
        time.sleep(0.2)  # long enough for every thread to ask before the first is done
        return real(folder)

    monkeypatch.setattr(Vocabulary, "load", classmethod(slow_load))
    barrier = threading.Barrier(4)
    got: list[tuple] = []

    def first_question() -> None:
        barrier.wait(timeout=10)
        got.append((idx.vocabulary, idx.vectors, idx.lexical))

    threads = [threading.Thread(target=first_question) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(got) == 4 and len(loads) == 1
    assert all(all(a is b for a, b in zip(g, got[0])) for g in got)  # one of each, shared
    live.close()


def test_a_generation_with_an_embedded_chroma_copy_is_read_then_replaced(fake_settings):
    """As the paperbot before the vector-store seam wrote it: a chroma/ folder beside the
    vectors, "vector_store": "embedded" in its manifest. It answers as it is, and the next
    ingest's generation replaces it; with no reader left on it, the old one is deleted."""
    ingest(fake_settings, [DATA / "papers.jsonl"])
    old = layout.require_generation(fake_settings.index_dir)
    (old.path / "chroma").mkdir()
    (old.path / "chroma" / "chroma.sqlite3").write_bytes(b"SQLite format 3\x00")
    assert old.manifest()["settings"]["vector_store"] == "embedded"

    live = open_index(fake_settings)
    with live.use() as idx:
        assert idx.generation.name == old.name and idx.dense(idx.embed_query("gardeners route tomatoes"), 3)
    live.close()
    extra = fake_settings.index.data_dir.parent / "extra.jsonl"
    extra.write_text(json.dumps({"id": "x1", "title": "Tomato routing", "abstract": "Gardeners route tomatoes."}) + "\n")
    report = ingest(fake_settings, [DATA / "papers.jsonl", extra])
    assert report.new_papers == 1 and report.generation != old.name
    assert not old.path.exists()  # nobody held it: deleted with its chroma/ folder
    assert not (layout.require_generation(fake_settings.index_dir).path / "chroma").exists()
