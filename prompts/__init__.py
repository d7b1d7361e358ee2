"""The prompt files (``*.txt``), shipped as package data and read by ``bot.prompts``."""
