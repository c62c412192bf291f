"""The pipelines' own settings (``config/pipelines/<dag_id>.yaml``), validated: pure, read by
tasks at run time and by the seeders that put a day where a pipeline looks for it.

- ``base``: what every pipeline config has (recon name, report archive) and its loader;
- ``aum``: the registrars of ``aum_recon`` (their specs, SFTP paths, AMC codes);
- ``payments``: the processors of ``payments_recon`` (specs, settlement window, thresholds);
- ``volume``: the rows each side of a source is expected to bring (every pipeline's
  ``volume:`` section), and what a day that falls short is.
"""
