"""Single papers from arXiv's export API (Atom), read with feedparser: ``id_list`` gives the
latest version of each id, or the version named."""

from __future__ import annotations

import re
from typing import Any

import feedparser

from index.errors import BadInput, FeedError
from index.feed.http import PoliteClient
from index.feed.ids import ArxivRef
from index.sources.records import arxiv_base_id

_ERROR_ID = "arxiv.org/api/errors"
# arXiv's own categories ("cs.CL", "hep-th", "math.GT"): the Atom feed also lists ACM and MSC
# classes ("I.2.7", "68T50") as categories.
_CATEGORY = re.compile(r"[a-z][a-z-]*(?:\.[A-Za-z-]+)?")
_ABS = re.compile(r"arxiv\.org/abs/(.+)$")
BATCH = 100  # ids per request (the API pages by max_results)


def fetch(client: PoliteClient, url: str, refs: list[ArxivRef]) -> dict[ArxivRef, dict[str, Any]]:
    """The record of each paper ``refs`` name, snapshot-shaped (``paper_from_arxiv`` reads it);
    a BadInput naming every id arXiv does not know, or a FeedError when the API fails."""
    found: dict[ArxivRef, dict[str, Any]] = {}
    for i in range(0, len(refs), BATCH):
        part = refs[i : i + BATCH]
        asked = ",".join(r.asked for r in part)
        response = client.get(url, {"id_list": asked, "max_results": str(len(part))}, f"export API id_list={asked}")
        feed = feedparser.parse(response.content)
        if feed.bozo and not feed.entries:
            raise FeedError(
                f"export API id_list={asked}: the answer is not an Atom feed (HTTP {response.status_code}: "
                f"{feed.get('bozo_exception', '')}); check PAPERBOT_FEED__API_URL (arXiv's is "
                "https://export.arxiv.org/api/query) and rerun. Nothing was added."
            )
        by_id = {}
        for entry in feed.entries:
            if _ERROR_ID in entry.get("id", ""):
                raise BadInput(
                    f"arXiv's export API refused {asked}: {entry.get('summary', 'an error entry')}; check the "
                    "ids (2401.01234, 2401.01234v2, hep-th/9901001). Nothing was added."
                )
            record = _record(entry)
            by_id[record["id"]] = record
        for ref in part:
            record = by_id.get(ref.asked) or _latest(by_id, ref)
            if record is not None:
                found[ref] = record
    missing = [r.asked for r in refs if r not in found]
    if missing:
        raise BadInput(
            f"arXiv has no paper {', '.join(missing)} (or not that version); check the id{'s' if len(missing) > 1 else ''}. "
            "Nothing was added."
        )
    return found


def _latest(by_id: dict[str, dict[str, Any]], ref: ArxivRef) -> dict[str, Any] | None:
    if ref.version is not None:
        return None
    return next((r for key, r in by_id.items() if arxiv_base_id(key) == ref.id), None)


def _record(entry: Any) -> dict[str, Any]:
    """One Atom entry as a snapshot-shaped record; its id keeps the version it names."""
    match = _ABS.search(entry.get("id", ""))
    primary = (entry.get("arxiv_primary_category") or {}).get("term", "")
    terms = [t.get("term", "") for t in entry.get("tags", [])]
    categories = [c for c in dict.fromkeys([primary, *terms]) if c and _CATEGORY.fullmatch(c)]
    return {
        "id": match.group(1) if match else entry.get("id", ""),
        "title": entry.get("title", ""),
        "abstract": entry.get("summary", ""),
        "authors": [a.get("name", "") for a in entry.get("authors", []) if a.get("name")],
        "categories": categories,
        "published": entry.get("published", ""),
        "updated": entry.get("updated", ""),
    }
