"""``gt-throughput``, the command line: ``main`` assembles the commands, one module each."""
