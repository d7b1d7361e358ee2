"""Readers for every input format paperbot accepts. Each turns a file into ``Paper``
records (not yet de-duplicated: see ``index.papers``).

Formats:
- scraped text (``.txt``): untitled ``Abstract:`` lines; listing pages with header lines,
  dates and a first title glued to "Subscribe"; title/abstract pairs with or without
  blank lines between them.
- JSONL / JSON (``.jsonl``, ``.ndjson``, ``.json``): one object a line (or a JSON array) with
  ``title`` and ``abstract`` (optional ``id``, ``url``, ``authors``, ``date``); the arXiv
  metadata snapshot (``id``, ``title``, ``abstract``, ``authors``, ``categories``,
  ``update_date``); BEIR ``corpus.jsonl`` (``_id``, ``title``, ``text``).
- CSV / TSV with a header naming the same columns.

A file that cannot be read as given is a ``BadInput`` naming the file, the line where the
problem is, and the fix: bad encodings, NUL bytes, malformed or mistyped JSON, broken CSV
quoting, abstracts over ``MAX_ABSTRACT_CHARS``. No other exception escapes a parser
(``tests/test_fuzz_inputs.py`` feeds them hundreds of malformed files).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from index.errors import BadInput
from index.types import Paper
from index.text import clean_space, paper_id

T = TypeVar("T")

TEXT_SUFFIXES = {".txt"}
JSON_SUFFIXES = {".jsonl", ".ndjson", ".json"}
TABLE_SUFFIXES = {".csv", ".tsv"}
SUPPORTED = sorted(TEXT_SUFFIXES | JSON_SUFFIXES | TABLE_SUFFIXES)

# arXiv caps abstracts at 1,920 characters; longer "abstracts" are whole papers or records
# run together by a broken file.
MAX_ABSTRACT_CHARS = 20_000
MAX_TITLE_CHARS = 1_000

_NEWLINE = re.compile(r"\r\n|\r|\n")
_JSON_SPACE = re.compile(r"[ \t\n\r]*")
_SURROGATE = re.compile("[\ud800-\udfff]")

_FIX_FORMAT = (
    "paperbot reads .txt abstract listings, JSONL/JSON (title+abstract, arXiv metadata, "
    "BEIR corpus.jsonl) and CSV/TSV with title,abstract columns"
)


# --- finding files ----------------------------------------------------------------------


def expand_paths(paths: list[Path]) -> list[Path]:
    """Files to read for the given paths; a folder means its supported files (a BEIR folder
    means its corpus.jsonl only, so queries are never mistaken for papers)."""
    files: list[Path] = []
    for path in paths:
        if not path.exists():
            raise BadInput(f"{path}: no such file or folder; check the path and try again.")
        if path.is_dir():
            beir_corpus = path / "corpus.jsonl"
            if beir_corpus.is_file():
                files.append(beir_corpus)
                continue
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and p.suffix.lower() in SUPPORTED
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not found:
                raise BadInput(f"{path}: folder holds no {'/'.join(SUPPORTED)} files; {_FIX_FORMAT}.")
            files.extend(found)
        else:
            if path.suffix.lower() not in SUPPORTED:
                raise BadInput(
                    f"{path}: unknown format '{path.suffix or '(no extension)'}'; {_FIX_FORMAT} "
                    f"(rename the file with one of {', '.join(SUPPORTED)})."
                )
            files.append(path)
    return files


def read_text_file(path: Path) -> str:
    """The file's text, or a BadInput saying why it cannot be used (and where)."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise BadInput(f"{path}: cannot be read ({e.strerror}); check its permissions.") from e
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise BadInput(f"{path}: is UTF-16 text; re-save it as UTF-8.")
    raw = raw.removeprefix(codecs.BOM_UTF8)
    nul = raw.find(b"\x00")
    if nul >= 0:
        line, col = _position(raw, nul)
        raise BadInput(
            f"{path}:{line}: NUL byte at column {col}: a binary file (or UTF-16 text), not UTF-8 "
            "text; re-save it as UTF-8 text, or remove the NUL bytes."
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line, col = _position(raw, e.start)
        raise BadInput(
            f"{path}:{line}: not UTF-8 text (byte 0x{raw[e.start]:02x} at column {col}; Latin-1 or "
            "Windows-1252 text mixed in?); re-save the file as UTF-8."
        ) from e
    if not text.strip():
        raise BadInput(f"{path}: file is empty; remove it from the command or add abstracts to it.")
    return text


def _position(raw: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of a byte offset whose prefix is valid UTF-8."""
    start = raw.rfind(b"\n", 0, offset) + 1
    return raw.count(b"\n", 0, offset) + 1, len(raw[start:offset].decode("utf-8", "replace")) + 1


def _lines(text: str) -> list[str]:
    # Not str.splitlines: it also splits at U+2028, form feeds and other characters that a
    # JSON string may hold, and numbers lines differently from an editor.
    return _NEWLINE.split(text)


def _show(text: str, limit: int = 30) -> str:
    """Text from the file, quoted for a one-line message: escaped and shortened."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _check_length(value: str, key: str, limit: int, path: Path, line: int) -> None:
    if len(value) > limit:
        raise BadInput(
            f"{path}:{line}: {key} of {len(value):,} characters, more than the {limit:,} a paper's "
            f"{key} may have (a whole paper, or several records run together?); shorten it or "
            "split the records."
        )


def read_papers(path: Path) -> list[Paper]:
    """All papers in one file, in file order."""
    text = read_text_file(path)
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        papers = list(_parse_listing(text, path))
        hint = (
            f"a .txt listing needs abstracts: lines of at least {_MIN_ABSTRACT_CHARS} characters "
            "or lines that start with 'Abstract:'"
        )
    elif suffix in JSON_SUFFIXES:
        papers = [_paper_from_record(rec, path, line) for line, rec in _json_records(text, path)]
        hint = _FIX_FORMAT
    else:
        papers = list(_parse_table(text, path, delimiter="\t" if suffix == ".tsv" else ","))
        hint = _FIX_FORMAT
    if not papers:
        raise BadInput(f"{path}: no abstracts found; {hint}.")
    return papers


# --- scraped text listings ----------------------------------------------------------------

_JUNK = re.compile(
    r"^(new|subscribe|get trending papers in your email inbox.*|by\s*ak and the research community"
    r"|(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d{1,2}(, \d{4})?)$",
    re.IGNORECASE,
)
_GLUED_SUBSCRIBE = re.compile(r"^Subscribe(?=[A-Z0-9\"'])")
_ABSTRACT_PREFIX = re.compile(r"^abstract\s*:\s*", re.IGNORECASE)
# Titles are short and rarely a run of sentences; abstracts are long.
_MIN_ABSTRACT_CHARS = 200


def _looks_like_abstract(line: str) -> bool:
    return len(line) >= _MIN_ABSTRACT_CHARS


def _parse_listing(text: str, path: Path) -> Iterator[Paper]:
    pending_title: tuple[int, str] | None = None
    for lineno, raw in enumerate(_lines(text), start=1):
        line = clean_space(raw)
        if not line or _JUNK.match(line):
            continue
        line = _GLUED_SUBSCRIBE.sub("", line)
        explicit = _ABSTRACT_PREFIX.match(line)
        if explicit or _looks_like_abstract(line):
            abstract = line[explicit.end():] if explicit else line
            _check_length(abstract, "abstract", MAX_ABSTRACT_CHARS, path, lineno)
            title = pending_title[1] if pending_title else ""
            pending_title = None
            if abstract:
                yield Paper(
                    id=paper_id(abstract), title=title, abstract=abstract, sources=(f"{path}:{lineno}",)
                )
        else:
            # A second short line in a row: the earlier one had no abstract (a heading or a
            # title whose abstract is missing) and is dropped rather than glued on.
            pending_title = (lineno, line)


# --- JSON ------------------------------------------------------------------------------------


def _json_records(text: str, path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    if text.startswith("[", _JSON_SPACE.match(text).end()):
        yield from _json_array(text, path)
        return
    for lineno, line in enumerate(_lines(text), start=1):
        if not line.strip():
            continue
        rec = _decode(partial(json.loads, line), path, lineno)
        if not isinstance(rec, dict):
            raise BadInput(
                f"{path}:{lineno}: found {_kind(rec)} where a JSON object with title and abstract "
                "should be; each line must be one object, e.g. {\"title\": \"...\", \"abstract\": \"...\"}."
            )
        yield lineno, rec


def _json_array(text: str, path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """The objects of a JSON array, each with the line it starts on (read item by item so
    that records and errors are located by line)."""
    decoder = json.JSONDecoder()
    pos, line, counted = text.index("[") + 1, 1, 0

    def skip(i: int) -> int:
        return _JSON_SPACE.match(text, i).end()

    def line_at(i: int) -> int:
        nonlocal line, counted
        line, counted = line + text.count("\n", counted, i), i
        return line

    pos, item = skip(pos), 0
    while not text.startswith("]", pos):
        item += 1
        at = line_at(pos)
        rec, pos = _decode(partial(decoder.raw_decode, text, pos), path, at, whole_text=True)
        if not isinstance(rec, dict):
            raise BadInput(
                f"{path}:{at}: item {item} of the JSON array is {_kind(rec)}, not an object; "
                'each item must be an object such as {"title": "...", "abstract": "..."}.'
            )
        yield at, rec
        pos = skip(pos)
        if text.startswith(",", pos):
            pos = skip(pos + 1)
            if text.startswith("]", pos):
                raise BadInput(f"{path}:{line_at(pos)}: invalid JSON (a comma before ']'); remove it and re-run.")
        elif pos == len(text):
            raise BadInput(
                f"{path}:{at}: the file ends inside the JSON array (no ']' after item {item}); it "
                "may be cut short — restore its end."
            )
        elif not text.startswith("]", pos):
            raise BadInput(
                f"{path}:{line_at(pos)}: invalid JSON (',' or ']' expected after item {item} of the "
                "array); fix the file and re-run."
            )
    pos = skip(pos + 1)
    if pos < len(text):
        raise BadInput(
            f"{path}:{line_at(pos)}: text after the end of the JSON array; a .json file holds one "
            "array (or one object a line) — remove the extra text."
        )


def _decode(parse: Callable[[], T], path: Path, line: int, whole_text: bool = False) -> T:
    """Run a JSON parse, turning every way it can fail into a BadInput at ``line`` (or, when
    it parses the whole text, at the line the decoder names)."""
    try:
        return parse()
    except json.JSONDecodeError as e:
        where = e.lineno if whole_text else line
        at = "" if e.msg.endswith(" at") else " at"  # "Unterminated string starting at"
        raise BadInput(
            f"{path}:{where}: malformed JSON ({e.msg}{at} column {e.colno}); each record must be one "
            "JSON object — fix or delete it and re-run."
        ) from e
    except RecursionError as e:
        raise BadInput(
            f"{path}:{line}: JSON nested too deeply to be a paper record; each record must be a flat "
            "object with title and abstract."
        ) from e
    except ValueError as e:  # an integer of more than 4,300 digits
        raise BadInput(f"{path}:{line}: unreadable JSON ({str(e).split(':')[0]}); fix that record.") from e


def _kind(value: Any) -> str:
    """What a parsed JSON value is, in the user's words."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return "a number"
    return {str: "a string", list: "a list"}.get(type(value), "an object")


# --- records -----------------------------------------------------------------------------------


def _text(rec: dict[str, Any], key: str, path: Path, line: int) -> str:
    """A text field, whitespace-collapsed; "" when absent or null."""
    value = rec.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadInput(
            f"{path}:{line}: '{key}' is {_kind(value)}; it must be text (a JSON string), e.g. "
            f'"{key}": "...".'
        )
    return _checked(value, key, path, line)


def _checked(value: str, key: str, path: Path, line: int) -> str:
    bad = _SURROGATE.search(value)
    if bad:
        raise BadInput(
            f"{path}:{line}: '{key}' holds a lone UTF-16 surrogate (\\u{ord(bad.group()):04x}), a "
            "broken escape or mixed encoding; fix or remove that escape."
        )
    return clean_space(value)


def _authors(rec: dict[str, Any], path: Path, line: int) -> str:
    """A string; a list of names; arXiv's authors_parsed [[last, first, ...], ...]; or
    Semantic Scholar's [{"name": ...}, ...]."""
    value = rec.get("authors")
    if not isinstance(value, list):
        return _text(rec, "authors", path, line)
    names = []
    for v in value:
        if isinstance(v, list) and all(isinstance(p, str) for p in v):
            names.append(" ".join(reversed([p for p in v[:2] if p])))
        elif isinstance(v, dict) and isinstance(v.get("name"), str):
            names.append(v["name"])
        elif isinstance(v, str):
            names.append(v)
        else:
            raise BadInput(
                f"{path}:{line}: an author is {_kind(v)}; 'authors' must be text or a list of names, "
                'e.g. "authors": ["Ada Lovelace", "Alan Turing"].'
            )
    return _checked(", ".join(names), "authors", path, line)


def _given_id(rec: dict[str, Any], path: Path, line: int) -> str:
    for key in ("id", "_id"):
        value = rec.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        given = _text(rec, key, path, line)
        if given:
            return given
    return ""


def _paper_from_record(rec: dict[str, Any], path: Path, line: int) -> Paper:
    abstract = _text(rec, "abstract", path, line) or _text(rec, "text", path, line)
    if not abstract:
        raise BadInput(
            f"{path}:{line}: no 'abstract' text (the field, or BEIR's 'text', is missing or empty); "
            "every record needs its abstract."
        )
    _check_length(abstract, "abstract", MAX_ABSTRACT_CHARS, path, line)
    title = _text(rec, "title", path, line)
    _check_length(title, "title", MAX_TITLE_CHARS, path, line)
    given_id = _given_id(rec, path, line)
    url = _text(rec, "url", path, line)
    dates = [_text(rec, key, path, line) for key in ("date", "update_date", "published")]
    if not url and rec.get("update_date") and given_id:  # arXiv metadata snapshot
        url = f"https://arxiv.org/abs/{given_id}"
    return Paper(
        id=given_id or paper_id(abstract),
        title=title,
        abstract=abstract,
        url=url,
        authors=_authors(rec, path, line),
        date=next((d for d in dates if d), ""),
        sources=(f"{path}:{line}",),
    )


# --- CSV and TSV -------------------------------------------------------------------------------


def _parse_table(text: str, path: Path, delimiter: str) -> Iterator[Paper]:
    # strict: a quote that opens a field and never closes, or text after a closing quote, is
    # an error here rather than a silently merged or mangled record.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows = ((line, row) for line, row in _table_rows(reader, path) if any(c.strip() for c in row))
    header_line, header = next(rows, (1, []))
    names = [h.strip().lower() for h in header]
    if "abstract" not in names and "text" not in names:
        found = ", ".join(_show(n) for n in names[:6]) + (", …" if len(names) > 6 else "")
        tabs = delimiter == "\t"
        raise BadInput(
            f"{path}:{header_line}: header has no 'abstract' column (found {len(names)} "
            f"{'tab' if tabs else 'comma'}-separated: {found or 'none'}); make the first line a header "
            f"such as {'title<TAB>abstract<TAB>id<TAB>url' if tabs else 'title,abstract,id,url'}."
        )
    for line, row in rows:
        if len(row) != len(names):
            what = "tabs" if delimiter == "\t" else "commas"
            raise BadInput(
                f"{path}:{line}: {len(row)} fields, but the header has {len(names)}; put fields that "
                f'contain {what} in double quotes ("..."), with quotes inside them doubled ("").'
            )
        yield _paper_from_record(dict(zip(names, row)), path, line)


def _table_rows(reader: Any, path: Path) -> Iterator[tuple[int, list[str]]]:
    """Rows with the line each starts on; csv's errors become BadInput."""
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            problem = str(e).split(" - ")[0]
            if "field larger than field limit" in problem:
                fix = (
                    f"an abstract may have at most {MAX_ABSTRACT_CHARS:,} characters — look for a "
                    "quote that opens a field and never closes"
                )
            else:
                fix = 'a field that starts with a quote must end with one, and quotes inside it are doubled ("")'
            raise BadInput(f"{path}:{start}: bad CSV from this line on ({problem}); {fix}.") from e
        yield start, row
