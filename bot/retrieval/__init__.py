"""Retrieval: both retrievers' candidates for a query, fused into one ranking of papers (weighted, RRF or learned)."""
