"""The channel digest (PAPERBOT_DIGEST__*): what a channel that opted in (``/paper digest on``)
gets when its digest falls due, and how its papers are ranked (bot/digest/)."""

from __future__ import annotations

from pydantic import Field, field_validator

from index.settings.section import Section


class DigestSettings(Section):
    max_papers: int = Field(
        5, ge=1, le=20,
        description="Papers in one digest (at most 20: each takes two of a Slack message's 50 blocks). "
        "`paperbot digest --limit` overrides it for a dry run.",
    )
    min_score: float = Field(
        0.30, ge=-1, le=1,
        description="A new paper whose cosine similarity to the history item it is closest to is under this "
        "is left out, so a quiet week gives a short digest instead of filler; a digest with nothing over it "
        "is not posted. 0.30 keeps about 3 of 5 on the dev channels of `python -m evals.digest` (not tuned).",
    )
    half_life_days: float = Field(
        60.0, gt=0,
        description="A channel's question, cited paper or vote counts half as much after this many days: "
        "interests drift.",
    )
    temperature: float = Field(
        0.5, gt=0,
        description="How sharply a candidate's score follows its closest history items rather than all of "
        "them (a softmax temperature over cosine similarities): a channel with several topics is not "
        "averaged into none. Chosen on the dev channels.",
    )
    lexical_weight: float = Field(
        0.8, ge=0,
        description="How much a question's or the keywords' own words in a paper add to its cosine similarity "
        "(BM25, scaled to 1 for the best new paper): names of methods and datasets are matched as written. "
        "Chosen on the dev channels.",
    )
    cited_weight: float = Field(
        0.5, ge=0, description="Weight of a paper cited in an answer in the channel, against 1 for a question."
    )
    voted_weight: float = Field(
        1.5, ge=0,
        description="Weight of a paper voted up (or asked about) in an earlier digest, or of an answer voted up.",
    )
    down_penalty: float = Field(
        0.5, ge=0,
        description="How much a candidate's similarity to a paper voted down in a digest is taken off its score.",
    )
    thin_history: int = Field(
        50, ge=1,
        description="The channel's keywords (`/paper digest keywords`) weigh as much as this many questions: "
        "they lead while the channel has asked little, and fade as its history grows.",
    )
    max_candidates: int = Field(
        5000, ge=1,
        description="At most this many new papers are ranked for one digest (the most recently added), so "
        "a first digest after a large backfill stays quick.",
    )
    default_time: str = Field(
        "09:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
        description="Time of day a digest is posted when `/paper digest on` names none.",
    )
    default_timezone: str = Field(
        "UTC", description="Timezone used when `/paper digest on` names none (an IANA name, e.g. Europe/Paris)."
    )
    weekly_day: int = Field(
        0, ge=0, le=6, description="Day a weekly digest is posted: 0 is Monday, 6 is Sunday."
    )
    check_every_s: float = Field(
        60.0, gt=0, description="How often the running bot looks for digests that fell due."
    )

    @field_validator("default_timezone")
    @classmethod
    def _timezone(cls, name: str) -> str:
        return check_timezone(name)  # pydantic names the field in its error


def check_timezone(name: str) -> str:
    """``name`` if it is an IANA timezone, or a ValueError saying how they look (the default
    here, and what `/paper digest on` is given, bot/digest/schedule.py)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ValueError(
            f"{name!r} is not a timezone; use an IANA name such as Europe/Paris, America/New_York or UTC."
        ) from e
    return name
