"""Fitted models stored as data: one JSON file per model (its parameters and how it was fitted),
written by the fitting scripts in evals/fit/ and read through ``bot.fitted.models.load``."""
