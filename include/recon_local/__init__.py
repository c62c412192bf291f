"""Run recon on this machine against the embedded servers: ``make demo`` and ``make airflow``."""
