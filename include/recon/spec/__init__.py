"""The recon spec: what to match and compare, validated, with every mistake located.

- ``model``: the pydantic model (``ReconSpec`` and its parts);
- ``loader``: YAML -> ``ReconSpec``, each problem with its path, line and a hint;
- ``adhoc``: a spec built from a request's options (``file_recon``, the upload API).
"""

from __future__ import annotations

from recon.spec.loader import (
    inner_model,
    load_spec,
    located_problem,
    parse_spec,
    spec_from_dict,
    yaml_line,
)
from recon.spec.model import (
    TEXT_RULES,
    AggregateSide,
    CompareRule,
    KeySpec,
    NormalizeStep,
    NumberFormat,
    ReconSpec,
)

__all__ = [
    "TEXT_RULES",
    "AggregateSide",
    "CompareRule",
    "KeySpec",
    "NormalizeStep",
    "NumberFormat",
    "ReconSpec",
    "inner_model",
    "load_spec",
    "located_problem",
    "parse_spec",
    "spec_from_dict",
    "yaml_line",
]
