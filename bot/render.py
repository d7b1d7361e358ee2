"""Rendering is a pure function of the data: terminal text and JSON."""

from __future__ import annotations

import json
import textwrap
from typing import Any

from bot.types import Answer, Hit

WIDTH = 100


def _wrap(text: str, indent: str = "") -> str:
    return textwrap.fill(text, WIDTH, initial_indent=indent, subsequent_indent=indent)


def answer_text(a: Answer) -> str:
    lines = [_wrap(a.text), ""]
    if a.refused:
        lines.append("Nearest papers (not close enough to cite):")
        for i, h in enumerate(a.hits, start=1):
            lines.append(_wrap(f"{i}. {h.paper.display_title}", "  "))
    else:
        lines.append("Sources:")
        for c in a.citations:
            head = f"[{c.n}] {c.paper.display_title}" + (f" — {c.paper.url}" if c.paper.url else "")
            lines.append(_wrap(head, "  "))
            lines.append(_wrap(f"“{c.evidence}”", "      "))
    return "\n".join(lines)


def search_text(query: str, hits: list[Hit]) -> str:
    lines = [f"Results for: {query}"]
    for i, h in enumerate(hits, start=1):
        lines.append(f"{i:>3}. {h.score:.3f}  {h.paper.display_title}  [{h.paper.id}]")
    if not hits:
        lines.append("  (no matching papers)")
    return "\n".join(lines)


def search_json(query: str, hits: list[Hit]) -> dict[str, Any]:
    return {"query": query, "hits": [h.to_dict(i) for i, h in enumerate(hits, start=1)]}


def dumps(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False)
