"""Where reconciled partitions are stored for people to query (Postgres schema ``recon``)."""
