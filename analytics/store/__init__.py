"""The local Parquet store: its schema, how rows are keyed, and the ``Store`` that reads and
writes it."""
