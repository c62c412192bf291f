"""The aum_recon pipeline's configuration (``config/pipelines/aum_recon.yaml``), validated."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic import Field

from recon.errors import SpecError
from recon.pipeline_config.base import PipelineConfig, Strict, config_root, load_pipeline_config

CONFIG_NAME = "aum_recon"


class ReportDate(Strict):
    field: str
    format: str


class Registrar(Strict):
    spec: str  # relative to the config folder
    remote_path: str  # str.format template; {date} is the business date
    report_date: ReportDate
    amc_codes: list[str] = Field(min_length=1)

    def remote_file(self, business_date: dt.date) -> str:
        return self.remote_path.format(date=business_date)


class AumConfig(PipelineConfig):
    model_config = Strict.model_config
    registrars: dict[str, Registrar] = Field(min_length=1)

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
    return load_pipeline_config(AumConfig, CONFIG_NAME, path)
