"""Where papers come from: one module per input kind and a registry of them.

- ``registry``: the file kinds by name ending; ``expand_paths`` and ``read_papers``, the
  functions the rest of paperbot calls.
- ``files``: reading a file safely (encodings, binary files, line numbers in messages).
- ``listing``: scraped ``.txt`` abstract listings.
- ``records``: JSON Lines / JSON records, and the record -> ``Paper`` mappings every
  record-shaped source shares (``paper_from_record``, ``paper_from_arxiv``).
- ``table``: CSV / TSV tables.
- ``checks``: what a paper must be, whatever its source (limits, text checks); in-memory
  papers are checked with it by ``index.ingest.ingest_papers``.
"""
