"""Answering: the evidence gathered for a question, the refusal model, the extractive answer, grounding an LLM's answer."""
