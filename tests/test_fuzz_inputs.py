"""Fuzzed bad input, through the real CLI.

A seeded generator writes several hundred malformed files in every format paperbot reads:
random bytes, NUL bytes and foreign encodings inside otherwise valid records, truncated and
mistyped JSON, CSV/TSV without a header or with broken quoting, empty records, abstracts far
too long (a few of them a 10 MB single line). Each must end `paperbot ingest` with exit code
2 and one line on stderr naming the file (and the line, where the problem is on one), and
leave the index byte for byte as it was. Most generators break a valid file in one place;
that valid file is parsed too, so it is the break that gets rejected.

Odd questions (very long, control characters, emoji, broken surrogates) get an answer or a
one-line error, never a crash.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import random
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from evals.cli import main
from index.errors import BadInput
from index.settings import Settings
from index.sources.registry import read_papers

SEED = 20240917
REPO = Path(__file__).resolve().parent.parent
SUFFIXES = [".txt", ".jsonl", ".ndjson", ".json", ".csv", ".tsv"]
MARK = "zqxmarkzqx"  # a word put in one abstract, then replaced by the defect
HUGE = 10 * 2**20  # characters in a "10 MB single line"

WORDS = (
    "we propose a sparse mixture of experts model that routes tokens to attention heads and "
    "improves accuracy on long context retrieval benchmarks while halving latency our method "
    "naïve Gödel résumé 🚀 learns gradients from noisy labels with contrastive pretraining on "
    "images text and audio the results show strong gains over transformer baselines"
).split()  # no commas, quotes or tabs: the CSV defects below stay where they are put


@dataclass(frozen=True)
class Case:
    kind: str
    name: str
    data: bytes
    line: int | None  # the line the message must name; None: a problem of the whole file
    expect: str  # a regex the message must match
    base: bytes | None = None  # the valid file this one was broken from


# --- valid files --------------------------------------------------------------------------------


def _abstract(rng: random.Random, least: int = 220) -> str:
    words, length = ["We"], 2
    while length < least or len(words) < 30:
        words.append(rng.choice(WORDS))
        length += len(words[-1]) + 1
    return " ".join(words) + "."


def _title(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS).capitalize() for _ in range(rng.randint(3, 9)))


def _records(rng: random.Random, beir: bool) -> list[dict]:
    recs = []
    for i in range(rng.randint(1, 5)):
        if beir:
            recs.append({"_id": f"d{i}", "title": _title(rng), "text": _abstract(rng)})
            continue
        rec = {"title": _title(rng), "abstract": _abstract(rng)}
        if rng.random() < 0.5:
            rec["id"] = f"p{rng.randrange(10**6)}"
        if rng.random() < 0.3:
            rec["authors"] = rng.choice([["Ada Lovelace", "Alan Turing"], "Grace Hopper", [["Hopper", "Grace"]]])
        recs.append(rec)
    return recs


@dataclass
class Doc:
    """A valid file: its records, one a line, and how they are written."""

    suffix: str
    recs: list[dict]
    newline: str = "\n"
    array: bool = False  # .json written as an array, one item a line
    header: tuple[str, ...] = ()  # .csv and .tsv
    quote_all: bool = False
    ascii_only: bool = True

    @property
    def delimiter(self) -> str:
        return "\t" if self.suffix == ".tsv" else ","

    def abstract_key(self, m: int) -> str:
        return "abstract" if "abstract" in self.recs[m] else "text"

    def line_of(self, m: int) -> int:
        """The line record ``m`` is on."""
        if self.suffix == ".txt":
            return 3 * m + 2  # title, abstract, blank
        return m + (2 if self.header or self.array else 1)

    def item(self, m: int) -> str:
        return json.dumps(self.recs[m], ensure_ascii=self.ascii_only)

    def lines(self) -> list[str]:
        if self.suffix == ".txt":
            return [line for r in self.recs for line in (r["title"], r.get("abstract") or r["text"], "")]
        if self.header:
            out = io.StringIO()
            quoting = csv.QUOTE_ALL if self.quote_all else csv.QUOTE_MINIMAL
            csv.writer(out, delimiter=self.delimiter, lineterminator="\n", quoting=quoting).writerows(
                [str(r.get(h.lower(), "")) for h in self.header] for r in self.recs
            )
            return [self.delimiter.join(self.header), *out.getvalue().splitlines()]
        items = [self.item(m) for m in range(len(self.recs))]
        return ["[", *(i + "," for i in items[:-1]), items[-1], "]"] if self.array else items

    def encode(self, lines: list[str] | None = None, end: bool = True) -> bytes:
        lines = self.lines() if lines is None else lines
        return (self.newline.join(lines) + (self.newline if end else "")).encode("utf-8")

    def with_line(self, m: int, text: str) -> bytes:
        """The file with record ``m``'s line replaced by ``text`` (an array keeps its comma)."""
        lines = self.lines()
        comma = "," if self.array and m < len(self.recs) - 1 else ""
        lines[self.line_of(m) - 1] = text + comma
        return self.encode(lines)


