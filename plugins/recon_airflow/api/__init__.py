"""The upload API: two CSV files in, a ``file_recon`` run out, its reports back.

A FastAPI app mounted by :class:`recon_airflow.plugin.ReconPlugin` at ``/recon`` inside
Airflow's API server, behind Airflow's own login (the same JWTs as ``/api/v2``). Modules, one
job each: ``app`` (routes), ``auth`` (Airflow's user and DAG-run permissions), ``form`` (the
upload form's options), ``upload_stream`` (the multipart body streamed to disk under a size
limit), ``uploads`` (file checks and atomic staging), ``jobs`` (jobs as ``file_recon`` DAG runs),
``failures`` (why a run failed), ``reports`` (report files), ``schemas`` (response bodies).

Absolute imports only: Airflow's plugin loader also executes each file here as a top-level
module of its own name.
"""
