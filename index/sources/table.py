"""Tables (``.csv``, ``.tsv``): a header naming the columns — ``abstract`` (or ``text``) and any of
``title``, ``id``, ``url``, ``authors``, ``date`` — then one paper a row, read as a record
(``index.sources.records.paper_from_record``). Quoting is strict, so a broken quote is an error
on its line rather than records silently merged."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from index.errors import BadInput
from index.sources.checks import MAX_ABSTRACT_CHARS
from index.sources.files import show
from index.sources.records import paper_from_record
from index.types import Paper


def parse_table(text: str, path: Path) -> Iterator[Paper]:
    """The papers of a table's text, in order; tab-separated for ``.tsv``, else comma."""
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    # strict: a quote that opens a field and never closes, or text after a closing quote, is
    # an error here rather than a silently merged or mangled record.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows = ((line, row) for line, row in _table_rows(reader, path) if any(c.strip() for c in row))
    header_line, header = next(rows, (1, []))
    names = [h.strip().lower() for h in header]
    if "abstract" not in names and "text" not in names:
        found = ", ".join(show(n) for n in names[:6]) + (", …" if len(names) > 6 else "")
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
        yield paper_from_record(dict(zip(names, row)), f"{path}:{line}")


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
