"""The channel digest: each opted-in channel gets the new papers it cares about, ranked by what
it asked (store.py keeps the subscriptions and what was sent; history.py reads a channel's
questions, cited papers and votes; rank.py scores new papers against them; schedule.py says
when a digest falls due; build.py puts one together; cli.py is `paperbot digest`). The Slack side is bot/slack/digest.py."""
