"""Chunk vectors: the store seam and its backends (the generation's own exact vectors, Chroma), and the PCA prefilter."""
