"""Ground Truth's job outputs: worker responses, consolidated labels and gold answers (issue 11).

::

    parse    bytes -> rows: worker-response files, output-manifest lines (pure, no I/O)
    files    job output folders on disk (``gt-throughput ingest``)
    tables   the store tables ``responses``, ``consolidated`` and ``gold``: each response once
    s3       job output folders in S3 (``gt-throughput sync``), incrementally

The numbers computed from these tables (active time, agreement, gold accuracy) are in
``analytics.metrics``; this package only reads and stores.
"""
