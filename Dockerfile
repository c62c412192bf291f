# recon on Airflow 3.3 (Python 3.11). Dependencies come from the locked requirements.txt
# (generated from uv.lock by `make lock`), so the image has exactly the tested set.
FROM python:3.11.7-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    AIRFLOW_HOME=/opt/airflow \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/recon/dags \
    AIRFLOW__CORE__PLUGINS_FOLDER=/opt/recon/plugins \
    PYTHONPATH=/opt/recon/include:/opt/recon/plugins

RUN useradd --create-home --uid 50000 airflow
WORKDIR /opt/recon

COPY requirements.txt .
# --require-hashes: every wheel is the one in the lock; compileall: imports are ~10x faster
RUN pip install --require-hashes -r requirements.txt \
    && (python -m compileall -q /usr/local/lib/python3.11/site-packages || true)

COPY include/ include/
COPY config/ config/
COPY plugins/ plugins/
COPY dags/ dags/
RUN python -m compileall -q include plugins dags && mkdir -p $AIRFLOW_HOME && chown -R airflow $AIRFLOW_HOME

USER airflow
EXPOSE 8080
# the core's CLI works out of the box: docker run IMAGE python -m recon compare --help
CMD ["airflow", "standalone"]
