"""Following arXiv: harvest categories through OAI-PMH (``oai``), fetch single papers through
the export API (``api``), both through one polite HTTP client (``http``); the records become
papers (``records``) and one ingest per run (``run``), with each set's cursor kept durably
(``cursor``); ``schedule`` runs the harvest again and again."""
