"""recon's Airflow plugin: the upload API, mounted at ``/recon`` in Airflow's API server.

Airflow imports plugins in every component (scheduler, dag-processor, each task), but only the
API server reads ``fastapi_apps``: the app (FastAPI, Airflow's security module, the core's
readers) is imported when it is read, so the other components pay nothing for it.
"""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin


class ReconPlugin(AirflowPlugin):
    """Registers the upload API (``/recon/api/v1/reconciliations``, docs at ``/recon/docs``)."""

    name = "recon"

    @property
    def fastapi_apps(self) -> list[dict[str, Any]]:  # type: ignore[override]
        from recon_airflow.api.app import URL_PREFIX, app

        return [{"app": app, "url_prefix": URL_PREFIX, "name": "recon upload API"}]
