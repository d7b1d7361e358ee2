"""The Web API clients the Slack bot posts with, and how they retry.

slack-sdk retries only connection errors by default, once. Here every client (the App's
WebClient and the ones posting to a slash command's response_url) also retries HTTP 429:
slack-sdk's RateLimitErrorRetryHandler waits the Retry-After Slack sent (plus up to a
second of jitter) before each retry. Retries run on the answering worker that made the
call, never on a thread that acks."""

from __future__ import annotations

from typing import Any

from index.settings import SlackSettings


def retry_handlers(s: SlackSettings) -> list[Any]:
    from slack_sdk.http_retry import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

    return [ConnectionErrorRetryHandler(max_retry_count=s.api_retries),
            RateLimitErrorRetryHandler(max_retry_count=s.api_retries)]  # fmt: skip


def web_client(s: SlackSettings):
    """The bot's WebClient (token from settings) with the retry handlers."""
    from slack_sdk import WebClient

    assert s.bot_token is not None
    return WebClient(token=s.bot_token.get_secret_value(), base_url=s.api_url, retry_handlers=retry_handlers(s))


def webhook_client(url: str, s: SlackSettings):
    """A client for a slash command's response_url, with the same retries."""
    from slack_sdk.webhook import WebhookClient

    return WebhookClient(url, retry_handlers=retry_handlers(s))
