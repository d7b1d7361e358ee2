"""Understanding a question once: cleaned, its instructions to the bot removed, its language, its spelling; the Query every later step reads."""
