"""The aum_recon pipeline's configuration (``config/pipelines/aum_recon.yaml``), validated.

Read by tasks at run time; a mistake fails the run's first task with the file and the field.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from recon.errors import SpecError
from recon_airflow.settings import config_root

CONFIG_FILE = "pipelines/aum_recon.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReportDate(_Strict):
    field: str
    format: str


class Registrar(_Strict):
    spec: str  # relative to the config folder
    remote_path: str  # str.format template; {date} is the business date
    report_date: ReportDate
    amc_codes: list[str] = Field(min_length=1)

    def remote_file(self, business_date: dt.date) -> str:
        return self.remote_path.format(date=business_date)


class Reports(_Strict):
    s3_bucket: str
    s3_prefix: str = "reports"
    presign_seconds: int = Field(default=86_400, gt=0, le=7 * 86_400)


class AumConfig(_Strict):
    recon: str
    registrars: dict[str, Registrar] = Field(min_length=1)
    reports: Reports

    def registrar(self, name: str) -> Registrar:
        try:
            return self.registrars[name]
        except KeyError:
            known = ", ".join(sorted(self.registrars))
            raise SpecError(f"unknown registrar {name!r}; configured: {known}") from None

    def spec_path(self, name: str) -> Path:
        return config_root() / self.registrar(name).spec

    def owner_of(self) -> dict[str, str]:
        """AMC code -> the registrar that services it."""
        return {amc: name for name, reg in self.registrars.items() for amc in reg.amc_codes}


def load_aum_config(path: Path | None = None) -> AumConfig:
    """Read and validate the pipeline config; every problem named with the file."""
    path = path or config_root() / CONFIG_FILE
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SpecError(f"{path}: cannot read the pipeline config: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: not valid YAML: {exc}") from None
    try:
        return AumConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise SpecError(f"{path}: {problems}") from None
