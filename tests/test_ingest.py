"""Ingest through the exact vector store and BM25 on disk, with the fake embedder."""

from pathlib import Path

import pytest

from index.errors import BadInput
from index import layout
from index.ingest import ingest
from index.embedding.embedders import FakeEmbedder
from index.lexical import LexicalIndex
from index.reader import open_index
from index.vocabulary import FILE as VOCABULARY, Vocabulary

DATA = Path(__file__).parent / "data"


def test_reingest_adds_nothing_and_new_file_embeds_only_new(fake_settings, counting_embedder):
    emb = counting_embedder
    first = ingest(fake_settings, [DATA / "papers.jsonl"], embedder=emb)
    assert first.papers == 2 and first.embedded == first.chunks > 0
    n = len(emb.embedded)

    again = ingest(fake_settings, [DATA / "papers.jsonl"], embedder=emb)
    assert again.unchanged and again.embedded == 0 and len(emb.embedded) == n
    assert again.generation == first.generation

    more = ingest(fake_settings, [DATA / "papers.csv"], embedder=emb)
    assert more.papers == 3 and more.new_papers == 1
    assert more.embedded == len(emb.embedded) - n == 1
    assert all("Tiny Violins" in t for t in emb.embedded[n:])

    index = open_index(fake_settings, embedder=emb)
    assert len(index.papers) == 3 and index.current().vectors.matrix.shape[0] == more.chunks


def test_bad_input_leaves_index_untouched(fake_settings, tmp_path):
    ingest(fake_settings, [DATA / "papers.jsonl"])
    before = (fake_settings.index_dir / "CURRENT").read_text()
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"title": "x", "abstract": "fine"}\nnot json\n')
    with pytest.raises(BadInput, match="bad.jsonl:2"):
        ingest(fake_settings, [DATA / "papers.csv", bad])
    assert (fake_settings.index_dir / "CURRENT").read_text() == before
    assert len(open_index(fake_settings).papers) == 2


def test_crash_mid_ingest_is_never_trusted(fake_settings, monkeypatch):
    ingest(fake_settings, [DATA / "papers.jsonl"])
    good = layout.require_generation(fake_settings.index_dir).path.name

    def boom(*a, **k):
        raise KeyboardInterrupt  # Ctrl-C after the new generation's vectors were written

    monkeypatch.setattr(LexicalIndex, "build", boom)
    with pytest.raises(KeyboardInterrupt):
        ingest(fake_settings, [DATA / "papers.csv"])
    monkeypatch.undo()

    assert layout.require_generation(fake_settings.index_dir).path.name == good
    assert len(open_index(fake_settings).papers) == 2
    # the next ingest cleans the half-written generation up and completes
    report = ingest(fake_settings, [DATA / "papers.csv"])
    assert report.papers == 3
    gens = sorted(p.name for p in fake_settings.index_dir.glob("gen-*"))
    assert all((fake_settings.index_dir / g / layout.MANIFEST).is_file() for g in gens)


def test_chunks_fit_the_model_and_carry_the_title(fake_settings):
    from index.chunking import chunk_paper
    from index.types import Paper

    emb = FakeEmbedder()
    paper = Paper(id="p", title="A Title", abstract=" ".join(f"Sentence number {i} is here." for i in range(80)))
    chunks = chunk_paper(paper, emb.count_tokens, chunk_tokens=64, overlap=1)
    assert len(chunks) > 3
    for c in chunks:
        assert c.text.startswith("A Title. ")
        assert emb.count_tokens([c.text])[0] + 2 <= 64
    # one sentence of overlap between neighbours
    assert chunks[0].text.split(". ")[-1].rstrip(".") in chunks[1].text

