"""The arXiv stand-in (evals/bench/arxiv_standin.py) answers in arXiv's real shapes, checked against the recorded
responses in tests/data/arxiv/, pages and fails as arXiv does, and is read by the real client libraries."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from lxml import etree

from evals.bench.arxiv_synthetic import synthetic_records
from evals.bench.arxiv_standin import (
    ArxivStandin,
    Fault,
    StandinRecord,
    empty_page,
    oai_error,
    tex_to_unicode,
    wrap_abstract,
    wrap_field,
)

DATA = Path(__file__).parent / "data" / "arxiv"
NS = {"o": "http://www.openarchives.org/OAI/2.0/", "raw": "http://arxiv.org/OAI/arXivRaw/",
      "ax": "http://arxiv.org/OAI/arXiv/", "a": "http://www.w3.org/2005/Atom"}  # fmt: skip
# Fields arXiv sends that the stand-in does not model; shapes are compared without them.
UNMODELLED = {"msc-class", "journal-ref", "doi", "source_type", "journal_ref"}


def record(id_, cats=("cs.CL",), day="2024-03-05", versions=None, **kw) -> StandinRecord:
    fields = {"title": f"Paper {id_}", "abstract": f"We study {id_} in depth.", "authors": ["A. Author"],
              "categories": list(cats), "versions": versions or [day], "datestamp": day} | kw  # fmt: skip
    return StandinRecord(id=id_, **fields)


def get(url: str, **params) -> tuple[int, bytes, dict]:
    """GET with plain urllib; HTTP errors come back as (status, body, headers) too."""
    full = f"{url}?{urllib.parse.urlencode(params)}" if params else url
    request = urllib.request.Request(full, headers={"User-Agent": "paperbot-tests (mailto:test@example.org)"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)


def oai(arxiv: ArxivStandin, **params) -> etree._Element:
    status, body, _ = get(arxiv.oai_url, **params)
    assert status == 200
    return etree.fromstring(body)


def shape(element: etree._Element) -> list[tuple[str, tuple[str, ...]]]:
    """Every element in document order, as ({namespace}name, attribute names), leaving out unmodelled fields."""
    out = []
    for e in element.iter():
        if etree.QName(e).localname in UNMODELLED or (e.tag.endswith("}link") and e.get("title") == "doi"):
            continue
        out.append((e.tag, tuple(sorted(e.attrib))))
    return out


def sample(name: str) -> etree._Element:
    return etree.parse(str(DATA / name)).getroot()


def harvest(arxiv: ArxivStandin, **params) -> tuple[list[str], list[etree._Element]]:
    """Follow a ListRecords chain; the identifiers and the resumptionToken element of each page."""
    ids, tokens = [], []
    while True:
        root = oai(arxiv, verb="ListRecords", **params)
        ids += root.xpath("//o:record/o:header/o:identifier/text()", namespaces=NS)
        token = root.find(".//o:resumptionToken", NS)
        tokens.append(token)
        if token is None or not (token.text or "").strip():
            return ids, tokens
        params = {"resumptionToken": token.text}


# -- the recorded shapes ----------------------------------------------------------------------------------------
def test_wrapping_reproduces_the_recorded_titles_comments_and_abstracts():
    raw = sample("oai_listrecords_arxivraw_2015.xml")
    legacy_api = sample("api_entry_1111.2011v2_2016.xml")
    pairs = [(e, "Title") for e in raw.iterfind(".//raw:title", NS)]
    pairs += [(e, "Comments") for e in raw.iterfind(".//raw:comments", NS)]
    pairs += [(e, "Title") for e in legacy_api.iterfind(".//a:entry/a:title", NS)]
    for element, label in pairs:
        assert wrap_field(label, " ".join(element.text.split())) == element.text
    for element in raw.findall(".//raw:abstract", NS) + legacy_api.findall(".//a:summary", NS):
        assert wrap_abstract(" ".join(element.text.split())) == element.text


def test_a_legacy_arxivraw_record_has_the_recorded_shape():
    recorded = sample("oai_listrecords_arxivraw_2015.xml").xpath("//o:record[2]", namespaces=NS)[0]
    text = lambda path, root: root.xpath(path, namespaces=NS)  # noqa: E731
    abstract = " ".join(text(".//raw:abstract/text()", recorded)[0].split())
    paper = StandinRecord(
        id="0704.0716", title="Limit distributions and scaling functions", abstract=abstract,
        authors=["Christoph Richard"], categories=["math-ph", "math.MP"], datestamp="2014-12-22",
        versions=["2007-04-05T12:45:03", "2007-09-28T15:13:43", "2008-02-29T16:05:39", "2008-11-14T09:07:25"],
        comments=" ".join(text(".//raw:comments/text()", recorded)[0].split()),
        license="http://arxiv.org/licenses/nonexclusive-distrib/1.0/")  # fmt: skip
    with ArxivStandin(style="legacy") as arxiv:
        arxiv.put(paper)
        ours = oai(arxiv, verb="ListRecords", metadataPrefix="arXivRaw").find(".//o:record", NS)
    assert shape(ours) == shape(recorded)
    for path in ("o:header/o:setSpec/text()", ".//raw:version/raw:date/text()", ".//raw:title/text()",
                 ".//raw:comments/text()", ".//raw:abstract/text()", ".//raw:categories/text()"):  # fmt: skip
        assert text(path, ours) == text(path, recorded), path


def test_a_legacy_arxiv_format_record_has_the_recorded_shape():
    recorded = sample("oai_listrecords_arxiv_2013.xml").find(".//o:record", NS)
    paper = StandinRecord(
        id="0801.3931", title="Dynamical study of 2D and 3D barred galaxy models", abstract="x",
        authors=["T. Manos", "E. Athanassoula"], categories=["astro-ph"], versions=["2008-01-25"],
        datestamp="2013-03-26", comments="8 pages", license="")  # fmt: skip
    with ArxivStandin(style="legacy") as arxiv:
        arxiv.put(paper)
        ours = oai(arxiv, verb="ListRecords", metadataPrefix="arXiv").find(".//o:record", NS)
    assert shape(ours) == shape(recorded)
    for path in (".//ax:keyname/text()", ".//ax:forenames/text()", ".//ax:created/text()", "o:header/o:setSpec/text()"):
        assert ours.xpath(path, namespaces=NS) == recorded.xpath(path, namespaces=NS), path


def test_the_legacy_oai_error_has_the_recorded_shape():
    recorded = sample("oai_error_badresumptiontoken_2015.xml")
    with ArxivStandin(style="legacy") as arxiv:
        ours = oai(arxiv, verb="ListRecords", resumptionToken="3")
    assert shape(ours) == shape(recorded)
    for path in ("o:request/@verb", "o:request/@resumptionToken", "o:error/@code", "o:error/text()"):
        assert ours.xpath(path, namespaces=NS) == recorded.xpath(path, namespaces=NS), path


@pytest.mark.parametrize(("style", "name", "asked"), [("current", "api_entry_1605.08386_2026.xml", "1605.08386"),
                                                      ("legacy", "api_entry_1111.2011v2_2016.xml", "1111.2011v2")])
def test_an_api_feed_has_the_recorded_shape(style, name, asked):
    recorded = sample(name)
    entry = recorded.find("a:entry", NS)
    times = {etree.QName(e).localname: e.text for e in entry}
    paper = StandinRecord(
        id=asked.removesuffix("v2"), title=" ".join(entry.findtext("a:title", namespaces=NS).split()),
        abstract=" ".join(entry.findtext("a:summary", namespaces=NS).split()),
        authors=entry.xpath("a:author/a:name/text()", namespaces=NS),
        categories=entry.xpath("a:category/@term", namespaces=NS), datestamp="2020-01-01",
        versions=[t.rstrip("Z") for t in dict.fromkeys([times["published"], times["updated"]])],
        comments=entry.xpath("*[local-name()='comment']/text()", namespaces=NS)[0])  # fmt: skip
    with ArxivStandin(style=style) as arxiv:
        arxiv.put(paper)
        status, body, headers = get(arxiv.api_url, id_list=asked, max_results=recorded.findtext(".//{*}itemsPerPage"))
    ours = etree.fromstring(body)
    assert status == 200 and headers["Content-Type"].startswith("application/atom+xml")
    assert shape(ours) == shape(recorded)
    ours_entry = ours.find("a:entry", NS)
    for child in ("id", "title", "summary", "updated", "published"):
        assert ours_entry.findtext(f"a:{child}", namespaces=NS) == entry.findtext(f"a:{child}", namespaces=NS), child
    links = "a:link[not(@title='doi')]/@href"
    assert ours_entry.xpath(links, namespaces=NS) == entry.xpath(links, namespaces=NS)


def test_a_malformed_id_gets_the_recorded_error_feed():
    recorded = sample("api_error_incorrect_id_2026.xml")
    with ArxivStandin() as arxiv:
        status, body, _ = get(arxiv.api_url, id_list="not-an-id")
        prefixed, _, _ = get(arxiv.api_url, id_list="arXiv:2401.01234")
    ours = etree.fromstring(body)
    assert status == 400 and prefixed == 400  # arXiv answers 400 with the feed
    assert shape(ours) == shape(recorded)
    error_id = "https://arxiv.org/api/errors#incorrect_id_format_for_not-an-id"
    assert ours.findtext("a:entry/a:id", namespaces=NS) == error_id
    assert ours.findtext("a:entry/a:summary", namespaces=NS) == "incorrect id format for not-an-id"
    assert ours.findtext("{*}totalResults") == "1"


# -- OAI-PMH behaviour ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("style", ["current", "legacy"])
def test_a_three_page_resumption_chain(style):
    papers = [record(f"2403.0000{i}", day="2024-03-04" if i < 3 else "2024-03-05") for i in range(5)]
    with ArxivStandin(page_size=2, style=style) as arxiv:
        arxiv.put(*reversed(papers))
        ids, tokens = harvest(arxiv, metadataPrefix="arXivRaw", **{"from": "2024-03-01"})
        resumed = [{"verb": "ListRecords", "resumptionToken": t.text} for t in tokens[:2]]
        assert [r.params for r in arxiv.requests][1:] == resumed  # the token alone, as OAI-PMH wants
    assert ids == [f"oai:arXiv.org:{p.id}" for p in papers]  # ordered by (datestamp, id), none twice
    first, second, last = tokens
    if style == "current":  # oaipmh.arxiv.org: only expirationDate; the last page of a resumed list <resumptionToken/>
        assert [set(t.attrib) for t in (first, second)] == [{"expirationDate"}] * 2
        assert first.get("expirationDate").endswith("T00:00:00Z")
        assert "skip%3D" in first.text  # the query itself, quoted
        assert last.attrib == {} and last.text is None
    else:  # export.arxiv.org/oai2: cursor and completeListSize, the last token empty
        assert [(t.get("cursor"), t.get("completeListSize")) for t in tokens] == [("0", "5"), ("2", "5"), ("4", "5")]
        assert first.text.endswith("|3") and second.text == first.text.replace("|3", "|5") and not last.text


def test_a_list_that_fits_one_page_has_no_token():
    with ArxivStandin() as arxiv:
        arxiv.put(record("2403.00001"))
        ids, tokens = harvest(arxiv, metadataPrefix="arXiv")
    assert ids == ["oai:arXiv.org:2403.00001"] and tokens == [None]


def test_dates_and_no_records_match():
    with ArxivStandin() as arxiv:
        arxiv.put(record("2403.00001", day="2024-03-04"), record("2403.00002", day="2024-03-05"))
        assert harvest(arxiv, metadataPrefix="arXivRaw", until="2024-03-04")[0] == ["oai:arXiv.org:2403.00001"]
        assert harvest(arxiv, metadataPrefix="arXivRaw", **{"from": "2024-03-05"})[0] == ["oai:arXiv.org:2403.00002"]
        empty = oai(arxiv, verb="ListRecords", metadataPrefix="arXivRaw", **{"from": "2024-03-06"})
        bad_date = oai(arxiv, verb="ListRecords", metadataPrefix="arXivRaw", **{"from": "2024-3-6"})
        bad_prefix = oai(arxiv, verb="ListRecords", metadataPrefix="marc21")
    assert empty.find("o:error", NS).get("code") == "noRecordsMatch"
    assert bad_date.find("o:error", NS).get("code") == "badArgument"
    assert bad_prefix.find("o:error", NS).get("code") == "cannotDisseminateFormat"


@pytest.mark.parametrize("style", ["current", "legacy"])
def test_sets_and_a_cross_listed_paper(style):
    papers = [record("2403.00001", ("cs.CL", "stat.ML")), record("2403.00002", ("cs.LG",)),
              record("2403.00003", ("math.OC",)), record("hep-th/9901001", ("hep-th",))]  # fmt: skip
    with ArxivStandin(style=style) as arxiv:
        arxiv.put(*papers)
        found = {s: [i.rsplit(":", 1)[1] for i in harvest(arxiv, metadataPrefix="arXiv", set=s)[0]]
                 for s in ("cs", "cs:cs:CL", "stat", "math", "physics:hep-th")}  # fmt: skip
        first = oai(arxiv, verb="ListRecords", metadataPrefix="arXiv")
        specs = first.xpath("(//o:header)[1]/o:setSpec/text()", namespaces=NS)
    assert found == {"cs": ["2403.00001", "2403.00002"], "cs:cs:CL": ["2403.00001"], "stat": ["2403.00001"],
                     "math": ["2403.00003"], "physics:hep-th": ["hep-th/9901001"]}  # fmt: skip
    assert specs == (["cs:cs:CL", "stat:stat:ML"] if style == "current" else ["cs", "stat"])


def test_a_deleted_record_is_a_header_alone():
    with ArxivStandin() as arxiv:
        arxiv.put(record("2403.00001", ("cs.CL", "cs.LG"), deleted=True))
        root = oai(arxiv, verb="ListRecords", metadataPrefix="arXivRaw")
        _, api, _ = get(arxiv.api_url, id_list="2403.00001")
    rec = root.find(".//o:record", NS)
    header = rec.find("o:header", NS)
    assert header.get("status") == "deleted" and rec.find("o:metadata", NS) is None
    assert [etree.QName(e).localname for e in header] == ["identifier", "datestamp", "setSpec", "setSpec"]
    assert etree.fromstring(api).find("a:entry", NS) is None


def test_bad_and_expired_resumption_tokens():
    with ArxivStandin(page_size=1) as arxiv:
        arxiv.put(record("2403.00001"), record("2403.00002"))
        unknown = oai(arxiv, verb="ListRecords", resumptionToken="rainbow")
        with_more = oai(arxiv, verb="ListRecords", resumptionToken="x", metadataPrefix="arXivRaw")
        page = oai(arxiv, verb="ListRecords", metadataPrefix="arXivRaw")
        token = page.findtext(".//o:resumptionToken", namespaces=NS)
        assert oai(arxiv, verb="ListRecords", resumptionToken=token).find("o:error", NS) is None  # tokens are reusable
        arxiv.expire_tokens()
        expired = oai(arxiv, verb="ListRecords", resumptionToken=token)
    assert unknown.find("o:error", NS).get("code") == "badResumptionToken"
    assert with_more.find("o:error", NS).get("code") == "badArgument"
    assert expired.find("o:error", NS).get("code") == "badResumptionToken"


def test_identify_and_bad_verb():
    with ArxivStandin() as arxiv:
        identify = oai(arxiv, verb="Identify")
        bad = oai(arxiv, verb="ListFrogs")
    assert identify.findtext("o:Identify/o:granularity", namespaces=NS) == "YYYY-MM-DD"
    assert bad.find("o:error", NS).get("code") == "badVerb"


# -- faults and the request log ---------------------------------------------------------------------------------
def test_faults_come_in_order_then_normal_answers():
    with ArxivStandin() as arxiv:
        arxiv.put(record("2403.00001"))
        malformed = Fault(200, body="<OAI-PMH><ListRecords><record>")
        arxiv.fail_next(Fault(503, retry_after="2"), Fault(429, retry_after="1"), Fault(403), malformed,
                        oai_error("badArgument", "nope"))  # fmt: skip
        answers = [get(arxiv.oai_url, verb="ListRecords", metadataPrefix="arXivRaw") for _ in range(6)]
        seen = [(r.path, r.status, r.user_agent) for r in arxiv.requests]
    assert [a[0] for a in answers] == [503, 429, 403, 200, 200, 200]
    assert answers[0][2]["Retry-After"] == "2" and answers[1][2]["Retry-After"] == "1"
    assert "Retry-After" not in answers[2][2]
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(answers[3][1])
    assert b"<error code='badArgument'>nope</error>" in answers[4][1]
    assert etree.fromstring(answers[5][1]).find(".//o:record", NS) is not None
    assert seen[0] == ("/oai", 503, "paperbot-tests (mailto:test@example.org)")
    assert all(r.ended >= r.started for r in arxiv.requests)


def test_an_empty_page_continues_to_the_real_first_page():
    with ArxivStandin() as arxiv:
        arxiv.put(record("2403.00001"), record("2403.00002"))
        arxiv.fail_next(empty_page())
        ids, tokens = harvest(arxiv, metadataPrefix="arXivRaw")
        first = oai(arxiv, verb="ListRecords", metadataPrefix="arXivRaw")
    assert ids == ["oai:arXiv.org:2403.00001", "oai:arXiv.org:2403.00002"] and len(tokens) == 2
    assert len(first.findall(".//o:record", NS)) == 2


def test_max_in_flight_counts_overlapping_requests():
    with ArxivStandin() as arxiv:
        for _ in range(3):
            get(arxiv.oai_url, verb="Identify")
        assert arxiv.max_in_flight == 1
        arxiv.fail_next(Fault(status=200, delay_s=0.5))  # a slow but normal answer
        slow = threading.Thread(target=get, args=(arxiv.oai_url,), kwargs={"verb": "Identify"})
        slow.start()
        deadline = time.monotonic() + 5
        while not any(r.ended is None for r in arxiv.requests) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert get(arxiv.oai_url, verb="Identify")[0] == 200
        slow.join(timeout=10)
    assert arxiv.max_in_flight == 2
    assert arxiv.requests[-2].ended - arxiv.requests[-2].started >= 0.5


# -- the export API ---------------------------------------------------------------------------------------------
def test_api_versions_unknown_ids_and_order():
    paper = record("2401.01234", versions=["2024-01-02T10:00:00", "2024-02-10T11:30:00"],
                   authors=["C. Bal\\'azs", "Ko\\c{c} Ay\\c{s}e"])  # fmt: skip
    with ArxivStandin() as arxiv:
        arxiv.put(paper, record("hep-th/9901001", ("hep-th",)))
        _, latest, _ = get(arxiv.api_url, id_list="2401.01234")
        _, v1, _ = get(arxiv.api_url, id_list="2401.01234v1")
        _, mixed, _ = get(arxiv.api_url, id_list="hep-th/9901001,2401.99999,2401.01234v3,2401.01234")
    entry = etree.fromstring(latest).find("a:entry", NS)
    assert entry.findtext("a:id", namespaces=NS) == "http://arxiv.org/abs/2401.01234v2"
    assert entry.findtext("a:published", namespaces=NS) == "2024-01-02T10:00:00Z"
    assert entry.findtext("a:updated", namespaces=NS) == "2024-02-10T11:30:00Z"
    assert entry.xpath("a:author/a:name/text()", namespaces=NS) == ["C. Balázs", "Koç Ayşe"]
    assert etree.fromstring(v1).findtext("a:entry/a:id", namespaces=NS) == "http://arxiv.org/abs/2401.01234v1"
    feed = etree.fromstring(mixed)
    assert feed.xpath("a:entry/a:id/text()", namespaces=NS) == ["http://arxiv.org/abs/hep-th/9901001v1",
                                                                "http://arxiv.org/abs/2401.01234v2"]  # fmt: skip
    assert feed.findtext("{*}totalResults") == "2"


def test_tex_accents_become_unicode():
    names = "Bal\\'azs M\\\"uller Ko\\c{c} Dvo\\v{r}\\'ak {\\'E}mile"
    assert tex_to_unicode(names) == "Balázs Müller Koç Dvořák Émile"


# -- the real client libraries ----------------------------------------------------------------------------------
def test_oaipmh_scythe_harvests_the_stand_in():
    from oaipmh_scythe import Scythe
    from oaipmh_scythe.config import HTTPConfig

    papers = synthetic_records(5, "2024-03-05")
    with ArxivStandin(page_size=2) as arxiv:
        arxiv.put(*papers)
        with Scythe(arxiv.oai_url, http_config=HTTPConfig(timeout=10)) as scythe:
            harvested = list(scythe.list_records(metadata_prefix="arXivRaw"))
    expected = [f"oai:arXiv.org:{p.id}" for p in sorted(papers, key=lambda p: p.id)]  # one day: ordered by id
    assert [r.header.identifier for r in harvested] == expected
    live = [r for r in harvested if not r.deleted]
    assert live and all(r.metadata["title"] for r in live)


def test_feedparser_reads_the_api_feed_and_the_error_feed():
    import feedparser

    with ArxivStandin() as arxiv:
        arxiv.put(record("2401.01234", ("cs.CL", "cs.LG")))
        _, body, _ = get(arxiv.api_url, id_list="2401.01234")
        _, error, _ = get(arxiv.api_url, id_list="abc")
    feed = feedparser.parse(body)
    assert not feed.bozo and feed.entries[0].id == "http://arxiv.org/abs/2401.01234v1"
    assert feed.entries[0].arxiv_primary_category["term"] == "cs.CL"
    assert [t.term for t in feed.entries[0].tags] == ["cs.CL", "cs.LG"]
    assert feedparser.parse(error).entries[0].id.startswith("https://arxiv.org/api/errors#")


# -- synthetic records ------------------------------------------------------------------------------------------
def test_synthetic_records_look_like_a_day_of_arxiv():
    day = synthetic_records(500, "2024-03-05", seed=3)
    assert day == synthetic_records(500, "2024-03-05", seed=3)
    assert not {r.id for r in day} & {r.id for r in synthetic_records(500, "2024-03-06", seed=3)}
    words = [len(r.abstract.split()) for r in day]
    assert 150 <= min(words) and max(words) <= 250
    assert 0.12 < sum(len(r.categories) > 1 for r in day) / 500 < 0.28
    assert 0.05 < sum(len(r.versions) > 1 for r in day) / 500 < 0.15
    assert 0 < sum(r.deleted for r in day) < 20
    assert any("\\mathcal" in r.abstract for r in day) and any("\\'" in " ".join(r.authors) for r in day)
    assert all(r.datestamp == "2024-03-05" and r.versions[-1] == "2024-03-05" for r in day)
