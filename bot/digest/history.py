"""What a channel has said about its interests, read from the data dir the bot writes: the
questions answered there (the Slack request log), the papers those answers cited and the votes
on them (the traces), and the votes and "Ask about this" clicks on earlier digest items (the
digest store). The bot's digest and `paperbot digest` read the same history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.digest.store import DigestStore
from bot.slack.requests_log import REQUESTS_FILE, RequestLog
from bot.traces import TraceStore
from index.settings import Settings

# question: asked in the channel; cited: a paper an answer there cited; liked / disliked: a
# digest item voted up (or asked about) or down, or an answer voted up; keywords: what the
# channel said it follows.
Kind = Literal["question", "cited", "liked", "disliked", "keywords"]


@dataclass(frozen=True)
class Signal:
    kind: Kind
    at: float  # when (epoch seconds)
    text: str = ""  # the question, or the keywords
    paper_id: str = ""  # the paper, for cited / liked / disliked


def channel_history(settings: Settings, channel: str, store: DigestStore) -> list[Signal]:
    """Everything ``channel`` said about its interests, oldest first. Files the bot has not
    written yet (no question asked, no trace recorded) are a history without them."""
    signals: list[Signal] = []
    log_path = settings.index.data_dir / REQUESTS_FILE
    asked = RequestLog(log_path).asked_in(channel) if log_path.exists() else []
    from bot.slack.adding import add_refs  # "add 2401.01234" is a request, not an interest

    asked = [r for r in asked if add_refs(r.text) is None]
    signals += [Signal("question", r.created, text=r.text) for r in asked]
    runs = {r.run_id: r.created for r in asked if r.run_id}
    if runs and settings.traces_path.exists():
        traces = TraceStore(settings.traces_path)
        try:
            votes = traces.net_votes(list(runs))
            for run_id, papers in traces.cited(list(runs)).items():
                # An answer voted up: its papers were what the channel wanted; voted down, the
                # papers may be the reason, so they do not count for the channel.
                vote = votes.get(run_id, 0)
                kind: Kind = "liked" if vote > 0 else "cited"
                if vote >= 0:
                    signals += [Signal(kind, runs[run_id], paper_id=p) for p in papers]
        finally:
            traces.close()
    for r in store.reactions(channel):
        signals.append(Signal("liked" if r.value > 0 else "disliked", r.created, paper_id=r.paper_id))
    return sorted(signals, key=lambda s: s.at)
