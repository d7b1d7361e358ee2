"""The registry of input kinds, and the public record -> Paper mappings the arXiv feed reuses."""

from pathlib import Path

import pytest

from index.errors import BadInput
from index.sources.checks import checked_paper
from index.sources.records import arxiv_base_id, paper_from_arxiv, paper_from_record
from index.sources.registry import KINDS, SUPPORTED, expand_paths, kind_of, read_papers
from index.types import Paper

ABSTRACT = "We teach a robot to fold towels, " * 8  # a listing's abstract: 200 characters or more
SAMPLES = {  # the smallest valid file of every suffix
    ".txt": f"Towel Folding\n{ABSTRACT}\n",
    ".jsonl": '{"title": "Towel Folding", "abstract": "We fold."}\n',
    ".ndjson": '{"title": "Towel Folding", "abstract": "We fold."}\n',
    ".json": '[{"title": "Towel Folding", "abstract": "We fold."}]',
    ".csv": "title,abstract\nTowel Folding,We fold.\n",
    ".tsv": "title\tabstract\nTowel Folding\tWe fold.\n",
}


def test_registry_lists_every_kind_once():
    assert [k.name for k in KINDS] == ["listing", "records", "table"]
    assert SUPPORTED == sorted(SAMPLES)
    assert len(SUPPORTED) == len(set(SUPPORTED))  # no suffix claimed by two kinds
    assert {kind_of(Path(f"x{s.upper()}")).name for s in SUPPORTED} == {k.name for k in KINDS}


@pytest.mark.parametrize("suffix", sorted(SAMPLES))
def test_every_suffix_reads_through_its_kind(tmp_path: Path, suffix: str):
    path = tmp_path / f"papers{suffix}"
    path.write_text(SAMPLES[suffix])
    [paper] = read_papers(path)
    assert paper.title == "Towel Folding" and paper.sources == (f"{path}:{2 if suffix in ('.txt', '.csv', '.tsv') else 1}",)


def test_unknown_extension_is_the_clear_error(tmp_path: Path):
    pdf = tmp_path / "paper.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    expected = (
        f"{pdf}: unknown format '.pdf'; paperbot reads .txt abstract listings, JSONL/JSON "
        "(title+abstract, arXiv metadata, BEIR corpus.jsonl) and CSV/TSV with title,abstract columns "
        "(rename the file with one of .csv, .json, .jsonl, .ndjson, .tsv, .txt)."
    )
    for read in (read_papers, lambda p: expand_paths([p])):
        with pytest.raises(BadInput) as e:
            read(pdf)
        assert str(e.value) == expected
    with pytest.raises(BadInput, match=r"unknown format '\(no extension\)'"):
        kind_of(tmp_path / "README")


def test_arxiv_records_map_to_base_ids():
    assert [arxiv_base_id(i) for i in ("2401.01234v3", "0704.0001", "hep-th/9901001v2", "math.GT/0309136")] == [
        "2401.01234", "0704.0001", "hep-th/9901001", "math.GT/0309136",
    ]  # fmt: skip
    assert [arxiv_base_id(i) for i in ("2401.1234567", "doc-v2", "2401.01234v", "")] == [None] * 4
    old = paper_from_arxiv({"id": "hep-th/9901001v1", "title": "Strings", "abstract": " Dual\n models. "}, "oai:7")
    assert (old.id, old.url, old.abstract, old.sources) == (
        "hep-th/9901001", "https://arxiv.org/abs/hep-th/9901001", "Dual models.", ("oai:7",)
    )  # fmt: skip
    # the snapshot's records read from a file follow the same rule
    snapshot = {"id": "2401.00001v2", "abstract": "A.", "update_date": "2024-01-05"}
    assert paper_from_record(snapshot, "f.jsonl:1").id == "2401.00001"
    assert paper_from_record({"id": "doc-v2", "abstract": "A.", "update_date": "2024"}, "f:1").id == "doc-v2"


@pytest.mark.parametrize(
    "record, expect",
    [
        ({"title": "T", "abstract": "A."}, r"^arXiv record: no 'id'; an arXiv record needs its arXiv id"),
        ({"id": "doc-7", "abstract": "A."}, r"^arXiv:doc-7: 'id' 'doc-7' is not an arXiv id"),
        ({"id": "2401.00001", "abstract": ""}, r"^arXiv:2401.00001: no 'abstract' text"),
        ({"id": "2401.00001", "abstract": "A.", "title": 5}, r"'title' is a number"),
    ],
)
def test_bad_arxiv_records_are_clear_errors(record: dict, expect: str):
    with pytest.raises(BadInput, match=expect):
        paper_from_arxiv(record)


def test_checked_paper_keeps_clean_papers_as_they_are():
    clean = Paper(id="a", title="T", abstract="One two.", sources=("f:1",))
    assert checked_paper(clean, "here") is clean
    messy = Paper(id=" a ", title="T\u00a0x", abstract="One\n two.")
    assert checked_paper(messy, "here") == Paper(id="a", title="T x", abstract="One two.")
    with pytest.raises(BadInput, match="^here: 'sources' must be a tuple of strings"):
        checked_paper(Paper(id="a", title="", abstract="A.", sources=["f:1"]), "here")