def test_every_chunk_fits_even_with_a_huge_title_or_unbroken_text():
    """A 1,000-character title, a run-on sentence and a pasted hash of one "word": every chunk
    still fits the model (here a word of n letters is n // 4 pieces, as a tokenizer breaks an
    unknown word), and no text of the abstract is lost."""
    from index.chunking import SPECIAL_TOKENS, chunk_paper
    from index.types import Paper

    count = lambda texts: [sum(max(1, len(w) // 4) for w in t.split()) for t in texts]  # noqa: E731
    run_on = " ".join(f"clause{i}" for i in range(300))
    blob = "f00d" * 500
    paper = Paper(id="p", title="Title " * 170, abstract=f"A normal sentence. {run_on}. {blob}. The end.")
    for size in (32, 64, 256):
        for overlap in (0, 1):
            chunks = chunk_paper(paper, count, chunk_tokens=size, overlap=overlap)
            assert all(n + SPECIAL_TOKENS <= size for n in count([c.text for c in chunks])), size
            assert all(c.text.startswith("Title Title") for c in chunks)
        prefix = chunks[0].text[: chunks[0].text.index("A normal")]
        body = "".join(c.text.removeprefix(prefix) for c in chunk_paper(paper, count, size, overlap=0))
        assert body.replace(" ", "") == paper.abstract.replace(" ", "")  # all of it, in order


def test_embedded_chunks_are_the_first_max_chunks():
    from index.chunking import chunk_paper, embedded_chunks
    from index.settings import IndexSettings
    from index.types import Paper

    count = FakeEmbedder().count_tokens
    paper = Paper(id="p", title="T", abstract=" ".join(f"Sentence number {i} is here." for i in range(60)))
    every = chunk_paper(paper, count, chunk_tokens=48, overlap=0)
    assert len(every) > 3
    ids = lambda most: [c.id for c in embedded_chunks(paper, count, IndexSettings(chunk_tokens=48, chunk_overlap_sentences=0, max_chunks=most))]  # noqa: E731
    assert ids(0) == [c.id for c in every] and ids(2) == ["p:0", "p:1"] and ids(len(every) + 5) == ids(0)


def test_an_incremental_build_equals_a_build_from_scratch(fake_settings, tmp_path, monkeypatch):
    """Ingests that add, correct and remove papers (copying the previous generation's chunks
    and vectors, updating its vocabulary by difference) end where one ingest of the final
    papers does."""
    import json

    import numpy as np

    from index.ingest import remove
    from index.vectors.base import CHUNKS
    from index.vectors.exact import VECTORS
    from index.settings import BUNDLED_CORPUS

    ingest(fake_settings, [DATA / "papers.jsonl"])
    read_all: list[int] = []  # vocabularies built from every paper, after the first ingest
    build = Vocabulary.build.__func__
    monkeypatch.setattr(Vocabulary, "build", classmethod(lambda cls, texts: read_all.append(1) or build(cls, texts)))
    ingest(fake_settings, [BUNDLED_CORPUS])
    fix = tmp_path / "fix.jsonl"
    fix.write_text(json.dumps({"id": "u1", "title": "Sparse Mixture of Gardeners", "abstract": "Gardeners route cucumbers."}) + "\n")
    ingest(fake_settings, [fix])
    some = sorted(open_index(fake_settings).papers)[:3]
    remove(fake_settings, [p for p in some if p != "u1"])
    assert read_all == []
    monkeypatch.undo()
    a = layout.require_generation(fake_settings.index_dir)

    scratch = fake_settings.model_copy(deep=True)
    scratch.index.data_dir = tmp_path / "scratch"
    final = tmp_path / "final.jsonl"
    final.write_text("".join(json.dumps(p.to_dict()) + "\n" for p in a.papers()))
    ingest(scratch, [final])
    b = layout.require_generation(scratch.index_dir)

    assert (a.path / CHUNKS).read_text() == (b.path / CHUNKS).read_text()
    assert np.array_equal(np.load(a.path / VECTORS), np.load(b.path / VECTORS))
    assert (a.path / VOCABULARY).read_text() == (b.path / VOCABULARY).read_text()
