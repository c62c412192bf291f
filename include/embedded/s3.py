"""An S3 endpoint on loopback: moto's ThreadedMotoServer, with a staging bucket ready.

Set ``RECON_TEST_S3_ENDPOINT`` (``http://key:secret@host:port``; keys optional) to use an
external S3-compatible server (MinIO, ...) instead.
"""

from __future__ import annotations

import logging
import urllib.request
from typing import Any
from urllib.parse import unquote, urlsplit

from embedded.base import LOOPBACK, AirflowConnection, Managed, ServiceError, external

ENDPOINT_VARIABLE = "RECON_TEST_S3_ENDPOINT"
DEFAULT_BUCKET = "recon-staging"
REPORTS_BUCKET = "recon-reports"  # where pipelines archive reports (config/pipelines/*.yaml)
REGION = "us-east-1"
# moto accepts any key pair; these only have to look like keys
DUMMY_ACCESS_KEY = "recon-test-access-key"
DUMMY_SECRET_KEY = "recon-test-secret-key"


class EmbeddedS3(Managed):
    """moto's S3 on a free loopback port, with ``recon-staging`` and ``recon-reports`` created (and re-created)."""

    def __init__(self, bucket: str = DEFAULT_BUCKET, *extra_buckets: str) -> None:
        self.bucket = bucket
        self.buckets = (bucket, *(extra_buckets or (REPORTS_BUCKET,)))
        self.endpoint_url = ""
        self.access_key = DUMMY_ACCESS_KEY
        self.secret_key = DUMMY_SECRET_KEY
        self._server: Any = None
        self._external = external(ENDPOINT_VARIABLE)

    def start(self) -> EmbeddedS3:
        if self._external:
            self._use_external(self._external)
        elif self._server is None:
            from moto.server import ThreadedMotoServer

            # werkzeug logs every request on stdout even with verbose=False
            logging.getLogger("werkzeug").setLevel(logging.WARNING)
            # port 0: the OS picks a free port and nothing can take it between pick and bind
            server = ThreadedMotoServer(ip_address=LOOPBACK, port=0, verbose=False)
            server.start()
            self._server = server
            host, port = server.get_host_and_port()
            self.endpoint_url = f"http://{host}:{port}"
        self._ensure_bucket()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def connections(self) -> list[AirflowConnection]:
        """``recon_s3``: the amazon provider reads ``endpoint_url`` and ``region_name`` from extra."""
        return [
            AirflowConnection(
                "recon_s3",
                "aws",
                login=self.access_key,
                password=self.secret_key,
                extra={"endpoint_url": self.endpoint_url, "region_name": REGION},
            )
        ]

    def client(self) -> Any:
        """A plain boto3 S3 client on this endpoint (for fixtures and assertions)."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
        )

    def reset(self) -> None:
        """Forget every bucket and object, then re-create the default bucket."""
        if self._external:
            self._empty_bucket()
            return
        if self._server is None:
            raise ServiceError("the S3 server is not started")
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            if response.status != 200:
                raise ServiceError(f"moto reset answered HTTP {response.status}")
        self._ensure_bucket()

    def _ensure_bucket(self) -> None:
        client = self.client()
        existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
        for bucket in self.buckets:
            if bucket not in existing:
                client.create_bucket(Bucket=bucket)

    def _empty_bucket(self) -> None:
        client = self.client()
        for bucket in self.buckets:
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
                keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
                if keys:
                    client.delete_objects(Bucket=bucket, Delete={"Objects": keys})

    def _use_external(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ServiceError(f"{ENDPOINT_VARIABLE} must look like http://[key:secret@]host:port")
        if parts.username:
            self.access_key = unquote(parts.username)
            self.secret_key = unquote(parts.password or "")
        port = f":{parts.port}" if parts.port else ""
        self.endpoint_url = f"{parts.scheme}://{parts.hostname}{port}"
