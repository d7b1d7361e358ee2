"""Chunk vectors: the store seam (base.py), its registry, the backends (exact.py: each
generation's own vectors; chroma.py: a Chroma server, and the export to a Chroma folder), and
the exact store's PCA prefilter."""
