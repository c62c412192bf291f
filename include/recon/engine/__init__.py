"""The reconciliation engine: two inputs and a spec in, ``results.parquet`` and ``summary.json`` out.

``prepare`` (columns, normalisation, aggregation), ``fields`` and ``normalize`` (per-field
expressions), ``matching`` (keys joined, statuses and differences), ``at_stake`` (the money
each result row puts at stake: the core's rule, or a domain's given to it), ``partitions`` (hash
partitions of a key space), ``summary`` (counts, money, risk, row conservation), ``writer``
(outputs replaced atomically), ``reconcile`` (all of it for one pair) and ``combine`` (several
sources' results as one).
"""
