"""Everything Airflow-facing in recon: operators, notifiers, stores and the plugin.

The pure reconciliation core lives in ``include/recon`` and never imports Airflow; this package
moves data between real systems and that core, one partition (business date, source) at a time.
"""
