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
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from index.errors import BadInput
from index.types import Paper
from index.text import clean_space, paper_id

TEXT_SUFFIXES = {".txt"}
JSON_SUFFIXES = {".jsonl", ".ndjson", ".json"}
TABLE_SUFFIXES = {".csv", ".tsv"}
SUPPORTED = sorted(TEXT_SUFFIXES | JSON_SUFFIXES | TABLE_SUFFIXES)

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
    """The file's text, or a BadInput saying why it cannot be used."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise BadInput(f"{path}: cannot be read ({e.strerror}); check its permissions.") from e
    if b"\x00" in raw[:8192]:
        raise BadInput(f"{path}: looks like a binary file, not text; {_FIX_FORMAT}.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise BadInput(
            f"{path}: not UTF-8 text (bad byte at offset {e.start}); re-save it as UTF-8."
        ) from e
    if not text.strip():
        raise BadInput(f"{path}: file is empty; remove it from the command or add abstracts to it.")
    return text


def read_papers(path: Path) -> list[Paper]:
    """All papers in one file, in file order."""
    text = read_text_file(path)
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        papers = list(_parse_listing(text, path))
    elif suffix in JSON_SUFFIXES:
        papers = [_paper_from_record(rec, path, line) for line, rec in _json_records(text, path)]
    else:
        papers = list(_parse_table(text, path, delimiter="\t" if suffix == ".tsv" else ","))
    if not papers:
        raise BadInput(f"{path}: no abstracts found; {_FIX_FORMAT}.")
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
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = clean_space(raw)
        if not line or _JUNK.match(line):
            continue
        line = _GLUED_SUBSCRIBE.sub("", line)
        explicit = _ABSTRACT_PREFIX.match(line)
        if explicit or _looks_like_abstract(line):
            abstract = line[explicit.end():] if explicit else line
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


# --- JSON and tables -------------------------------------------------------------------------


def _json_records(text: str, path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            records = json.loads(text)
        except json.JSONDecodeError as e:
            raise BadInput(f"{path}:{e.lineno}: invalid JSON ({e.msg}); fix the file and re-run.") from e
        for i, rec in enumerate(records, start=1):
            if not isinstance(rec, dict):
                raise BadInput(f"{path}: item {i} of the JSON array is not an object.")
            yield i, rec
        return
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            raise BadInput(
                f"{path}:{lineno}: malformed JSON line ({e.msg} at column {e.colno}); "
                "each line must be one JSON object — fix or delete that line and re-run."
            ) from e
        if not isinstance(rec, dict):
            raise BadInput(f"{path}:{lineno}: expected a JSON object with title and abstract.")
        yield lineno, rec


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        # arXiv's authors_parsed style [[last, first, ...], ...] or a plain list of names
        return ", ".join(
            " ".join(reversed([p for p in v[:2] if p])) if isinstance(v, list) else str(v) for v in value
        )
    return clean_space(str(value))


def _paper_from_record(rec: dict[str, Any], path: Path, line: int) -> Paper:
    abstract = _as_text(rec.get("abstract") or rec.get("text"))
    if not abstract:
        raise BadInput(
            f"{path}:{line}: no 'abstract' (or BEIR 'text') field; every record needs the abstract text."
        )
    given_id = _as_text(rec.get("id") or rec.get("_id"))
    url = _as_text(rec.get("url"))
    if not url and rec.get("update_date") and given_id:  # arXiv metadata snapshot
        url = f"https://arxiv.org/abs/{given_id}"
    return Paper(
        id=given_id or paper_id(abstract),
        title=_as_text(rec.get("title")),
        abstract=abstract,
        url=url,
        authors=_as_text(rec.get("authors")),
        date=_as_text(rec.get("date") or rec.get("update_date") or rec.get("published")),
        sources=(f"{path}:{line}",),
    )


def _parse_table(text: str, path: Path, delimiter: str) -> Iterator[Paper]:
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    fields = {f.strip().lower() for f in reader.fieldnames or []}
    if "abstract" not in fields and "text" not in fields:
        raise BadInput(
            f"{path}:1: header has no 'abstract' column (found: {', '.join(sorted(fields)) or 'none'}); "
            "add a header line such as title,abstract,id,url."
        )
    for row in reader:
        rec = {(k or "").strip().lower(): v for k, v in row.items()}
        if not any((v or "").strip() for v in rec.values() if isinstance(v, str)):
            continue
        yield _paper_from_record(rec, path, reader.line_num)
