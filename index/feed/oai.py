"""Harvesting arXiv's OAI-PMH interface with oaipmh-scythe (the maintained successor of
Sickle): ``ListRecords`` of one set over a range of days, following resumption tokens.

Scythe pages through resumption tokens and maps OAI errors to exceptions; requests go through
our ``PoliteClient`` (pacing, Retry-After, backoff) instead of its own retry loop, and every page
is checked as strict XML first (Scythe's parser recovers from broken XML, which would silently
drop the records after the break, and with them the resumption token)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from oaipmh_scythe import Scythe
from oaipmh_scythe.config import RetryConfig
from oaipmh_scythe.exceptions import BadResumptionToken, NoRecordsMatch, OAIPMHException
from oaipmh_scythe.response import OAIResponse

from index.errors import FeedError
from index.feed.http import PoliteClient
from index.feed.records import READERS, withdrawn
from index.sources.records import arxiv_base_id

OAI = "{http://www.openarchives.org/OAI/2.0/}"
_STRICT = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


@dataclass
class Harvested:
    """What one run read, over all its sets: the latest record of each paper (by datestamp;
    cross-listed papers come once per set) and the papers arXiv deleted or withdrew."""

    records: dict[str, dict[str, Any]] = field(default_factory=dict)  # base id -> snapshot-shaped record
    deleted: dict[str, str] = field(default_factory=dict)  # base id -> datestamp
    stamps: dict[str, str] = field(default_factory=dict)  # base id -> datestamp of the record kept
    read: int = 0  # records read, deleted ones and repeats included
    skipped: list[str] = field(default_factory=list)  # ids whose record could not be read

    def add(self, base: str, stamp: str, record: dict[str, Any] | None) -> None:
        self.read += 1
        known = max(self.stamps.get(base, ""), self.deleted.get(base, ""))
        if stamp < known:
            return
        if record is None:
            self.records.pop(base, None)
            self.stamps.pop(base, None)
            self.deleted[base] = stamp
        else:
            self.deleted.pop(base, None)
            self.records[base] = record
            self.stamps[base] = stamp


class _PoliteScythe(Scythe):
    def __init__(self, endpoint: str, client: PoliteClient, what: str) -> None:
        super().__init__(endpoint, retry_config=RetryConfig(max_retries=0))
        self._polite = client
        self._what = what

    def harvest(self, query: dict[str, str]) -> OAIResponse:  # one page
        http_response = self._polite.get(self.endpoint, query, self._what)
        page = f"{self._what} (page {self._polite.requests})"
        try:
            root = etree.fromstring(http_response.content, _STRICT)
        except etree.XMLSyntaxError as e:
            raise FeedError(
                f"{page}: arXiv sent a malformed page (HTTP {http_response.status_code}, {e}); the run stopped "
                "and changed nothing — rerun later, and report it to arXiv if it persists."
            ) from e
        if root.tag != f"{OAI}OAI-PMH":
            raise FeedError(
                f"{page}: the answer is not an OAI-PMH page (root <{etree.QName(root).localname}>); check "
                "PAPERBOT_FEED__OAI_URL (arXiv's is https://oaipmh.arxiv.org/oai). Nothing was changed."
            )
        response = OAIResponse(http_response, params=query)
        response.raise_for_oaipmh_error()
        if http_response.status_code >= 400:
            raise FeedError(f"{page}: arXiv answered {http_response.status_code}; nothing was changed.")
        return response


def harvest_set(
    client: PoliteClient, url: str, set_: str, from_: str, until: str, prefix: str, into: Harvested
) -> None:
    """Add to ``into`` every record of ``set_`` whose datestamp is in [from_, until]; a
    FeedError when arXiv answers with an error other than "no records match"."""
    what = f"OAI-PMH ListRecords set={set_} from={from_} until={until}"
    root_tag, read = READERS[prefix]
    with _PoliteScythe(url, client, what) as scythe:
        try:
            for record in scythe.list_records(from_=from_, until=until, metadata_prefix=prefix, set_=set_):
                identifier = record.header.identifier or ""
                base = arxiv_base_id(identifier.rsplit(":", 1)[-1])
                if base is None:
                    into.skipped.append(identifier)
                    continue
                stamp = record.header.datestamp or ""
                if record.deleted:
                    into.add(base, stamp, None)
                    continue
                meta = record.xml.find(f"{OAI}metadata/{root_tag}")
                if meta is None:
                    into.skipped.append(base)
                    continue
                into.add(base, stamp, None if withdrawn(meta) else read(meta))
        except NoRecordsMatch:
            return  # nothing new in the range: not an error
        except BadResumptionToken as e:
            raise FeedError(
                f"{what}: arXiv no longer accepts the resumption token ({e or 'badResumptionToken'}); tokens expire "
                "at the next UTC midnight — rerun, and the harvest starts again from the same day."
            ) from e
        except OAIPMHException as e:
            code = type(e).__name__[0].lower() + type(e).__name__[1:]
            raise FeedError(
                f"{what}: arXiv answered the OAI-PMH error {code} ({e}); check the set name and dates "
                "(sets look like cs or cs:cs:CL; dates YYYY-MM-DD). Nothing was changed."
            ) from e
