"""The Slack bot (PAPERBOT_SLACK__*; Slack's conventional SLACK_* names are read by the root)."""

from __future__ import annotations


from pydantic import Field, SecretStr

from index.settings.section import Section


class SlackSettings(Section):
    bot_token: SecretStr | None = Field(None, description="Bot token (xoxb-…); from SLACK_BOT_TOKEN.")
    app_token: SecretStr | None = Field(
        None, description="App-level token (xapp-…) for Socket Mode; from SLACK_APP_TOKEN."
    )
    signing_secret: SecretStr | None = Field(
        None, description="Signing secret that HTTP mode verifies requests with; from SLACK_SIGNING_SECRET."
    )
    api_url: str = Field(
        "https://slack.com/api/", description="Slack Web API base URL (a proxy, or a stand-in in tests)."
    )
    slash_command: str = Field("/paper", description="The slash command the bot answers.")
    busy_reaction: str = Field(
        "",
        description="Reaction shown on the question while answering; empty (the default) shows none, since "
        "the loading status (assistant.threads.setStatus) replaces it. A name such as hourglass_flowing_sand "
        "needs the reactions:write scope in the app manifest.",
    )
    loading_status: bool = Field(
        True,
        description="Show Slack's loading status under the question while answering (\"Searching 398 "
        "abstracts…\", \"Checking citations…\"); needs the assistant:write scope.",
    )
    stream_answers: bool = Field(
        True,
        description="With an LLM backend that streams (llm.stream), stream the answer into Slack "
        "(chat.startStream/appendStream/stopStream) a sentence at a time, only sentences that passed the "
        "grounding check, then finish with the sources.",
    )
    suggested_prompts: list[str] = Field(
        default_factory=lambda: [
            "Which papers make LLM inference faster?",
            "What are alternatives to attention for long sequences?",
            "Which papers study retrieval-augmented generation?",
        ],
        max_length=4,
        description="Prompts offered when someone opens paperbot's assistant view (at most 4, Slack's limit).",
    )
    api_retries: int = Field(
        2, ge=0, le=10,
        description="Retries of a Web API call that Slack rate-limited (HTTP 429, after its Retry-After) or "
        "that failed to connect; slack-sdk's retry handlers do the waiting.",
    )
    history_turns: int = Field(
        3, ge=0, description="Earlier questions of a thread taken into account for a follow-up."
    )
    rate_limit_per_minute: int = Field(
        6, ge=1, description="Questions one user may ask per minute; more get a polite wait message."
    )
    answer_workers: int = Field(
        4, ge=1, description="Questions answered at once; acks never wait for these threads."
    )
    queue_limit: int = Field(
        100, ge=0, description="Questions that may wait for a worker; more are told to ask again later."
    )
    drain_timeout_s: float = Field(
        25.0, gt=0, description="On SIGTERM, how long to finish queued and running answers before exiting."
    )
    recover_after_s: float = Field(
        600.0, gt=0,
        description="An unfinished question owned by a process on another host is taken over on start "
        "after this long without progress (on this host a dead owner is seen at once).",
    )
    recover_max_age_s: float = Field(
        3600.0, gt=0,
        description="A question left unfinished by a stopped bot is answered on start if younger than "
        "this, else its thread gets an apology.",
    )
