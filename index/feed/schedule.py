"""The feed left running: ``paperbot feed arxiv --every 24h`` and the Slack bot's
PAPERBOT_FEED__SCHEDULE. One line per run; a failed run (arXiv down, the network gone) is
retried with backoff and never ends the loop; a run while another harvest holds the lock is
skipped; bad settings (a malformed set) stop it, since waiting would not fix them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from index.errors import BadInput, ConfigError, PaperbotError
from index.feed.cursor import Cursors
from index.feed.run import FeedReport, feed_arxiv
from index.settings import Settings
from index.settings.feed import interval_seconds, time_of_day

FIRST_RETRY_S = 60.0


def next_due(schedule: str, after: datetime) -> datetime:
    """When a schedule ("HH:MM" UTC, or an interval such as "24h") next falls due after ``after``."""
    at = time_of_day(schedule)
    if at is None:
        return after + timedelta(seconds=interval_seconds(schedule))
    due = after.replace(hour=at[0], minute=at[1], second=0, microsecond=0)
    return due if due > after else due + timedelta(days=1)


def run_on_schedule(
    settings: Settings,
    schedule: str,
    sets: list[str] | None = None,
    log: Callable[[str], None] = print,
    stop: threading.Event | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    runs: int | None = None,
    run_first: bool = True,
    on_report: Callable[[FeedReport], None] | None = None,
) -> list[FeedReport | Exception]:
    """Harvest now (``run_first``; otherwise when ``schedule`` falls due after the last
    completed run, at once if that is past) and then whenever it falls due, until ``stop`` is
    set or ``runs`` runs are done; returns each run's report or error."""
    stop = stop or threading.Event()
    outcomes: list[FeedReport | Exception] = []
    failures = 0
    last = Cursors(settings.feed_dir, settings.index.name).last_run()
    # A run missed while nothing was running (the bot restarted, the host slept) is due at once.
    due = now() if run_first or last is None else max(now(), next_due(schedule, last))
    while not stop.is_set() and (runs is None or len(outcomes) < runs):
        wait = (due - now()).total_seconds()
        if wait > 0 and stop.wait(wait):
            break
        started = now()
        try:
            report = feed_arxiv(settings, sets, log=lambda m: log(f"feed: {m}"))
        except (BadInput, ConfigError) as e:
            log(f"feed: stopped: {e}")
            outcomes.append(e)
            raise
        except PaperbotError as e:  # arXiv failed, or another harvest is running
            failures += 1
            retry = min(FIRST_RETRY_S * 2 ** (failures - 1), _period_s(schedule, started))
            due = started + timedelta(seconds=retry)
            log(f"feed: run failed ({e}); next try at {due:%Y-%m-%d %H:%M:%S} UTC.")
            outcomes.append(e)
            continue
        failures = 0
        outcomes.append(report)
        if on_report is not None:
            on_report(report)
        due = next_due(schedule, started)
        log(f"feed: {report.summary()} Next run at {due:%Y-%m-%d %H:%M:%S} UTC.")
    return outcomes


def _period_s(schedule: str, at: datetime) -> float:
    return (next_due(schedule, at) - at).total_seconds()


def start_in_background(settings: Settings, log: Callable[[str], None]) -> threading.Event | None:
    """The Slack bot's harvest: a daemon thread following PAPERBOT_FEED__SCHEDULE (None when
    unset). Set the returned event to stop it."""
    schedule = settings.feed.schedule
    if not schedule:
        return None
    if not settings.feed.sets:
        raise ConfigError(
            "PAPERBOT_FEED__SCHEDULE is set but PAPERBOT_FEED__SETS is empty; name the sets to follow, "
            "e.g. PAPERBOT_FEED__SETS='[\"cs:cs:CL\"]'."
        )
    stop = threading.Event()

    def loop() -> None:
        try:
            run_on_schedule(settings, schedule, log=log, stop=stop, run_first=False)
        except PaperbotError:
            pass  # logged by the loop; the bot keeps answering

    threading.Thread(target=loop, name="paperbot-feed", daemon=True).start()
    return stop


__all__ = ["next_due", "run_on_schedule", "start_in_background"]
