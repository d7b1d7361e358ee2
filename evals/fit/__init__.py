"""Fitting scripts: the refusal model and learned fusion (written as data to bot/fitted/), answer and fusion weights tuned on dev/train only."""
