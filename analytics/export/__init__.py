"""CSV exports: the one CSV writer, pseudonyms, the workers and tasks tables, where a file
may go."""
