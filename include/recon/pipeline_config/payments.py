"""The payments_recon pipeline's configuration (``config/pipelines/payments_recon.yaml``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

from pydantic import Field

from recon.pipeline_config.base import PipelineConfig, Strict, config_root, load_pipeline_config

CONFIG_NAME = "payments_recon"
Processor = Literal["stripe", "paypal", "square"]  # the processors recon has hooks for


class LedgerQuery(Strict):
    sql: str  # a file in include/sql
    days_around: int = Field(default=1, ge=1, le=7)


class PaymentsConfig(PipelineConfig):
    model_config = Strict.model_config
    spec: str  # relative to the config folder
    processors: list[Processor] = Field(min_length=1)
    settlement_window_hours: float = Field(default=1.0, ge=0, le=24)
    ledger: LedgerQuery

    def spec_path(self) -> Path:
        return config_root() / self.spec

    def ledger_window(self, business_date: dt.date) -> dict[str, str]:
        """The ledger query's ``start`` / ``end``: D and ``days_around`` days either side (UTC)."""
        start = dt.datetime.combine(business_date, dt.time(), dt.UTC)
        around = dt.timedelta(days=self.ledger.days_around)
        return {
            "start": (start - around).isoformat(),
            "end": (start + dt.timedelta(days=1) + around).isoformat(),
        }


def load_payments_config(path: Path | None = None) -> PaymentsConfig:
    return load_pipeline_config(PaymentsConfig, CONFIG_NAME, path)
