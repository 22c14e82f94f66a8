"""Spark: the same worker and task tables as the local engine, computed on a cluster.

``engine`` runs the project's own metric functions on Spark's executors, ``session`` gets a
SparkSession (the active one in a cluster, else a local one, started within a bound),
``store_files`` lists the store (a folder or a published ``s3://`` prefix) as our own readers do,
and ``job`` is the entry point to submit to EMR Serverless or AWS Glue. Nothing here is imported
unless Spark is asked for: PySpark and a JVM cost seconds to load.
"""
