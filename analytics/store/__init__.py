"""The local Parquet store: its schema, how rows are keyed, the compaction journal, and the
``Store`` that reads and writes it."""
