"""The one HTTP client paperbot talks to arXiv with (httpx2, the client oaipmh-scythe uses),
polite as arXiv's terms ask: one request at a time and at least ``min_interval_s`` between
them, across every paperbot process that shares the data dir (a lock file holds the turn and
the time the next request may start); 503 and 429 answered with their Retry-After, connection
failures with backoff, a bounded number of times; 403 and other refusals stop the run."""

from __future__ import annotations

import fcntl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.utils import parsedate_to_datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import httpx2

from index.errors import FeedError
from index.settings.feed import FeedSettings

Response = httpx2.Response


def user_agent(contact: str) -> str:
    """paperbot's User-Agent, with the contact arXiv asks harvesters for."""
    try:
        mine = version("paperbot")
    except PackageNotFoundError:  # run from a checkout without installing
        mine = "dev"
    return f"paperbot/{mine} (+https://github.com/paperbot; mailto:{contact})" if contact else f"paperbot/{mine}"


class Pacer:
    """Whose turn it is to ask arXiv, across processes: a lock file holding, while a request
    is in flight, an exclusive lock, and between requests the wall-clock time the next may
    start (a request's end plus the interval, or later when arXiv asked to wait)."""

    def __init__(self, folder: Path, interval_s: float, sleep: Callable[[float], None] = time.sleep) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "arxiv.pace"
        self.interval_s = interval_s
        self.sleep = sleep
        self.waited_s = 0.0  # time spent waiting for a turn: the politeness share of a run

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Wait for this process's turn, hold it for one request, and set the next start."""
        with self.path.open("a+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)  # one request in flight across processes
            not_before = self._get(f)
            started = time.monotonic()
            delay = not_before - time.time()
            if delay > 0:
                self.sleep(min(delay, 24 * 3600))
            self.waited_s += time.monotonic() - started
            try:
                yield
            finally:
                self._set(f, time.time() + self.interval_s)

    def defer(self, seconds: float) -> None:
        """Make every process wait ``seconds`` from now (arXiv's Retry-After) before asking again."""
        with self.path.open("a+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            self._set(f, max(self._get(f), time.time() + seconds))

    @staticmethod
    def _get(f) -> float:
        """The time the next request may start (0: now)."""
        f.seek(0)
        try:
            return float(f.read().strip() or 0)
        except ValueError:  # a torn write by a killed process: no constraint known
            return 0.0

    @staticmethod
    def _set(f, not_before: float) -> None:
        f.seek(0)
        f.truncate()
        f.write(f"{not_before:.3f}")
        f.flush()


class PoliteClient:
    """GET requests to arXiv, paced and retried; counts the requests it sent."""

    def __init__(self, settings: FeedSettings, state_dir: Path, sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self.pacer = Pacer(state_dir, settings.min_interval_s, sleep)
        self.requests = 0
        self._client = httpx2.Client(
            headers={"User-Agent": user_agent(settings.contact)},
            timeout=settings.timeout_s,
            follow_redirects=True,  # export.arxiv.org/oai2 -> oaipmh.arxiv.org/oai
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> "PoliteClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def waited_s(self) -> float:
        return self.pacer.waited_s

    def get(self, url: str, params: dict[str, str], what: str) -> Response:
        """The response to GET ``url?params``, a 2xx or 4xx other than 403/429 (the caller reads
        it: OAI-PMH errors come in 200s); a FeedError naming ``what`` when arXiv refused, kept
        failing, or asked to wait longer than ``max_retry_after_s``."""
        s = self.settings
        for attempt in range(s.retries + 1):
            last = attempt == s.retries
            try:
                with self.pacer.turn():
                    self.requests += 1
                    response = self._client.get(url, params=params)
            except httpx2.TransportError as e:
                if last:
                    raise FeedError(
                        f"{what}: could not reach {url} ({type(e).__name__}: {e}) after {attempt + 1} tries; "
                        "check the network (or PAPERBOT_FEED__OAI_URL / API_URL) and rerun — nothing was changed."
                    ) from e
                self.pacer.defer(self._backoff_s(attempt))
                continue
            status = response.status_code
            if status in (429, 503) or status >= 500:
                wait = self._retry_after(response, attempt)
                if last or wait > s.max_retry_after_s:
                    why = (
                        f"asked to wait {wait:.0f} s (more than PAPERBOT_FEED__MAX_RETRY_AFTER_S={s.max_retry_after_s:.0f})"
                        if wait > s.max_retry_after_s
                        else f"answered {status} to {attempt + 1} tr{'y' if attempt == 0 else 'ies'}"
                    )
                    raise FeedError(
                        f"{what}: arXiv {why}; it is busy or down — rerun later (the cursor stays, nothing "
                        "was changed)."
                    )
                self.pacer.defer(wait)
                continue
            if status == 403:
                raise FeedError(
                    f"{what}: arXiv refused the request (403 Forbidden). It blocks anonymous and too-fast "
                    "clients: set PAPERBOT_FEED__CONTACT to your e-mail, keep PAPERBOT_FEED__MIN_INTERVAL_S "
                    "at 3 or more, and wait before retrying. Nothing was changed."
                )
            if status >= 400 and status not in (400, 404):
                raise FeedError(f"{what}: arXiv answered {status} {response.reason_phrase}; nothing was changed.")
            return response
        raise AssertionError("unreachable")

    def _backoff_s(self, attempt: int) -> float:
        return max(self.settings.min_interval_s, 1.0) * 2**attempt

    def _retry_after(self, response: Response, attempt: int) -> float:
        """Seconds arXiv asked to wait (Retry-After as seconds or an HTTP date); backoff without."""
        value = response.headers.get("retry-after", "").strip()
        if value:
            try:
                return max(0.0, float(value))
            except ValueError:
                try:
                    return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
                except (TypeError, ValueError, IndexError):
                    pass
        return self._backoff_s(attempt)

