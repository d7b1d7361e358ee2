"""When a channel's digest falls due. A digest belongs to a period: the day (daily) or the ISO
week (weekly) of its scheduled time in the channel's timezone, keyed "2026-12-07" or "2026-W50".
The period due at a moment is the one of the latest scheduled time at or before it; its digest
is posted once (the request log's claim on "digest:<channel>:<period>" decides which process,
bot/slack/digest.py), so a bot that was down when it fell due posts it on start while the period
lasts, and a period that ended while nothing ran is skipped, not posted late."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.digest.store import Subscription

CADENCES = ("daily", "weekly")
_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


def check_time(value: str) -> str:
    """``value`` as "HH:MM", or a ValueError saying how to write it."""
    match = _TIME.fullmatch(value.strip())
    if not match:
        raise ValueError(f"{value!r} is not a time of day; write it as HH:MM, e.g. 09:00.")
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def period_at(sub: Subscription, now: datetime, weekly_day: int = 0) -> tuple[str, datetime]:
    """(the key of the period due at ``now``, when it fell due), for ``sub``'s schedule."""
    local = now.astimezone(ZoneInfo(sub.tz))
    hour, minute = map(int, sub.at.split(":"))
    due = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if sub.cadence == "weekly":
        due -= timedelta(days=(due.weekday() - weekly_day) % 7)
        if due > local:
            due -= timedelta(days=7)
        year, week, _ = due.isocalendar()
        return f"{year}-W{week:02d}", due
    if due > local:
        due -= timedelta(days=1)
    return due.strftime("%Y-%m-%d"), due


def next_due(sub: Subscription, now: datetime, weekly_day: int = 0) -> datetime:
    """When ``sub``'s next digest falls due after ``now``."""
    _, due = period_at(sub, now, weekly_day)
    # Aware datetimes in one zone add in wall time: the next 09:00 across a clock change is 23 or
    # 25 hours later.
    return due + timedelta(days=7 if sub.cadence == "weekly" else 1)


def due_period(sub: Subscription, now: datetime, weekly_day: int = 0) -> str | None:
    """The period whose digest ``sub`` should get now, if any: subscribed, not posted yet, and
    fallen due after the channel opted in (turning it on at 10:00 does not post 09:00's)."""
    if not sub.enabled:
        return None
    key, due = period_at(sub, now, weekly_day)
    if key == sub.last_period or due.timestamp() <= sub.since:
        return None
    return key
