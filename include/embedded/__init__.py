"""Real servers on 127.0.0.1 for the tests, `make demo` and `make airflow` (never production).

Each service starts from the project's own code on a free port, exposes the Airflow connection
the pipelines use (``AIRFLOW_CONN_<ID>`` JSON), and can be pointed at an external server with
an environment variable instead (see each module).
"""
