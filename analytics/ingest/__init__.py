"""From a JSON line to rows for the store: which files, what counts as an event, the time forms,
the exact parser, the compiled fast scan, and the ingest run that puts them together."""
