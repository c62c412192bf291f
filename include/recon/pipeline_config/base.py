"""What every pipeline's configuration (``config/pipelines/<dag_id>.yaml``) has, and its loader.

Read by tasks at run time (the DAG files read nothing); a mistake fails the run's first task
with the file and the field.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from recon.errors import SpecError
from recon.pipeline_config.volume import VolumeSettings
from recon.yaml_file import load_yaml, yaml_problem

REPO_ROOT = Path(__file__).resolve().parents[3]


def config_root() -> Path:
    """The project's ``config/`` folder (``RECON_CONFIG_DIR`` to point elsewhere)."""
    return Path(os.environ.get("RECON_CONFIG_DIR") or REPO_ROOT / "config")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Reports(Strict):
    """Where reports are archived: ``s3://{s3_bucket}/{s3_prefix}/{date}/{recon}/{source}/``."""

    s3_bucket: str
    s3_prefix: str = "reports"
    presign_seconds: int = Field(default=86_400, gt=0, le=7 * 86_400)


class PipelineConfig(BaseModel):
    """The part every pipeline has; read alone (e.g. by publish_all) the rest is ignored, while
    each pipeline's own model forbids unknown keys."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    recon: str
    reports: Reports
    volume: VolumeSettings = Field(default_factory=VolumeSettings)  # rows expected per side


Config = TypeVar("Config", bound=PipelineConfig)


def load_pipeline_config(model: type[Config], name: str, path: Path | None = None) -> Config:
    """Read and validate ``config/pipelines/<name>.yaml``; every problem named with the file."""
    path = path or config_root() / "pipelines" / f"{name}.yaml"
    try:
        raw, _ = load_yaml(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SpecError(f"{path}: cannot read the pipeline config: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        number, reason = yaml_problem(exc)
        line = f" line {number}:" if number is not None else ""
        raise SpecError(f"{path}:{line} not valid YAML: {reason}") from None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise SpecError(f"{path}: {'; '.join(validation_problems(exc))}") from None


def validation_problems(exc: ValidationError, names: Mapping[str, str] | None = None) -> list[str]:
    """What pydantic refused, one ``field.path: message`` per problem.

    :param names: what the user calls a top-level field, where it differs (a form's field names)
    """
    found = []
    for err in exc.errors():
        loc = [str(part) for part in err["loc"]]
        if loc and names:
            loc[0] = names.get(loc[0], loc[0])
        found.append(
            f"{'.'.join(loc) or 'request'}: {str(err['msg']).removeprefix('Value error, ')}"
        )
    return found
