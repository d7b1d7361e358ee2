"""Records: JSON Lines and JSON files (``.jsonl``, ``.ndjson``, ``.json``: one object a line, or
a JSON array of objects), and the mapping of one record to a ``Paper`` that every record-shaped
source shares — table rows (``index.sources.table``) and, in memory, the arXiv feed (issue 24).

Record shapes: ``title`` and ``abstract`` with optional ``id``, ``url``, ``authors``, ``date``;
the arXiv metadata snapshot (``id``, ``title``, ``abstract``, ``authors``, ``categories``,
``update_date``); BEIR ``corpus.jsonl`` (``_id``, ``title``, ``text``).

Public: ``paper_from_record`` (any record), ``paper_from_arxiv`` (arXiv metadata, for sources
that know their records are arXiv's) and ``arxiv_base_id``.
"""

from __future__ import annotations

import json
import re
from email.utils import parsedate_to_datetime
from collections.abc import Callable, Iterator, Mapping
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from index.errors import BadInput
from index.sources.checks import MAX_ABSTRACT_CHARS, MAX_TITLE_CHARS, check_length, clean_text
from index.sources.files import lines, show
from index.text import paper_id, readable_latex
from index.types import Paper

T = TypeVar("T")

_JSON_SPACE = re.compile(r"[ \t\n\r]*")
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")

# New-style ids (2401.01234, since 2007) and old-style ones (hep-th/9901001, math.GT/0309136),
# each with an optional version.
_ARXIV_ID = re.compile(r"(\d{4}\.\d{4,5}|[a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?/\d{7})(v\d+)?")


# --- JSON files ------------------------------------------------------------------------------


def parse_records(text: str, path: Path) -> Iterator[Paper]:
    """The papers of a JSON Lines or JSON file's text, in order, each sourced "path:line"."""
    for line, rec in _json_records(text, path):
        yield paper_from_record(rec, f"{path}:{line}")


