import json
from pathlib import Path

import pytest

from index.errors import BadInput
from index.settings import BUNDLED_CORPUS
from index.ingest import read_inputs
from index.papers import merge_papers
from index.sources.checks import MAX_ABSTRACT_CHARS
from index.sources.registry import read_papers
from index.text import paper_id

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def bundled():
    files, records = read_inputs([BUNDLED_CORPUS])
    return files, records, {p.id: p for p in merge_papers([], records)}


def test_bundled_corpus_counts(bundled):
    files, records, papers = bundled
    assert len(files) == 5
    assert len(records) == 407  # 10 + 10 untitled, 73 + 55 + 259 titled
    assert len(papers) == 398  # 6 untitled repeats and 3 titled repeats merged
    assert sum(1 for p in papers.values() if not p.title) == 14


def test_bundled_corpus_by_hand(bundled):
    _, _, papers = bundled
    titles = {p.title: p for p in papers.values()}
    # glued to "Subscribe" in 004
    assert "AttentionGS: Towards Initialization-Free 3D Gaussian Splatting via Structural Attention" in titles
    assert not any(t.startswith("Subscribe") for t in titles)
    # header lines and dates never become titles
    for junk in ("new", "Subscribe", "byAK and the research community", "Mar 14", "Mar 11"):
        assert junk not in titles
    assert not any("trending papers" in t for t in titles)
    # a title is paired with its own abstract (002, blank-line format)
    shift = titles["ShiftAddLLM: Accelerating Pretrained LLMs via Post-Training Multiplication-Less Reparameterization"]
    assert shift.abstract.startswith("Large language models (LLMs) have shown impressive performance")
    assert "dubbed ShiftAddLLM" in shift.abstract
    # 004, no blank lines between pairs
    idinit = titles["IDInit: A Universal and Stable Initialization Method for Neural Network Training"]
    assert idinit.abstract.startswith("Deep neural networks have achieved remarkable accomplishments")
    # duplicated across 002 and 004: one paper, both sources remembered
    dup = titles["High-performance symbolic-numerics via multiple dispatch"]
    assert {s.split("/")[-1].split(":")[0][:3] for s in dup.sources} == {"002", "004"}
    # untitled abstract from 000 and 001 merged into one, prefix stripped
    swe = [p for p in papers.values() if "SWE-Fixer" in p.abstract]
    assert len(swe) == 1 and swe[0].title == "" and swe[0].abstract.startswith("Large Language Models (LLMs)")
    assert len(swe[0].sources) == 2


def test_ids_are_stable_and_content_based(bundled):
    _, _, papers = bundled
    for pid, p in papers.items():
        assert pid == paper_id(p.abstract)
    assert paper_id("Hello,  World!") == paper_id("hello world")


def test_untitled_copy_merges_into_titled(tmp_path: Path):
    abstract = "We propose a method. " * 20
    (tmp_path / "a.txt").write_text(f"Abstract:{abstract}\n")
    (tmp_path / "b.txt").write_text(f"Title: A Method\n\n{abstract}\n")
    records = read_papers(tmp_path / "a.txt") + read_papers(tmp_path / "b.txt")
    merged = merge_papers([], records)
    assert len(merged) == 1
    assert merged[0].title == "Title: A Method"
    # and in the other order, against an existing index
    merged2 = merge_papers(read_papers(tmp_path / "a.txt"), read_papers(tmp_path / "b.txt"))
    assert [p.title for p in merged2] == ["Title: A Method"]
    assert merged2[0].id == merged[0].id


def test_jsonl_csv_arxiv_beir():
    jl = read_papers(DATA / "papers.jsonl")
    assert [p.id for p in jl][0] == "u1" and jl[0].url == "https://example.org/u1"
    assert jl[0].authors == "Ada Lovelace, Alan Turing" and jl[0].date == "2024-01-02"
    assert jl[1].id == paper_id(jl[1].abstract)
    csv_ = read_papers(DATA / "papers.csv")
    assert csv_[0].title == "Tiny Violins for Audio Models" and csv_[0].url == "https://example.org/v"
    ax = read_papers(DATA / "arxiv.json")[0]
    assert ax.id == "2401.00001" and ax.url == "https://arxiv.org/abs/2401.00001"
    assert ax.date == "2024-01-05" and ax.abstract.startswith("We present a compiler")
    assert "\n" not in ax.abstract
    beir = read_papers(DATA / "corpus.jsonl")
    assert [p.id for p in beir] == ["d1", "d2"] and beir[1].title == ""


