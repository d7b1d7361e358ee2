"""The Slack bot: Bolt app, replies, streaming, Block Kit, the Web API client and the log of requests in flight."""