def _doc(rng: random.Random, suffix: str, **fixed) -> tuple[Doc, int]:
    """A random valid file of this format, and one of its records (by index)."""
    doc = Doc(
        suffix,
        _records(rng, beir=suffix in (".jsonl", ".json") and rng.random() < 0.2),
        newline=rng.choice(["\n", "\n", "\r\n"]),
        array=suffix == ".json" and rng.random() < 0.7,
        header=rng.choice([("title", "abstract", "id", "url"), ("Abstract", "Title"), ("id", "title", "abstract")])
        if suffix in (".csv", ".tsv")
        else (),
        quote_all=rng.random() < 0.3,
        ascii_only=rng.random() < 0.5,
    )
    return replace(doc, **fixed), rng.randrange(len(doc.recs))


def _marked(rng: random.Random, suffix: str, payload: bytes) -> tuple[bytes, int, bytes]:
    """A valid file with ``payload`` in the middle of one abstract: (broken, line, valid)."""
    doc, m = _doc(rng, suffix)
    key = doc.abstract_key(m)
    words = doc.recs[m][key].split()
    words.insert(rng.randint(1, len(words) - 1), MARK)
    doc.recs[m][key] = " ".join(words)
    data = doc.encode()
    return data.replace(MARK.encode(), payload), doc.line_of(m), data.replace(MARK.encode(), b"marked")


# --- generators: each returns (malformed bytes, line, message regex, valid base) -----------------

Broken = tuple[bytes, int | None, str, bytes | None]


def _must_break_utf8(payload: bytes) -> bytes:
    with pytest.raises(UnicodeDecodeError):
        payload.decode("utf-8")
    return payload


def g_random_bytes(rng: random.Random, suffix: str) -> Broken:
    data = bytearray(rng.randbytes(rng.randint(0, 3000)))
    data.insert(rng.randint(0, len(data)), rng.choice([0x00, 0xFF, 0xC0, 0xF8]))  # never UTF-8 text
    return bytes(data), None, r"NUL|UTF-8|UTF-16", None


def g_nul_byte(rng: random.Random, suffix: str) -> Broken:
    data, line, base = _marked(rng, suffix, rng.choice([b"\x00", b"ab\x00cd", b"\x00\x00\x00"]))
    return data, line, "NUL", base


def g_latin1(rng: random.Random, suffix: str) -> Broken:
    word = rng.choice(["café", "naïve", "Gödel", "±5%", "µs", "“quoted”", "Ørsted", "señor"])
    data, line, base = _marked(rng, suffix, _must_break_utf8(word.encode("cp1252")))
    return data, line, "not UTF-8", base


def g_bad_utf8(rng: random.Random, suffix: str) -> Broken:
    # CESU-8 surrogates, an overlong "/", a cut-off sequence, stray continuations, a 5-byte form
    bad = [b"\xed\xa0\xbd\xed\xb8\x80", b"\xc0\xaf", b"\xe2\x82", b"\x80\x80", b"\xf8\x88\x80\x80\x80"]
    payload = rng.choice(bad)
    data, line, base = _marked(rng, suffix, _must_break_utf8(payload))
    return data, line, "not UTF-8", base


def g_utf16(rng: random.Random, suffix: str) -> Broken:
    variant = rng.randrange(3)
    if variant == 0:  # a UTF-16 fragment pasted into a UTF-8 file
        data, line, base = _marked(rng, suffix, "naïve résumé".encode("utf-16-le"))
        return data, line, "NUL", base
    base = _doc(rng, suffix)[0].encode()
    if variant == 1:  # with a byte-order mark
        return base.decode().encode("utf-16"), None, "UTF-16", base
    return base.decode().encode("utf-16-be"), 1, "NUL", base


