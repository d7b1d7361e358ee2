"""Following arXiv (PAPERBOT_FEED__*): ``paperbot feed arxiv``, ``paperbot add`` and the bot's
scheduled harvest."""

from __future__ import annotations

import re
from datetime import date

from pydantic import Field, field_validator

from index.errors import BadInput
from index.settings.section import Section

# arXiv's OAI-PMH set names: an archive ("cs", "math"), a group and archive ("physics:hep-th")
# or a category ("cs:cs:CL").
_SET = re.compile(r"[a-z][a-z-]*(?::[a-z][a-z-]*(?::[A-Za-z][A-Za-z.-]*)?)?")


class FeedSettings(Section):
    sets: list[str] = Field(
        default_factory=list,
        description='OAI-PMH sets `paperbot feed arxiv` harvests without --set, as a JSON list, e.g. '
        '["cs:cs:CL", "cs:cs:LG"] (a category), ["cs"] (all of cs.*), ["physics:hep-th"].',
    )
    oai_url: str = Field(
        "https://oaipmh.arxiv.org/oai",
        description="arXiv's OAI-PMH endpoint (since 2025; the old export.arxiv.org/oai2 redirects).",
    )
    api_url: str = Field(
        "https://export.arxiv.org/api/query",
        description="arXiv's export API (Atom), which `paperbot add` asks for single papers.",
    )
    metadata_prefix: str = Field(
        "arXivRaw",
        pattern="^(arXivRaw|arXiv)$",
        description="OAI metadata format: arXivRaw lists every version with its date (the first-version "
        "date and the last update come from it); arXiv has created/updated dates and split author names.",
    )
    min_interval_s: float = Field(
        3.0, ge=0,
        description="Seconds between the start of one request to arXiv and the next, across every paperbot "
        "process sharing the data dir; arXiv's terms ask for one request every 3 s, one at a time.",
    )
    contact: str = Field(
        "",
        description="An e-mail address put in the User-Agent: arXiv blocks anonymous clients (403), and "
        "asks harvesters to say who they are. Set it before harvesting from arXiv itself.",
    )
    retries: int = Field(
        4, ge=0, le=20,
        description="Retries of one request that arXiv answered 503/429 (after its Retry-After) or that "
        "failed to connect (with backoff); then the run stops and the cursor stays.",
    )
    max_retry_after_s: float = Field(
        600.0, gt=0,
        description="The longest Retry-After honoured; a longer one stops the run (rerun later) instead of "
        "holding the one-writer lock for hours.",
    )
    timeout_s: float = Field(120.0, gt=0, description="Seconds to wait for one response from arXiv.")
    first_days: int = Field(
        1, ge=0, le=3650,
        description="Days back a set's first harvest starts (without --from and with no cursor yet): 1 is "
        "yesterday's and today's announcements; backfill further with --from.",
    )
    schedule: str = Field(
        "",
        description='When the Slack bot harvests the sets by itself: "" (never), or a UTC time of day "HH:MM" '
        '(for example "03:30", after arXiv\'s daily metadata update at about 22:30 US Eastern), or an interval '
        'such as "24h" or "6h". The same as running `paperbot feed arxiv --every 24h` beside the bot.',
    )

    @field_validator("sets")
    @classmethod
    def _sets(cls, sets: list[str]) -> list[str]:
        for s in sets:
            check_set(s)
        return sets

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        if value and not (_TIME_OF_DAY.fullmatch(value) or _INTERVAL.fullmatch(value)):
            raise ValueError(
                f"schedule {value!r} is neither a UTC time of day such as \"03:30\" nor an interval such as "
                '"24h", "90m" or "2d"; leave it empty to never harvest on a schedule.'
            )
        return value


_TIME_OF_DAY = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
_INTERVAL = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def check_set(name: str) -> str:
    """``name`` if it is an arXiv OAI-PMH set name, else a ValueError saying how they look."""
    if not _SET.fullmatch(name):
        raise ValueError(
            f"{name!r} is not an arXiv OAI-PMH set; sets look like \"cs\" (all of cs.*), \"cs:cs:CL\" "
            '(one category) or "physics:hep-th".'
        )
    return name


def interval_seconds(value: str) -> float:
    """Seconds in an interval such as "24h", "90m", "2d" or "30s"; a ValueError otherwise."""
    match = _INTERVAL.fullmatch(value.strip())
    if not match or float(match.group(1)) <= 0:
        raise ValueError(f"{value!r} is not an interval; write it as a number and a unit, e.g. 24h, 90m, 2d.")
    return float(match.group(1)) * _UNIT_S[match.group(2)]


def parse_day(value: str, flag: str) -> date:
    """A command's YYYY-MM-DD argument ``flag``; a BadInput saying how to write it otherwise."""
    try:
        return date.fromisoformat(value)
    except ValueError as e:
        raise BadInput(f"{flag} {value!r} is not a date; write it as YYYY-MM-DD, e.g. 2024-01-31.") from e


def time_of_day(value: str) -> tuple[int, int] | None:
    """(hour, minute) of an "HH:MM" schedule; None for an interval."""
    if _TIME_OF_DAY.fullmatch(value):
        hour, minute = value.split(":")
        return int(hour), int(minute)
    return None