def _json_records(text: str, path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    if text.startswith("[", _JSON_SPACE.match(text).end()):
        yield from _json_array(text, path)
        return
    for lineno, line in enumerate(lines(text), start=1):
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


# --- one record -> one paper -----------------------------------------------------------------


def paper_from_record(record: Mapping[str, Any], where: str) -> Paper:
    """The paper one record describes, or a BadInput naming ``where`` (a file's "path:line",
    also kept as the paper's source) and the fix.

    Reads ``abstract`` (or BEIR's ``text``; required), ``title``, ``id`` (or BEIR's ``_id``; text
    or an integer; without one the id is a hash of the abstract), ``url``, ``authors`` (text, a
    list of names, arXiv's ``authors_parsed`` lists or Semantic Scholar's ``{"name": ...}``
    objects) and the first of ``date``, ``update_date``, ``published``; other fields are
    ignored. Text is whitespace-collapsed. A record with an ``id`` and an ``update_date`` is one
    of the arXiv metadata snapshot, and its id, url, dates and categories follow ``paper_from_arxiv``'s rules when
    the id is an arXiv id."""
    return _paper(record, where, arxiv=False)


def paper_from_arxiv(record: Mapping[str, Any], where: str = "") -> Paper:
    """The paper of one arXiv metadata record — a line of the arXiv metadata snapshot, or a
    record the arXiv feed builds with the same keys — or a BadInput naming ``where`` and the fix.

    Reads (all text; whitespace and line breaks collapsed):
    - ``id`` (required): an arXiv id, ``2401.01234`` or ``hep-th/9901001``, with or without a
      version such as ``v3``. The paper's id is the base id without the version, so every
      version is one paper and a new version replaces the old text (``index.papers``), and a
      paper read from a snapshot file has the same id.
    - ``abstract`` (required) and ``title``, within ``MAX_ABSTRACT_CHARS``/``MAX_TITLE_CHARS``.
    - ``authors``: text ("A, B"), a list of names, or lists shaped like the snapshot's
      ``authors_parsed`` ([last, first, suffix]).
    - ``url``: default ``https://arxiv.org/abs/<id>``.
    - ``categories``: space-separated text (the snapshot's ``"cs.CL cs.LG"``) or a list, primary
      first.
    - the first-version date (``date``): ``date``, else the first of the snapshot's
      ``versions`` (``[{"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"}, ...]``),
      else ``published``, else ``update_date``; the last update (``updated``): ``updated``, else
      the last version's date when there are several. Dates become YYYY-MM-DD.
    Other keys (``doi``, ``comments``, ...) are ignored. ``where`` (default ``arXiv:<id as
    given>``) names the record in messages and is the paper's source."""
    given = record.get("id")
    return _paper(record, where or (f"arXiv:{given}" if isinstance(given, str) else "arXiv record"), arxiv=True)


def arxiv_base_id(value: str) -> str | None:
    """The arXiv id ``value`` names, without its version (``2401.01234v3`` -> ``2401.01234``);
    None when ``value`` is not an arXiv id."""
    match = _ARXIV_ID.fullmatch(value)
    return match.group(1) if match else None


def _paper(rec: Mapping[str, Any], where: str, arxiv: bool) -> Paper:
    abstract = _text(rec, "abstract", where) or _text(rec, "text", where)
    if not abstract:
        raise BadInput(
            f"{where}: no 'abstract' text (the field, or BEIR's 'text', is missing or empty); "
            "every record needs its abstract."
        )
    check_length(abstract, "abstract", MAX_ABSTRACT_CHARS, where)
    title = _text(rec, "title", where)
    check_length(title, "title", MAX_TITLE_CHARS, where)
    given_id = _given_id(rec, where)
    url = _text(rec, "url", where)
    dates = [_text(rec, key, where) for key in ("date", "update_date", "published")]
    categories: tuple[str, ...] = ()
    updated = ""
    authors = _authors(rec, where)
    if given_id[:6].lower() == "arxiv:":
        given_id = given_id[6:].strip()
    # arXiv's records: the metadata snapshot (an id and an update_date), or any record whose id
    # is an arXiv id ("2401.01234v2", "arXiv:hep-th/9901001"): one paper with the feed's.
    if arxiv or (given_id and (rec.get("update_date") or arxiv_base_id(given_id))):
        # arXiv keeps text as typed: accents as TeX commands ("Bal\\'azs"), math as $...$.
        title, abstract, authors = readable_latex(title), readable_latex(abstract), readable_latex(authors)
        categories = _categories(rec, where)
        versions = _version_dates(rec, where)
        dates = [_day(d) for d in (_text(rec, "date", where), *versions[:1], *dates[2:0:-1]) if d]
        updated = _day(_text(rec, "updated", where)) or (versions[-1] if len(versions) > 1 else "")
        base = arxiv_base_id(given_id)
        if base is None and arxiv:
            problem = f"'id' {show(given_id)} is not an arXiv id" if given_id else "no 'id'"
            raise BadInput(
                f"{where}: {problem}; an arXiv record needs its arXiv id, such as 2401.01234 or "
                "hep-th/9901001 (a version such as v2 may follow)."
            )
        given_id = base or given_id
        url = url or f"https://arxiv.org/abs/{given_id}"
    first = next((d for d in dates if d), "")
    return Paper(
        id=given_id or paper_id(abstract),
        title=title,
        abstract=abstract,
        url=url,
        authors=authors,
        date=first,
        sources=(where,),
        categories=categories,
        updated=updated if updated != first else "",
    )


def _categories(rec: Mapping[str, Any], where: str) -> tuple[str, ...]:
    value = rec.get("categories")
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(dict.fromkeys(c.strip() for c in value if c.strip()))
    return tuple(dict.fromkeys(_text(rec, "categories", where).split()))


def _version_dates(rec: Mapping[str, Any], where: str) -> list[str]:
    """The days of the snapshot's ``versions`` list, in order; [] without one."""
    versions = rec.get("versions")
    if not isinstance(versions, list):
        return []
    days = []
    for v in versions:
        created = v.get("created") if isinstance(v, dict) else None
        if not isinstance(created, str):
            raise BadInput(
                f"{where}: a 'versions' item has no 'created' date; arXiv's snapshot writes "
                '{"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"}.'
            )
        days.append(_day(created))
    return days


def _day(value: str) -> str:
    """YYYY-MM-DD of an ISO date or timestamp or an RFC 2822 date ("Mon, 2 Apr 2007 19:18:42
    GMT", as arXiv writes version dates); other text unchanged."""
    if _ISO_DAY.match(value):
        return value[:10]
    try:
        return parsedate_to_datetime(value).date().isoformat()
    except (TypeError, ValueError, IndexError):
        return value


def _text(rec: Mapping[str, Any], key: str, where: str) -> str:
    """A text field, whitespace-collapsed; "" when absent or null."""
    value = rec.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadInput(
            f"{where}: '{key}' is {_kind(value)}; it must be text (a JSON string), e.g. "
            f'"{key}": "...".'
        )
    return clean_text(value, key, where)


def _authors(rec: Mapping[str, Any], where: str) -> str:
    """A string; a list of names; arXiv's authors_parsed [[last, first, ...], ...]; or
    Semantic Scholar's [{"name": ...}, ...]."""
    value = rec.get("authors")
    if not isinstance(value, list):
        return _text(rec, "authors", where)
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
                f"{where}: an author is {_kind(v)}; 'authors' must be text or a list of names, "
                'e.g. "authors": ["Ada Lovelace", "Alan Turing"].'
            )
    return clean_text(", ".join(names), "authors", where)


def _given_id(rec: Mapping[str, Any], where: str) -> str:
    for key in ("id", "_id"):
        value = rec.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        given = _text(rec, key, where)
        if given:
            return given
    return ""
