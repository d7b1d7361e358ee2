"""``ingest_papers``: papers built in memory (as issue 24's arXiv feed and ``paperbot add`` will
build them) go into the index through the real parts — merge, chunks, the embedding cache, BM25 and
the generation on disk — with the fake embedder."""

from pathlib import Path

import pytest

from index.errors import BadInput
from index.ingest import ingest, ingest_papers
from index.reader import open_index
from index.sources.records import paper_from_arxiv
from index.types import Paper

DATA = Path(__file__).parent / "data"

ABSTRACT = (
    "We train a small transformer to sort socks by colour and pattern, and show that it pairs "
    "ninety percent of a laundry basket without supervision."
)
SOCKS = Paper(id="socks-1", title="Sorting Socks with Transformers", abstract=ABSTRACT, url="https://example.org/s")


def current(settings) -> str:
    return (settings.index_dir / "CURRENT").read_text()


def indexed(settings, embedder) -> list[Paper]:
    return list(open_index(settings, embedder=embedder).papers.values())


def test_new_paper_then_the_same_again_then_a_correction(fake_settings, counting_embedder):
    emb = counting_embedder
    first = ingest_papers(fake_settings, [SOCKS], source="test", embedder=emb)
    assert (first.files, first.records, first.papers, first.new_papers) == (0, 1, 1, 1)
    assert first.embedded == first.chunks > 0 and "file(s)" not in first.summary()
    [paper] = indexed(fake_settings, emb)
    assert paper == SOCKS

    n = len(emb.embedded)
    again = ingest_papers(fake_settings, iter([SOCKS]), embedder=emb)  # any iterable
    assert again.unchanged and again.generation == first.generation and len(emb.embedded) == n
    assert again.summary().startswith("Nothing new: 1 records are already in the index (1 papers).")

    fixed = Paper(id="socks-1", title=SOCKS.title, abstract=ABSTRACT.replace("ninety", "ninety-five"))
    corrected = ingest_papers(fake_settings, [fixed], embedder=emb)
    assert (corrected.papers, corrected.new_papers, corrected.changed_papers) == (1, 0, 1)
    assert corrected.generation != first.generation
    [paper] = indexed(fake_settings, emb)
    assert "ninety-five percent" in paper.abstract and paper.url == SOCKS.url  # kept from the first copy
    assert all("ninety-five" in t for t in emb.embedded[n:])


def test_a_bad_paper_stops_with_nothing_written(fake_settings, counting_embedder):
    empty = Paper(id="empty-1", title="No Abstract Here", abstract="  \n ")
    with pytest.raises(BadInput, match=r"arXiv feed #2 \(id 'empty-1'\): no abstract text"):
        ingest_papers(fake_settings, [SOCKS, empty], source="arXiv feed", embedder=counting_embedder)
    assert not fake_settings.index_dir.exists() and counting_embedder.embedded == []

    ingest_papers(fake_settings, [SOCKS], embedder=counting_embedder)
    before = current(fake_settings)
    for bad, expect in [
        (Paper(id="", title="t", abstract=ABSTRACT), "no id"),
        (Paper(id="x", title=None, abstract=ABSTRACT), "'title' is NoneType, not text"),
        (Paper(id="x", title="t", abstract="a" * 20_001), "abstract of 20,001 characters"),
        (Paper(id="x", title="t", abstract="broken \ud800 escape"), "lone UTF-16 surrogate"),
    ]:
        with pytest.raises(BadInput, match=expect) as e:
            ingest_papers(fake_settings, [SOCKS, bad], embedder=counting_embedder)
        assert str(e.value).startswith("papers given #2 (id ") and "\n" not in str(e.value)
    # a paper that names its own source (a file's "path:line") is named by it
    with pytest.raises(BadInput, match=r"^f\.jsonl:9: no abstract text"):
        ingest_papers(fake_settings, [Paper(id="y", title="t", abstract="", sources=("f.jsonl:9",))])
    assert current(fake_settings) == before
    assert indexed(fake_settings, counting_embedder) == [SOCKS]


def test_whitespace_is_normalised_and_nothing_given_is_a_clear_error(fake_settings, counting_embedder):
    with pytest.raises(BadInput, match="no papers, and .* has none yet; nothing was written"):
        ingest_papers(fake_settings, [], embedder=counting_embedder)
    messy = Paper(id="m", title="  A\tMessy\nTitle ", abstract=f"\n  {ABSTRACT}\n")
    ingest_papers(fake_settings, [messy], embedder=counting_embedder)
    [paper] = indexed(fake_settings, counting_embedder)
    assert (paper.title, paper.abstract) == ("A Messy Title", ABSTRACT)
    assert ingest_papers(fake_settings, [], embedder=counting_embedder).unchanged  # an index: no-op


def test_an_arxiv_paper_from_a_file_and_from_the_feed_is_one_paper(fake_settings, counting_embedder):
    from_file = ingest(fake_settings, [DATA / "arxiv.json"], embedder=counting_embedder)
    assert (from_file.files, from_file.records) == (1, 1)
    record = {
        "id": "2401.00001v2",
        "title": "Compilers for Cats",
        "abstract": "We present a compiler that turns cat behaviour into\nexecutable programs, now with dogs.",
        "authors": [["Hopper", "Grace", ""], ["Dijkstra", "Edsger", ""]],
    }
    v2 = paper_from_arxiv(record)
    assert (v2.id, v2.url, v2.sources) == ("2401.00001", "https://arxiv.org/abs/2401.00001", ("arXiv:2401.00001v2",))
    report = ingest_papers(fake_settings, [v2], source="arXiv feed", embedder=counting_embedder)
    assert (report.papers, report.new_papers, report.changed_papers) == (1, 0, 1)
    [paper] = indexed(fake_settings, counting_embedder)
    assert paper.abstract.endswith("now with dogs.") and paper.authors == "Grace Hopper, Edsger Dijkstra"
