"""The input kinds paperbot reads from files, by file name ending, and the two functions the
rest of paperbot calls: ``expand_paths`` (paths and folders -> the files to read) and
``read_papers`` (one file -> its papers, not yet de-duplicated: see ``index.papers``).

A file that cannot be read as given is a ``BadInput`` naming the file, the line where the
problem is, and the fix. No other exception escapes a reader (``tests/test_fuzz_inputs.py``
feeds them hundreds of malformed files).

Adding a kind: a module with ``parse(text, path) -> Iterable[Paper]`` and one line in ``KINDS``.
Sources that are not files (the arXiv feed, issue 24) build papers with ``index.sources.records`` and
hand them to ``index.ingest.ingest_papers``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from index.errors import BadInput
from index.sources.files import read_text_file
from index.sources.listing import EMPTY_HINT as LISTING_HINT, parse_listing
from index.sources.records import parse_records
from index.sources.table import parse_table
from index.types import Paper


@dataclass(frozen=True)
class InputKind:
    """One kind of input file."""

    name: str
    suffixes: tuple[str, ...]  # lower case, with the dot
    parse: Callable[[str, Path], Iterable[Paper]]  # a file's text (and its path, for messages) -> papers
    describes: str  # what paperbot reads of this kind, as said in messages
    empty_hint: str = ""  # what a file of this kind that gave no paper lacks (default: every kind)


KINDS: tuple[InputKind, ...] = (
    InputKind("listing", (".txt",), parse_listing, ".txt abstract listings", LISTING_HINT),
    InputKind(
        "records", (".jsonl", ".ndjson", ".json"), parse_records,
        "JSONL/JSON (title+abstract, arXiv metadata, BEIR corpus.jsonl)",
    ),  # fmt: skip
    InputKind("table", (".csv", ".tsv"), parse_table, "CSV/TSV with title,abstract columns"),
)

SUPPORTED = sorted(s for kind in KINDS for s in kind.suffixes)
_BY_SUFFIX = {s: kind for kind in KINDS for s in kind.suffixes}
_DESCRIBED = [kind.describes for kind in KINDS]
FIX_FORMAT = f"paperbot reads {', '.join(_DESCRIBED[:-1])} and {_DESCRIBED[-1]}"


def kind_of(path: Path) -> InputKind:
    """The kind of file ``path`` is, by its ending; a BadInput naming the kinds there are."""
    kind = _BY_SUFFIX.get(path.suffix.lower())
    if kind is None:
        raise BadInput(
            f"{path}: unknown format '{path.suffix or '(no extension)'}'; {FIX_FORMAT} "
            f"(rename the file with one of {', '.join(SUPPORTED)})."
        )
    return kind


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
                and p.suffix.lower() in _BY_SUFFIX
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not found:
                raise BadInput(f"{path}: folder holds no {'/'.join(SUPPORTED)} files; {FIX_FORMAT}.")
            files.extend(found)
        else:
            kind_of(path)
            files.append(path)
    return files


def read_papers(path: Path) -> list[Paper]:
    """All papers in one file, in file order."""
    kind = kind_of(path)
    papers = list(kind.parse(read_text_file(path), path))
    if not papers:
        raise BadInput(f"{path}: no abstracts found; {kind.empty_hint or FIX_FORMAT}.")
    return papers
