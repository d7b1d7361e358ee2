"""arXiv's metadata formats (lxml elements of an OAI-PMH record) as the records
``index.sources.records.paper_from_arxiv`` reads: the keys of arXiv's metadata snapshot."""

from __future__ import annotations

import re
from typing import Any

RAW = "{http://arxiv.org/OAI/arXivRaw/}"
# arXivRaw's authors are one string as submitted: "A. B, C. D, and E. F" or "A. B and C. D".
_AUTHOR_SEPARATOR = re.compile(r"\s*,\s*(?:and\s+)?|\s+and\s+")
ARXIV = "{http://arxiv.org/OAI/arXiv/}"


def _text(element: Any, path: str) -> str:
    found = element.find(path)
    return (found.text or "") if found is not None else ""


def from_arxiv_raw(meta: Any) -> dict[str, Any]:
    """An ``<arXivRaw>`` element: one ``<version>`` per version with its RFC 2822 date,
    authors as one string, categories space-separated (primary first)."""
    return {
        "id": _text(meta, f"{RAW}id"),
        "title": _text(meta, f"{RAW}title"),
        "abstract": _text(meta, f"{RAW}abstract"),
        "authors": [a for a in _AUTHOR_SEPARATOR.split(_text(meta, f"{RAW}authors")) if a.strip()],
        "categories": _text(meta, f"{RAW}categories"),
        "versions": [
            {"version": v.get("version", ""), "created": _text(v, f"{RAW}date")}
            for v in meta.iterfind(f"{RAW}version")
        ],
    }


def withdrawn(meta: Any) -> bool:
    """Whether an ``<arXivRaw>`` record's latest version is a withdrawal (source type "I", an
    empty version): arXiv's current OAI server shows withdrawn papers so, not as deleted records."""
    versions = meta.findall(f"{RAW}version")
    return bool(versions) and _text(versions[-1], f"{RAW}source_type").strip() == "I"


def from_arxiv(meta: Any) -> dict[str, Any]:
    """An ``<arXiv>`` element: ``created`` (v1) and ``updated`` (the latest version) dates,
    authors as keyname/forenames pairs."""
    authors = [
        " ".join(p for p in (_text(a, f"{ARXIV}forenames"), _text(a, f"{ARXIV}keyname"), _text(a, f"{ARXIV}suffix")) if p)
        for a in meta.iterfind(f"{ARXIV}authors/{ARXIV}author")
    ]
    return {
        "id": _text(meta, f"{ARXIV}id"),
        "title": _text(meta, f"{ARXIV}title"),
        "abstract": _text(meta, f"{ARXIV}abstract"),
        "authors": authors,
        "categories": _text(meta, f"{ARXIV}categories"),
        "date": _text(meta, f"{ARXIV}created"),
        "updated": _text(meta, f"{ARXIV}updated"),
    }


READERS = {"arXivRaw": (f"{RAW}arXivRaw", from_arxiv_raw), "arXiv": (f"{ARXIV}arXiv", from_arxiv)}
