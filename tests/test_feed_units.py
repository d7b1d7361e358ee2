"""The arXiv feed's parts that need no server: ids and links, arXiv's recorded metadata read into
papers, LaTeX kept readable, versions and deletions through the real ingest, schedules."""

from datetime import datetime, timezone
from pathlib import Path

import pytest
from lxml import etree

from index.errors import BadInput
from index.feed.ids import ArxivRef, parse_ref, parse_refs
from index.feed.records import READERS
from index.feed.schedule import next_due
from index.ingest import ingest_papers
from index.reader import open_index
from index.settings.feed import FeedSettings, interval_seconds
from index.sources.records import paper_from_arxiv, paper_from_record
from index.text import readable_latex

RECORDED = Path(__file__).parent / "data" / "arxiv"


@pytest.mark.parametrize(
    "text, ref",
    [
        ("2401.01234", ArxivRef("2401.01234")),
        ("2401.01234v3", ArxivRef("2401.01234", 3)),
        ("hep-th/9901001", ArxivRef("hep-th/9901001")),
        ("hep-th/9901001v2", ArxivRef("hep-th/9901001", 2)),  # never split on "v": archives contain it
        ("math.GT/0309136", ArxivRef("math.GT/0309136")),
        ("arXiv:2401.01234", ArxivRef("2401.01234")),
        ("https://arxiv.org/abs/2401.01234v2", ArxivRef("2401.01234", 2)),
        ("https://arxiv.org/pdf/2401.01234v1.pdf", ArxivRef("2401.01234", 1)),
        ("http://export.arxiv.org/abs/hep-th/9901001", ArxivRef("hep-th/9901001")),
        ("<https://arxiv.org/abs/2401.01234|arxiv.org/abs/2401.01234>", ArxivRef("2401.01234")),  # as Slack sends links
    ],
)
def test_ids_and_links(text, ref):
    assert parse_ref(text) == ref


def test_what_is_not_an_id_is_named_and_nothing_is_taken():
    with pytest.raises(BadInput, match=r"not arXiv ids or links: 1234, https://example.org/abs/2401.01234"):
        parse_refs(["2401.01234 1234", "https://example.org/abs/2401.01234"])
    assert parse_refs(["2401.01234, 2401.01234", "2401.01235"]) == [ArxivRef("2401.01234"), ArxivRef("2401.01235")]


def _recorded(name: str, prefix: str) -> list[dict]:
    tag, read = READERS[prefix]
    return [read(m) for m in etree.parse(str(RECORDED / name)).getroot().iter(tag)]


def test_recorded_arxivraw_page_becomes_papers():
    papers = [paper_from_arxiv(r) for r in _recorded("oai_listrecords_arxivraw_2015.xml", "arXivRaw")]
    assert [p.id for p in papers] == ["0704.0471", "0704.0716", "0704.1586"]
    first, second = papers[0], papers[1]
    assert first.authors == "D.V. Shetty, S.J. Yennello, G.A. Souliotis"  # ", and" as a separator
    assert first.categories == ("nucl-ex", "nucl-th") and first.date == "2007-04-03" and first.updated == ""
    assert first.url == "https://arxiv.org/abs/0704.0471"
    assert first.abstract.startswith("The density dependence") and "\n" not in first.abstract
    assert "  " not in first.title and '" stiff "' in first.abstract
    assert second.date == "2007-04-05" and second.updated > second.date  # v1 date, last version date


def test_recorded_arxiv_format_record_becomes_a_paper():
    [paper] = [paper_from_arxiv(r) for r in _recorded("oai_listrecords_arxiv_2013.xml", "arXiv")]
    assert paper.id == "0801.3931" and paper.categories == ("astro-ph",)
    assert paper.authors == "T. Manos, E. Athanassoula" and paper.date == "2008-01-25"


def test_a_snapshot_file_record_and_a_feed_record_are_the_same_paper():
    snapshot = paper_from_record(
        {"id": "0704.0716", "abstract": "x y", "update_date": "2008-11-13", "categories": "math-ph math.MP",
         "versions": [{"version": "v1", "created": "Thu, 5 Apr 2007 12:45:03 GMT"},
                      {"version": "v2", "created": "Fri, 14 Nov 2008 10:00:00 GMT"}]},
        "snapshot.jsonl:1",
    )  # fmt: skip
    feed = paper_from_arxiv({"id": "0704.0716v2", "abstract": "x y", "published": "2007-04-05T12:45:03Z",
                             "updated": "2008-11-14T10:00:00Z", "categories": ["math-ph", "math.MP"]})  # fmt: skip
    assert (snapshot.id, snapshot.date, snapshot.updated, snapshot.categories) == (
        feed.id, feed.date, feed.updated, feed.categories,
    )  # fmt: skip


