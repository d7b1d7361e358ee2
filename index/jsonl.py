"""JSON Lines of the index's big files (papers.jsonl, chunks.jsonl): orjson lives here and
nowhere else. At 100k papers json's encoder spent 3.6 s of a 1% add writing 180k chunk rows,
its decoder 1.7 s reading them back; orjson does both in a fraction (`python -m evals.bench.scale`).
Rows are UTF-8 JSON objects, one a line, readable by any JSON parser."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson


def write_rows(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    with path.open("wb") as f:
        f.writelines(orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE) for row in rows)


def read_rows(path: Path) -> Iterator[dict[str, Any]]:
    with path.open("rb") as f:
        for line in f:
            if line.strip():
                yield orjson.loads(line)
