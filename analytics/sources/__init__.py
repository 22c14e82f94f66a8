"""Readers of the AWS APIs the sync pulls from, one module per source.

Each module has two kinds of functions: *fetch* functions that take a boto3 client (built by
:func:`analytics.aws.make_client`) and return the API's response dicts, and pure *transform*
functions that turn response dicts into rows of a store table (:mod:`analytics.store.schema`). The
transforms take either live boto3 responses (``datetime`` objects) or recorded ones (ISO-8601
strings), so :mod:`analytics.sample` feeds them the recordings under ``sample_logs/aws/``.
"""
