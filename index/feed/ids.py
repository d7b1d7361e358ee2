"""What a user may paste to name an arXiv paper: an id with or without version
(``2401.01234``, ``2401.01234v3``, ``hep-th/9901001``, ``arXiv:2401.01234``) or an abs/pdf URL."""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.errors import BadInput
from index.sources.records import arxiv_base_id

_URL = re.compile(r"(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html|format)/(.+?)(?:\.pdf)?/?(?:[?#].*)?")
_VERSION = re.compile(r"v(\d+)$")


@dataclass(frozen=True)
class ArxivRef:
    id: str  # base id, no version
    version: int | None = None

    @property
    def asked(self) -> str:
        """The id as the export API takes it: with the version when one was named."""
        return f"{self.id}v{self.version}" if self.version else self.id


def parse_ref(text: str) -> ArxivRef:
    """The paper ``text`` names, or a BadInput saying what paperbot accepts."""
    value = text.strip().strip("<>")  # Slack wraps links in <...>
    value = value.split("|", 1)[0]  # Slack's <url|label>
    match = _URL.fullmatch(value)
    candidate = match.group(1) if match else re.sub(r"(?i)^arxiv:\s*", "", value)
    base = arxiv_base_id(candidate)
    if base is None:
        raise BadInput(
            f"{text.strip()!r} is not an arXiv id or link; give one like 2401.01234, 2401.01234v2, "
            "hep-th/9901001 or https://arxiv.org/abs/2401.01234."
        )
    version = _VERSION.search(candidate[len(base):])
    return ArxivRef(base, int(version.group(1)) if version else None)


def parse_refs(texts: list[str]) -> list[ArxivRef]:
    """Each text's paper, in order, once; a BadInput naming every one that is not an id."""
    refs, bad = [], []
    for t in texts:
        for part in re.split(r"[\s,]+", t.strip()):
            if part:
                try:
                    refs.append(parse_ref(part))
                except BadInput:
                    bad.append(part)
    if bad:
        raise BadInput(
            f"not arXiv ids or links: {', '.join(bad)}; give ids like 2401.01234, 2401.01234v2, "
            "hep-th/9901001 or links like https://arxiv.org/abs/2401.01234. Nothing was added."
        )
    if not refs:
        raise BadInput("no arXiv id given; name papers like 2401.01234 or https://arxiv.org/abs/2401.01234.")
    return list(dict.fromkeys(refs))