def g_empty(rng: random.Random, suffix: str) -> Broken:
    return rng.choice([b"", b"   ", b"\n\n\r\n\t \n", b"\xef\xbb\xbf", b"\xef\xbb\xbf \n"]), None, "empty", None


def g_long_abstract(rng: random.Random, suffix: str) -> Broken:
    doc, m = _doc(rng, suffix)
    base = doc.encode()
    doc.recs[m][doc.abstract_key(m)] = _abstract(rng, least=rng.randint(20_001, 40_000))
    return doc.encode(), doc.line_of(m), "20,000", base


def g_long_title(rng: random.Random, suffix: str) -> Broken:
    doc, m = _doc(rng, suffix)
    base = doc.encode()
    doc.recs[m]["title"] = _abstract(rng, least=rng.randint(1_001, 3_000))
    return doc.encode(), doc.line_of(m), "1,000", base


def huge_line(rng: random.Random, suffix: str) -> Broken:
    """An abstract that is a 10 MB single line (only a few of these: they are slow)."""
    doc, m = _doc(rng, suffix, quote_all=False)
    sentence = _abstract(rng) + " "
    doc.recs[m][doc.abstract_key(m)] = (sentence * (HUGE // len(sentence) + 1))[:HUGE]
    return doc.encode(), doc.line_of(m), "20,000", None


# JSON: .jsonl .ndjson .json


def g_truncated(rng: random.Random, suffix: str) -> Broken:
    doc, m = _doc(rng, suffix)
    item = doc.item(m)
    cut = item[: rng.randint(1, len(item) - 1)]  # a proper prefix of an object is never JSON
    line = doc.line_of(m)
    if doc.array or rng.random() < 0.5:  # the file ends there: a download cut short
        return doc.encode(doc.lines()[: line - 1] + [cut], end=False), line, "JSON", doc.encode()
    return doc.with_line(m, cut), line, "malformed JSON", doc.encode()


WRONG_TYPES = [
    ("title", 42, "'title' is a number"),
    ("title", 3.5, "'title' is a number"),
    ("title", float("nan"), "'title' is a number"),  # NaN: Python's json reads it
    ("title", ["A", "B"], "'title' is a list"),
    ("title", {"en": "A title"}, "'title' is an object"),
    ("title", True, "'title' is true"),
    ("abstract", None, "no 'abstract'"),
    ("abstract", ["We study", "things."], "'abstract' is a list"),
    ("abstract", 7, "'abstract' is a number"),
    ("abstract", {"text": "We study things."}, "'abstract' is an object"),
    ("abstract", False, "'abstract' is false"),
    ("abstract", "We study \ud83d a lone surrogate.", "surrogate"),
    ("authors", 5, "'authors' is a number"),
    ("authors", {"first": "Ada"}, "'authors' is an object"),
    ("authors", ["Ada Lovelace", 3], "an author is a number"),
    ("authors", [["Lovelace", "Ada"], None], "an author is null"),
    ("authors", [{"given": "Ada"}], "an author is an object"),
    ("id", ["x"], "'id' is a list"),
    ("id", {"v": 1}, "'id' is an object"),
    ("id", 1.5, "'id' is a number"),
    ("id", True, "'id' is true"),
    ("url", 5, "'url' is a number"),
    ("date", ["2024"], "'date' is a list"),
    ("update_date", 20240105, "'update_date' is a number"),
    ("published", {"year": 2024}, "'published' is an object"),
]


def g_wrong_type(rng: random.Random, suffix: str) -> Broken:
    doc, m = _doc(rng, suffix, ascii_only=True)  # a lone surrogate is written as an escape
    base = doc.encode()
    key, value, expect = rng.choice(WRONG_TYPES)
    if key == "abstract":
        key, expect = doc.abstract_key(m), expect.replace("'abstract' is", f"'{doc.abstract_key(m)}' is")
    doc.recs[m][key] = value
    return doc.encode(), doc.line_of(m), re.escape(expect), base


def g_not_an_object(rng: random.Random, suffix: str) -> Broken:
    doc, m = _doc(rng, suffix)
    value = rng.choice(["5", '"We study things as a bare string."', "null", "true", "1.5", "[1, 2]", "[[]]"])
    if not doc.array and m == 0 and value.startswith("["):
        value = "null"  # a first line that is an array makes the file one JSON array
    return doc.with_line(m, value), doc.line_of(m), "object", doc.encode()


EMPTY_RECORDS = [
    {}, {"title": "A Title"}, {"abstract": ""}, {"abstract": "  \t  "}, {"_id": "d1", "text": None},
    {"title": "x", "abstract": None},
]  # fmt: skip


def g_empty_record(rng: random.Random, suffix: str) -> Broken:
    doc, m = _doc(rng, suffix)
    base = doc.encode()
    doc.recs[m] = {"title": doc.recs[m]["title"]} if doc.header else dict(rng.choice(EMPTY_RECORDS))
    return doc.encode(), doc.line_of(m), "no 'abstract'", base


def g_bad_syntax(rng: random.Random, suffix: str) -> Broken:
    doc, m = _doc(rng, suffix)
    item = doc.item(m)
    broken = rng.choice([
        item.replace('"', "'"),  # single quotes
        item[:-1] + ", }",  # a trailing comma
        re.sub(r'"(\w+)":', r"\1:", item),  # unquoted keys
        item.replace('", "', '" "', 1),  # a comma missing (every record has a title and more)
        "// " + item,  # a comment
        item.replace("{", '{"none": None, ', 1),  # Python, not JSON
        item + "}",  # one brace too many
        item + " " + item,  # two objects on one line
    ])  # fmt: skip
    return doc.with_line(m, broken), doc.line_of(m), "JSON", doc.encode()


def g_bad_array(rng: random.Random, suffix: str) -> Broken:
    """Broken structure around the items of a .json array."""
    doc, m = _doc(rng, ".json", array=True)
    lines, last = doc.lines(), len(doc.recs) + 2  # the "]" line
    variant = rng.randrange(4)
    if variant == 0:  # a comma after the last item
        lines[last - 2] += ","
        return doc.encode(lines), last, "comma before", doc.encode()
    if variant == 1 and m < len(doc.recs) - 1:  # a comma missing between items
        lines[m + 1] = lines[m + 1].rstrip(",")
        return doc.encode(lines), doc.line_of(m + 1), "expected after item", doc.encode()
    if variant == 2:  # text after the array
        return doc.encode(lines + ["extra"]), last + 1, "after the end", doc.encode()
    return doc.encode(lines[:-1]), last - 1, "ends inside the JSON array", doc.encode()  # no "]"


def g_deep_nesting(rng: random.Random, suffix: str) -> Broken:
    doc, m = _doc(rng, suffix)
    n = rng.randint(5_000, 50_000)
    value = rng.choice(["[" * n, '{"a": ' * n, '{"title": "t", "abstract": ' + "[" * n])
    return doc.with_line(m, value), doc.line_of(m), "nested too deeply", doc.encode()


def g_huge_number(rng: random.Random, suffix: str) -> Broken:
    doc, m = _doc(rng, suffix)
    digits = "1" + "".join(rng.choice("0123456789") for _ in range(rng.randint(4_400, 6_000)))
    return doc.with_line(m, doc.item(m)[:-1] + f', "id": {digits}}}'), doc.line_of(m), "digits", doc.encode()


# Tables: .csv .tsv


def g_no_header(rng: random.Random, suffix: str) -> Broken:
    doc, _ = _doc(rng, suffix)
    blank = rng.randint(0, 2)
    return doc.encode([""] * blank + doc.lines()[1:]), blank + 1, "header", doc.encode()


def g_wrong_columns(rng: random.Random, suffix: str) -> Broken:
    doc, _ = _doc(rng, suffix)
    names = rng.choice([["name", "body"], ["Title", "Summary"], ["paper", "description"], ["abstracts"], ["abs"]])
    other = ";" if suffix == ".csv" else ","
    header = rng.choice([doc.delimiter.join(names), other.join(names), other.join(["title", "abstract"])])
    return doc.encode([header] + doc.lines()[1:]), 1, "header has no 'abstract'", doc.encode()


def g_field_count(rng: random.Random, suffix: str) -> Broken:
    doc, m = _doc(rng, suffix, quote_all=False)
    line = doc.lines()[doc.line_of(m) - 1]
    if rng.random() < 0.5:
        broken = line + doc.delimiter + "an unquoted extra field"
    else:
        broken = doc.recs[m]["title"]  # one field only
    return doc.with_line(m, broken), doc.line_of(m), "fields, but the header has", doc.encode()


def g_bad_quoting(rng: random.Random, suffix: str) -> Broken:
    doc, m = _doc(rng, suffix)
    first, _, rest = doc.lines()[doc.line_of(m) - 1].partition(doc.delimiter)
    close = rng.choice(["", '"x'])  # a quote that never closes, or text after the closing quote
    broken = '"' + first.strip('"') + close + doc.delimiter + rest
    return doc.with_line(m, broken), doc.line_of(m), "quote", doc.encode()


def g_header_only(rng: random.Random, suffix: str) -> Broken:
    doc, _ = _doc(rng, suffix)
    return doc.encode(doc.lines()[:1] + [""] * rng.randint(0, 3)), None, "no abstracts found", None


def g_over_field_limit(rng: random.Random, suffix: str) -> Broken:
    doc, m = _doc(rng, suffix, quote_all=False)
    base = doc.encode()
    doc.recs[m]["abstract"] = _abstract(rng, least=rng.randint(131_073, 200_000))  # csv's own limit
    return doc.encode(), doc.line_of(m), "20,000", base


# Text listings: .txt


def g_no_abstracts(rng: random.Random, suffix: str) -> Broken:
    junk = ["New", "Subscribe", "Mar 14", "Abstract:", "Abstract:   ", ""]
    lines = [rng.choice(junk + [_title(rng)]) for _ in range(rng.randint(1, 12))] + [_title(rng)]
    return ("\n".join(lines) + "\n").encode(), None, "no abstracts found", None


Gen = Callable[[random.Random, str], Broken]
COMMON: list[Gen] = [g_random_bytes, g_nul_byte, g_latin1, g_bad_utf8, g_utf16, g_empty, g_long_abstract]
JSON_KINDS: list[Gen] = [
    g_truncated, g_wrong_type, g_not_an_object, g_empty_record, g_bad_syntax, g_deep_nesting, g_huge_number,
    g_long_title,
]  # fmt: skip
TABLE_KINDS: list[Gen] = [
    g_no_header, g_wrong_columns, g_field_count, g_bad_quoting, g_header_only, g_over_field_limit, g_empty_record,
    g_long_title,
]  # fmt: skip
KINDS = {
    ".txt": COMMON + [g_no_abstracts],
    ".jsonl": COMMON + JSON_KINDS,
    ".ndjson": COMMON + JSON_KINDS,
    ".json": COMMON + JSON_KINDS + [g_bad_array],
    ".csv": COMMON + TABLE_KINDS,
    ".tsv": COMMON + TABLE_KINDS,
}
PER_KIND = 7
HUGE_SUFFIXES = [".txt", ".jsonl", ".json", ".csv"]


def generate(seed: int = SEED) -> list[Case]:
    rng = random.Random(seed)
    cases: list[Case] = []

    def add(gen: Gen, suffix: str) -> None:
        data, line, expect, base = gen(random.Random(rng.random()), suffix)
        kind = gen.__name__.removeprefix("g_")
        cases.append(Case(kind, f"{len(cases):04d}-{kind}{suffix}", data, line, expect, base))

    for suffix in SUFFIXES:
        for gen in KINDS[suffix]:
            for _ in range(PER_KIND):
                add(gen, suffix)
    for suffix in HUGE_SUFFIXES:
        add(huge_line, suffix)
    return cases


# --- the fuzz run ---------------------------------------------------------------------------------

# The fake embedder's bag-of-words cosines run lower than MiniLM's (as in conftest).
THRESHOLDS = {"PAPERBOT_RETRIEVAL__MIN_SIMILARITY": "0.1", "PAPERBOT_ANSWER__CITE_MIN_SIMILARITY": "0.1"}


def _env(data_dir: Path) -> dict[str, str]:
    return {"PAPERBOT_INDEX__DATA_DIR": str(data_dir), "PAPERBOT_INDEX__EMBEDDER": "fake", **THRESHOLDS}


def _process_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """Environment for `python -m evals` (the `paperbot` script) in a real process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERBOT_")}
    offline = {"PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    return env | _env(data_dir) | offline | extra


@pytest.fixture(scope="module")
def cases() -> list[Case]:
    return generate()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small valid index, built once through the CLI with the fake embedder."""
    root = tmp_path_factory.mktemp("fuzz-index")
    papers = root / "papers.jsonl"
    rng = random.Random(SEED)
    records = [{"title": _title(rng), "abstract": _abstract(rng)} for _ in range(4)]
    papers.write_text("".join(json.dumps(r) + "\n" for r in records))
    with pytest.MonkeyPatch.context() as mp:
        for key in [k for k in os.environ if k.startswith("PAPERBOT_")]:
            mp.delenv(key)
        for key, value in _env(root / "data").items():
            mp.setenv(key, value)
        assert main(["ingest", "--no-progress", str(papers)]) == 0
    return root / "data"


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _problems(case: Case, rc: int, out: str, err: str) -> list[str]:
    problems = []
    if rc != 2:
        problems.append(f"exit code {rc}")
    if "Traceback" in err or out:
        problems.append("traceback or output")
    if not (err.startswith("paperbot: error: ") and err.endswith("\n") and err.count("\n") == 1):
        problems.append("not one 'paperbot: error:' line")
    if case.name not in err:
        problems.append("file not named")
    if case.line is not None and f"{case.name}:{case.line}:" not in err:
        problems.append(f"line {case.line} not named")
    if not re.search(case.expect, err, re.IGNORECASE):
        problems.append(f"no /{case.expect}/")
    return problems


def test_generator_is_seeded_and_covers_every_format(cases: list[Case]):
    assert len(cases) >= 500
    assert {Path(c.name).suffix for c in cases} == set(SUFFIXES)
    assert sum(1 for c in cases if len(c.data) >= HUGE) == len(HUGE_SUFFIXES)
    assert [hashlib.sha256(c.data).digest() for c in generate()] == [hashlib.sha256(c.data).digest() for c in cases]
    assert len({c.data for c in cases}) > 0.9 * len(cases)  # variety (empty files repeat across formats)


def test_every_malformed_file_is_one_line_error_and_index_untouched(
    cases: list[Case], data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
):
    for key, value in _env(data_dir).items():
        monkeypatch.setenv(key, value)
    before = _snapshot(data_dir)
    assert any(name.endswith("papers.jsonl") for name in before)
    (tmp_path / "valid").mkdir()
    failures = []
    for n, case in enumerate(cases, start=1):
        if case.base is not None:  # the control: the same file before it was broken
            valid = tmp_path / "valid" / case.name
            valid.write_bytes(case.base)
            try:
                read_papers(valid)
            except BadInput as e:
                failures.append(f"{case.name}: its valid base is rejected: {e}")
        path = tmp_path / case.name
        path.write_bytes(case.data)
        rc = main(["ingest", "--no-progress", str(path)])
        out, err = capsys.readouterr()
        problems = _problems(case, rc, out, err)
        if problems:
            failures.append(f"{case.name}: {'; '.join(problems)}: {err[:300]!r}")
        path.unlink()  # the 10 MB ones add up
        if n % 50 == 0 or n == len(cases):
            assert _snapshot(data_dir) == before, f"the index changed after {case.name}"
    counts = Counter(f"{Path(c.name).suffix} {c.kind}" for c in cases)
    assert not failures, f"{len(failures)} of {len(cases)} failed ({dict(counts)}):\n" + "\n".join(failures[:40])


def test_real_processes_exit_2_without_traceback(cases: list[Case], data_dir: Path, tmp_path: Path):
    """A few of the files through `python -m evals ingest` (the `paperbot` script)."""
    wanted = {
        (".txt", "random_bytes"), (".jsonl", "truncated"), (".csv", "nul_byte"), (".json", "wrong_type"),
        (".tsv", "no_header"), (".ndjson", "deep_nesting"),
    }  # fmt: skip
    picks = {}
    for c in cases:
        if (Path(c.name).suffix, c.kind) in wanted:
            picks.setdefault((Path(c.name).suffix, c.kind), c)
    assert len(picks) == len(wanted)
    before = _snapshot(data_dir)
    procs = []
    for c in picks.values():
        (tmp_path / c.name).write_bytes(c.data)
        cmd = [sys.executable, "-m", "evals", "ingest", "--no-progress", str(tmp_path / c.name)]
        pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
        procs.append((c, subprocess.Popen(cmd, env=_process_env(data_dir), cwd=tmp_path, **pipes)))
    for c, proc in procs:
        out, err = proc.communicate(timeout=120)
        assert _problems(c, proc.returncode, out, err) == [], err
    assert _snapshot(data_dir) == before


# --- odd questions ------------------------------------------------------------------------------

QUESTIONS = {
    "2,000+ characters": "How does sparse routing of tokens to experts compare with dense attention? " * 30,
    "one 5,000-character word": "a" * 5_000,
    "control characters": "what is \x00sparse\x1b[31m routing?\r\n\x07\x7f",
    "only control characters": "\x00\x1b[0m\x7f\x08",
    "emoji": "🤖🚀 how do experts route tokens? 👩‍🔬",
    "only emoji": "🤖🚀👩‍🔬",
    "zero-width and bidi marks": "\u200b\u202e sparse routing \ufeff",
    "whitespace only": " \t\r\n ",
}
# A lone surrogate: a broken emoji from a paste or from Slack, or a non-UTF-8 byte in argv
# (Python decodes those to \udc80-\udcff).
SURROGATES = {"lone high surrogate": "what is \ud83d sparse routing", "non-UTF-8 argv byte": "what is \udcff routing"}


def _cli_ok(rc: int, out: str, err: str) -> None:
    """An answer, or exit code 2 with one error line; never a traceback."""
    assert "Traceback" not in out + err
    if rc == 0:
        assert out.strip()
    else:
        assert rc == 2 and err.startswith("paperbot: error: ") and err.count("\n") == 1, err


@pytest.mark.parametrize("question", QUESTIONS.values(), ids=QUESTIONS.keys())
def test_odd_questions_get_an_answer_or_a_clear_error(question: str, data_dir: Path, monkeypatch, capsys):
    from bot.answer.answerer import Answerer
    from bot.render import answer_text
    from bot.query.query import check_query
    from index.reader import open_index

    for key, value in _env(data_dir).items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    index = open_index(settings)
    try:
        check_query(question)
    except BadInput as e:
        assert str(e) and "\n" not in str(e)
    else:
        a = Answerer(settings, index)(question)
        assert a.text and answer_text(a)
    finally:
        index.close()
    for command in ("search", "ask"):
        rc = main([command, question])
        _cli_ok(rc, *capsys.readouterr())


@pytest.mark.parametrize("question", SURROGATES.values(), ids=SURROGATES.keys())
def test_questions_with_broken_surrogates(question: str, data_dir: Path, monkeypatch, capsys, caplog):
    for key, value in _env(data_dir).items():
        monkeypatch.setenv(key, value)
    for command in ("search", "ask"):
        rc = main([command, question])
        _cli_ok(rc, *capsys.readouterr())
    assert "Could not record" not in caplog.text  # the trace store takes the question too


def test_control_characters_never_reach_the_terminal():
    from bot.query.query import check_query

    assert check_query(QUESTIONS["control characters"]) == "what is sparse routing?"
    with pytest.raises(BadInput):
        check_query(QUESTIONS["only control characters"])


def test_odd_questions_in_real_processes(data_dir: Path, tmp_path: Path):
    """`paperbot search` with odd questions as an argument, and in batch mode on stdin."""
    env, run = _process_env(data_dir), [sys.executable, "-m", "evals", "search"]
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    as_argument = [q for q in QUESTIONS.values() if "\x00" not in q][:3]  # argv cannot hold NUL
    procs = [subprocess.Popen(run + [q], env=env, cwd=tmp_path, **pipes) for q in as_argument]
    stdin = "\n".join(q.replace("\n", " ") for q in QUESTIONS.values()).encode()
    batch = subprocess.run(run, env=env, cwd=tmp_path, capture_output=True, timeout=120, input=stdin)
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        _cli_ok(proc.returncode, out.decode(errors="replace"), err.decode(errors="replace"))
    assert batch.returncode in (0, 2) and b"Traceback" not in batch.stderr, batch.stderr.decode()
    assert batch.stdout.count(b"Results for:") + batch.stdout.count(b"error:") >= 6


def test_non_utf8_stdin_does_not_end_a_batch(data_dir: Path, tmp_path: Path):
    """A Latin-1 line in a batch on stdin, under a locale whose stdio is strict UTF-8."""
    batch = subprocess.run(
        [sys.executable, "-m", "evals", "search"],
        env=_process_env(data_dir, PYTHONIOENCODING="utf-8"),
        cwd=tmp_path, capture_output=True, timeout=120,
        input="sparse routing\nna\u00efve routing\n".encode("latin-1"),
    )  # fmt: skip
    assert batch.returncode == 0 and b"Traceback" not in batch.stderr, batch.stderr.decode()
    assert batch.stdout.count(b"Results for:") == 2
