"""The local Parquet store: its schema, how rows are keyed, and the ``Store`` that reads and
writes it (with its parts: atomic files, locks, compaction, migration from earlier versions)."""