@pytest.mark.parametrize(
    "name, content, expect",
    [
        ("empty.txt", b"  \n\n", "empty"),
        ("bin.txt", b"\x00\x01\x02abc", "binary"),
        ("latin.txt", "caf\u00e9 abstract".encode("latin-1"), "UTF-8"),
        ("bad.jsonl", b'{"title": "a", "abstract": "b"}\n{"title": oops}\n', "bad.jsonl:2"),
        ("noabs.jsonl", b'{"title": "a"}\n', "abstract"),
        ("cols.csv", b"name,body\nx,y\n", "abstract"),
        ("paper.pdf", b"%PDF-1.4", "unknown format"),
    ],
)
def test_bad_input_names_file_and_fix(tmp_path: Path, name: str, content: bytes, expect: str):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(BadInput) as e:
        read_inputs([path])
    assert name in str(e.value) and expect in str(e.value)


def test_missing_path(tmp_path: Path):
    with pytest.raises(BadInput, match="no such file"):
        read_inputs([tmp_path / "nope.jsonl"])


def test_beir_folder_reads_only_corpus(tmp_path: Path):
    (tmp_path / "corpus.jsonl").write_text((DATA / "corpus.jsonl").read_text())
    (tmp_path / "queries.jsonl").write_text('{"_id": "q1", "text": "a query about the moon"}\n')
    files, records = read_inputs([tmp_path])
    assert [f.name for f in files] == ["corpus.jsonl"] and len(records) == 2


def test_valid_edge_cases_still_read(tmp_path: Path):
    """What the stricter parsers must keep accepting."""
    # a JSON array, pretty-printed: each record's source is the line its object starts on
    (tmp_path / "a.json").write_text(
        json.dumps([{"title": "A", "abstract": "First."}, {"title": "B", "abstract": "Second."}], indent=2)
    )
    assert [p.sources[0].rsplit(":", 1)[1] for p in read_papers(tmp_path / "a.json")] == ["2", "6"]
    # U+2028 is legal inside a JSON string and does not end a JSON line; integer ids; the
    # authors of Semantic Scholar's API
    rec = {"id": 7, "title": "T", "abstract": "One\u2028two.", "authors": [{"name": "Ada"}, {"name": "Alan"}]}
    (tmp_path / "b.jsonl").write_text(json.dumps(rec, ensure_ascii=False) + "\n")
    [paper] = read_papers(tmp_path / "b.jsonl")
    assert (paper.id, paper.abstract, paper.authors) == ("7", "One two.", "Ada, Alan")
    # a quoted CSV field holding commas, quotes and a line break; a blank row; the record's
    # line is the one it starts on; an abstract at the length limit
    long = "x" * MAX_ABSTRACT_CHARS
    (tmp_path / "c.csv").write_text(f'title,abstract\n"A, b","We ""quote"",\nand wrap."\n\n,{long}\n')
    first, second = read_papers(tmp_path / "c.csv")
    assert (first.title, first.abstract, first.sources[0][-1]) == ("A, b", 'We "quote", and wrap.', "2")
    assert second.sources[0].endswith(":5") and len(second.abstract) == MAX_ABSTRACT_CHARS


@pytest.mark.parametrize(
    "name, content, expect",
    [
        ("long.jsonl", json.dumps({"abstract": "x" * (MAX_ABSTRACT_CHARS + 1)}), "long.jsonl:1: abstract of 20,001"),
        ("type.json", '[\n{"abstract": "a"},\n{"title": 5, "abstract": "b"}\n]', "type.json:3: 'title' is a number"),
        ("cut.json", '[\n{"abstract": "a"},\n{"abstract": "b"', "cut.json:3:"),
        ("deep.jsonl", '{"abstract": "a"}\n' + "[" * 10_000, "deep.jsonl:2: JSON nested too deeply"),
        ("quote.csv", 'title,abstract\nA,ok\n"B,never closed\nC,d\n', "quote.csv:3: bad CSV"),
        ("extra.tsv", "title\tabstract\nA\tB\tC\n", "extra.tsv:2: 3 fields, but the header has 2"),
        ("mixed.txt", "T\n".encode() + "Abstract: caf\u00e9".encode("latin-1"), "mixed.txt:2: not UTF-8"),
        ("nul.jsonl", b'{"abstract": "a"}\n{"abstract": "b\x00"}\n', "nul.jsonl:2: NUL byte"),
    ],
)
def test_bad_input_names_line(tmp_path: Path, name: str, content: str | bytes, expect: str):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(BadInput) as e:
        read_papers(path)
    assert expect in str(e.value) and "\n" not in str(e.value)
