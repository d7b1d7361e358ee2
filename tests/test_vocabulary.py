"""The corpus vocabulary: saved at ingest, updated by difference, loaded by readers; a
generation without the file (an older paperbot's) builds it from its papers. That ingests
which add, correct and remove papers end with the vocabulary of one ingest of the final papers
is tested with the rest of the generation (test_ingest.py)."""

import json
from dataclasses import replace
from pathlib import Path

from bot.answer.answerer import answer
from evals.cli import main
from index import layout
from index.ingest import ingest
from index.reader import open_index
from index.settings import Settings
from index.types import Paper
from index.vocabulary import FILE, Vocabulary, paper_text, vocabulary_of

DATA = Path(__file__).parent / "data"

PAPERS = [
    Paper("a", "Diffusion Models", "Diffusion models denoise images. Models learn scores."),
    Paper("b", "", "We study routing of tokens to experts in sparse models."),
    Paper("c", "Owls", "Owls sort mail at night; owls' mail is sorted."),
]


def from_scratch(papers) -> Vocabulary:
    return Vocabulary.build(map(paper_text, papers))


def test_save_and_load_round_trip(tmp_path):
    v = from_scratch(PAPERS)
    assert v.papers == 3 and v.df["model"] == 2 and v.counts["owls"] == 3
    v.save(tmp_path)
    assert Vocabulary.load(tmp_path) == v
    assert Vocabulary.load(tmp_path / "nowhere") is None  # no file: the caller builds it

    saved = json.loads((tmp_path / FILE).read_text())
    (tmp_path / FILE).write_text(json.dumps({**saved, "version": -1}))
    assert Vocabulary.load(tmp_path) is None  # another tokenizer's counts are not used


def test_an_update_equals_a_build_from_scratch():
    changed = replace(PAPERS[0], abstract="Diffusion models generate audio.")
    new = Paper("d", "Sparse Experts", "Experts route tokens; routing is learned.")
    after = [changed, PAPERS[2], new]  # "a" changed, "b" removed, "c" kept, "d" added
    unchanged = {"c"}.__contains__
    got = vocabulary_of(after, from_scratch(PAPERS), PAPERS, unchanged)
    assert got == from_scratch(after)
    assert "rout" in got.df and got.df["model"] == 1  # "b"'s words gone, "a"'s new ones in
    # A previous vocabulary that is not of the previous papers is not trusted.
    assert vocabulary_of(after, from_scratch(PAPERS[:1]), PAPERS, unchanged) == from_scratch(after)


def test_an_ingest_saves_the_vocabulary_and_readers_load_it(fake_env, monkeypatch, capsys):
    assert main(["ingest"]) == 0  # the bundled corpus, as an operator runs it
    index = open_index(Settings())
    assert (index.generation.path / FILE).is_file()
    expected = from_scratch(index.papers.values())

    def no_build(cls, texts):
        raise AssertionError("the reader built the vocabulary instead of loading it")

    monkeypatch.setattr(Vocabulary, "build", classmethod(no_build))
    with index.use() as idx:
        assert idx.vocabulary == expected
    capsys.readouterr()
    assert main(["ask", "--json", "How do transformers use attention?"]) == 0  # a cold `paperbot ask`
    assert json.loads(capsys.readouterr().out)["question"] == "How do transformers use attention?"


def test_a_generation_without_the_file_still_answers(fake_settings):
    """As built by a paperbot before the vocabulary was saved: built from its papers, and the
    next ingest saves one, read from every paper."""
    ingest(fake_settings, [DATA / "papers.jsonl", DATA / "papers.csv"])
    gen = layout.require_generation(fake_settings.index_dir)
    (gen.path / FILE).unlink()
    index = open_index(fake_settings)
    with index.use() as idx:
        assert idx.vocabulary == from_scratch(idx.papers.values())
    a = answer("How do gardeners route tomatoes to experts?", fake_settings, index)
    assert not a.refused and a.citations[0].paper.id == "u1"

    ingest(fake_settings, [DATA / "corpus.jsonl"])
    new = layout.require_generation(fake_settings.index_dir)
    assert Vocabulary.load(new.path) == from_scratch(new.papers())
