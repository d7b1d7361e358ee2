"""Rendering is a pure function of the data: terminal text and JSON."""

from __future__ import annotations

import json
import textwrap
from typing import Any

from bot.types import Answer, Hit

WIDTH = 100


def _wrap(text: str, indent: str = "") -> str:
    return textwrap.fill(text, WIDTH, initial_indent=indent, subsequent_indent=indent)


def context_line(a: Answer) -> str:
    total = a.timings.get("total")
    parts = [a.backend, f"{total:.1f}s" if total is not None else "", f"run {a.run_id}" if a.run_id else ""]
    return "— " + " · ".join(p for p in parts if p)


def answer_text(a: Answer) -> str:
    lines = [f"Note: {a.notice}", ""] if a.notice else []
    if a.caveat:
        lines += [_wrap(f"Tentative: {a.caveat}"), ""]
    lines += [_wrap(a.text), ""]
    if a.refused:
        lines.append("Nearest papers (not close enough to cite):")
        for i, h in enumerate(a.hits, start=1):
            lines.append(_wrap(f"{i}. {h.paper.display_title}", "  "))
    else:
        lines.append("Sources:")
        for c in a.citations:
            head = f"[{c.n}] {c.paper.display_title}" + (f" — {c.paper.url}" if c.paper.url else "")
            lines.append(_wrap(head, "  "))
            if c.paper.byline:
                lines.append(_wrap(c.paper.byline, "      "))
            lines.append(_wrap(f"“{c.evidence}”", "      "))
    lines += ["", context_line(a)]
    return "\n".join(lines)


def side_by_side(left_title: str, left: str, right_title: str, right: str, width: int = 60) -> str:
    """Two renderings in columns, for `paperbot replay`."""
    def column(title: str, text: str) -> list[str]:
        out = [title, "-" * min(width, len(title))]
        for para in text.splitlines():
            out += textwrap.wrap(para, width) or [""]
        return out

    a, b = column(left_title, left), column(right_title, right)
    a += [""] * (len(b) - len(a))
    b += [""] * (len(a) - len(b))
    return "\n".join(f"{x:<{width}} │ {y}" for x, y in zip(a, b))


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