@pytest.mark.parametrize("given", ["2401.01234v2", "arXiv:2401.01234", "2401.01234"])
def test_a_file_record_with_an_arxiv_id_is_that_arxiv_paper(given):
    paper = paper_from_record({"id": given, "title": "T", "abstract": "A b c."}, "mine.jsonl:1")
    assert (paper.id, paper.url) == ("2401.01234", "https://arxiv.org/abs/2401.01234")
    assert paper_from_record({"id": "p-17", "abstract": "A b c."}, "mine.jsonl:2").url == ""  # other ids: as given


@pytest.mark.parametrize(
    "tex, text",
    [
        (r"C. Bal\'azs", "C. Balázs"),
        (r"Schr\"odinger", "Schrödinger"),
        (r"{\'E}cole", "École"),
        (r"Erd\H{o}s", "Erdős"),
        (r"\c{c}a", "ça"),
        (r"\'{\i}ndice", "índice"),
        (r"Stra\ss e", "Straße"),
        (r"{\o}ystein", "øystein"),
        (r"\L{}ukasz", "Łukasz"),
        (r"$\mathcal{O}(n \log n)$ with \alpha", r"$\mathcal{O}(n \log n)$ with \alpha"),  # math kept
    ],
)
def test_tex_accents_become_letters_and_math_stays(tex, text):
    assert readable_latex(tex) == text


def _paper(version: int, title: str, abstract: str, **extra):
    return paper_from_arxiv({"id": f"2401.00001v{version}", "title": title, "abstract": abstract, **extra}, "arXiv:2401.00001")


def test_a_new_version_replaces_title_and_abstract_and_deletions_remove(fake_settings, counting_embedder):
    emb = counting_embedder
    other = paper_from_arxiv({"id": "2401.00002", "title": "Other", "abstract": "Another paper about socks."})
    v1 = _paper(1, "Socks v1", "We sort socks with a transformer.", categories="cs.LG")
    ingest_papers(fake_settings, [v1, other], embedder=emb)
    # A second version with the same abstract and a new title: still the newer version.
    v2 = _paper(2, "Socks, revised", "We sort socks with a transformer.", categories="cs.LG cs.CV",
                updated="2024-02-01")  # fmt: skip
    report = ingest_papers(fake_settings, [v2], embedder=emb)
    assert (report.new_papers, report.changed_papers, report.papers) == (0, 1, 2)
    papers = open_index(fake_settings, embedder=emb).papers
    assert papers["2401.00001"].title == "Socks, revised" and papers["2401.00001"].categories == ("cs.LG", "cs.CV")
    gone = ingest_papers(fake_settings, [], removed=["2401.00001", "9999.99999"], embedder=emb)
    assert gone.removed == 1 and set(open_index(fake_settings, embedder=emb).papers) == {"2401.00002"}
    # Removing the last paper would leave an empty index: nothing is removed.
    kept = ingest_papers(fake_settings, [], removed=["2401.00002"], embedder=emb)
    assert kept.unchanged and kept.removed == 0


def test_schedules():
    at = datetime(2026, 12, 6, 20, 0, tzinfo=timezone.utc)
    assert next_due("24h", at) == datetime(2026, 12, 7, 20, 0, tzinfo=timezone.utc)
    assert next_due("03:30", at) == datetime(2026, 12, 7, 3, 30, tzinfo=timezone.utc)
    assert next_due("21:00", at) == datetime(2026, 12, 6, 21, 0, tzinfo=timezone.utc)
    assert interval_seconds("90m") == 5400 and interval_seconds("2d") == 172800
    for bad in ("0h", "daily", "25:00"):
        with pytest.raises(ValueError):
            FeedSettings(schedule=bad) if ":" in bad or bad == "daily" else interval_seconds(bad)
    with pytest.raises(ValueError, match="not an arXiv OAI-PMH set"):
        FeedSettings(sets=["cs.CL"])
    assert FeedSettings(sets=["cs", "cs:cs:CL", "physics:hep-th"]).sets[1] == "cs:cs:CL"


def test_a_withdrawal_is_a_deletion():
    """arXiv's current OAI server shows a withdrawn paper as a new, empty version of source type I."""
    from index.feed.records import RAW, withdrawn

    def raw(*types: str):
        versions = "".join(
            f'<version version="v{i}"><date>Tue, 03 Apr 2007 22:04:11 GMT</date><size>1kb</size>'
            f"<source_type>{t}</source_type></version>" for i, t in enumerate(types, 1)
        )
        return etree.fromstring(f'<arXivRaw xmlns="{RAW[1:-1]}"><id>0704.0001</id>{versions}</arXivRaw>')

    assert withdrawn(raw("D", "I")) and not withdrawn(raw("D")) and not withdrawn(raw("I", "D"))
